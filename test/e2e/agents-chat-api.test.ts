import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import type { ChatDemo } from '../support/agents-chat-demo.ts';
import { startChatDemo } from '../support/agents-chat-demo.ts';
import type { ScriptedOpenAiServer } from '../support/agents-openai-server.ts';
import { afterToolResult, lastUserSays, startScriptedOpenAiServer } from '../support/agents-openai-server.ts';

/**
 * The chat API as startBehalf mounts it, over HTTPS on the demo tenant: people sign in with the Behalf
 * Chat client (a token for Behalf Connections), run "Get 10 latest emails" directly or through a scripted
 * OpenAI-compatible model, and every run is attributed to them.
 */
const CHAT = '/chat/api/conversations';
const API_KEY = 'sk-scripted-test-key';
let env: ChatDemo;
let llm: ScriptedOpenAiServer;
let alice: string;
let bob: string;

before(async () => {
  llm = await startScriptedOpenAiServer([
    { when: lastUserSays(/model is down/), reply: () => ({ status: 503 }) },
    {
      when: lastUserSays(/unread/i),
      reply: () => ({ toolCalls: [{ name: 'get-10-latest-emails', arguments: {} }] }),
    },
    {
      when: afterToolResult,
      reply: (r) => {
        const result = String(r.messages.at(-1)?.content ?? '');
        return {
          content: /error/.test(result)
            ? 'I could not read that mailbox: you might not have access to it.'
            : `You have ${(JSON.parse(result) as { value: unknown[] }).value.length} unread emails.`,
        };
      },
    },
  ]);
  env = await startChatDemo({ baseUrl: llm.baseUrl, apiKey: API_KEY });
  alice = await env.userToken('alice');
  bob = await env.userToken('bob');
});

after(async () => {
  await env?.close();
  await llm?.close();
});

interface Entry {
  role: string;
  text: string;
  problem?: { code: string; remediation: string };
  notice?: boolean;
}
const lastReply = (body: { entries: Entry[] }) => body.entries.at(-1)!;

test('the chat API refuses anonymous callers and tokens for another audience', async () => {
  const anonymous = await env.call('POST', CHAT, undefined, { agent: 'admin-agent', text: '/help' });
  assert.equal(anonymous.status, 401);
  const graph = await env.call('GET', '/v1.0/behalf/runs', 'not-a-token');
  assert.equal(graph.status, 401);
});

test('Alice runs the tool in direct mode and gets her unread mail', async () => {
  const response = await env.call('POST', CHAT, alice, {
    agent: 'admin-agent',
    text: '/get-10-latest-emails',
  });
  assert.equal(response.status, 200, JSON.stringify(response.body));
  const reply = lastReply(response.body as { entries: Entry[] });
  assert.equal(reply.role, 'assistant');
  assert.equal(reply.problem, undefined, reply.text);
  assert.match(reply.text, /^Get 10 latest emails:/);
  assert.match(reply.text, /alice@contoso\.test/);
  assert.doesNotMatch(reply.text, /"isRead": true/);
  assert.ok(!JSON.stringify(response.body).includes(alice.slice(0, 40)), 'the token never comes back');
});

test("Bob gets the permission message with its remediation, never Alice's mail", async () => {
  const response = await env.call('POST', CHAT, bob, { agent: 'admin-agent', text: '/get-10-latest-emails' });
  assert.equal(response.status, 200, JSON.stringify(response.body));
  const reply = lastReply(response.body as { entries: Entry[] });
  assert.ok(reply.problem, reply.text);
  assert.match(reply.text, /You might not have access to this mailbox\./);
  assert.doesNotMatch(reply.text, /alice@contoso\.test/);
});

test("the model's tool call runs the tool as the person chatting", async () => {
  const before = llm.requests.length;
  const asAlice = await env.call('POST', CHAT, alice, { agent: 'admin-agent', text: 'Any unread emails?' });
  assert.equal(asAlice.status, 200, JSON.stringify(asAlice.body));
  assert.match(lastReply(asAlice.body as { entries: Entry[] }).text, /^You have [1-9]\d* unread emails\.$/);
  const sent = llm.requests.slice(before);
  assert.equal(sent[0]!.tools?.[0]?.function.name, 'get-10-latest-emails');
  // The tool result the model read is Alice's mail; the key went to the model only as its bearer.
  assert.match(String(sent[1]!.messages.at(-1)?.content), /alice@contoso\.test/);
  assert.ok(llm.authorizations.every((a) => a === `Bearer ${API_KEY}`));
  assert.ok(!JSON.stringify(sent).includes(alice.slice(0, 40)), 'no user token reaches the model');

  const asBob = await env.call('POST', CHAT, bob, { agent: 'admin-agent', text: 'Any unread emails?' });
  assert.equal(asBob.status, 200);
  const bobReply = lastReply(asBob.body as { entries: Entry[] });
  assert.match(bobReply.text, /might not have access/);
  assert.doesNotMatch(JSON.stringify(llm.requests.at(-1)), /alice@contoso\.test/);
});

test('with the model down the chat says so plainly and keeps the conversation', async () => {
  const first = await env.call('POST', CHAT, alice, { agent: 'admin-agent', text: 'hello' });
  const id = (first.body as { id: string }).id;
  const down = await env.call('POST', CHAT, alice, {
    agent: 'admin-agent',
    conversationId: id,
    text: 'the model is down?',
  });
  assert.equal(down.status, 200, JSON.stringify(down.body));
  const body = down.body as { id: string; entries: Entry[] };
  assert.equal(body.id, id);
  const reply = lastReply(body);
  assert.equal(reply.notice, true);
  assert.match(reply.text, /unavailable right now/);
  assert.match(reply.text, /conversation is kept/);
  // Earlier turns are still there, and direct mode still works in the same conversation.
  assert.equal(body.entries[0]!.text, 'hello');
  const direct = await env.call('POST', CHAT, alice, {
    agent: 'admin-agent',
    conversationId: id,
    text: '/get-10-latest-emails',
  });
  assert.match(lastReply(direct.body as { entries: Entry[] }).text, /alice@contoso\.test/);
  const reread = await env.call('GET', `${CHAT}/${id}`, alice);
  assert.equal((reread.body as { entries: Entry[] }).entries.length, 6);
  assert.equal(
    (await env.call('GET', `${CHAT}/${id}`, bob)).status,
    404,
    "Bob cannot read Alice's conversation",
  );
});

test("run history: each person sees their own runs, the administrator everyone's", async () => {
  const aliceName = env.password('alice').username;
  const bobName = env.password('bob').username;
  const own = await env.call('GET', '/v1.0/behalf/runs?agent=admin-agent', alice);
  assert.equal(own.status, 200);
  const ownRuns = (
    own.body as { value: { userName?: string; outcome: string; channel: string; identity: string }[] }
  ).value;
  assert.ok(ownRuns.length >= 3);
  assert.ok(ownRuns.every((r) => r.userName === aliceName && r.outcome === 'succeeded'));
  assert.ok(ownRuns.every((r) => r.channel === 'chat' && r.identity === 'delegated'));

  const all = await env.call('GET', '/v1.0/behalf/runs?agent=admin-agent', await env.userToken('admin'));
  const runs = (all.body as { value: { userName?: string; outcome: string }[] }).value;
  assert.ok(runs.some((r) => r.userName === bobName && r.outcome === 'forbidden'));
  assert.ok(runs.some((r) => r.userName === aliceName && r.outcome === 'succeeded'));
});
