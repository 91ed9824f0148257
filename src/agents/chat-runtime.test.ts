import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { manualClock } from '../core/clock.ts';
import { cryptoRandom } from '../core/ids.ts';
import { contosoMail, createMemoryStore } from '../../test/support/agents-fixtures.ts';
import type { ScriptedOpenAiServer } from '../../test/support/agents-openai-server.ts';
import {
  afterToolResult,
  lastUserSays,
  startScriptedOpenAiServer,
} from '../../test/support/agents-openai-server.ts';
import { createAgentRepository } from './agent-repository.ts';
import type { AgentRepository } from './agent-repository.ts';
import { createChatRuntime } from './chat-runtime.ts';
import { createOpenAiCompatibleProvider } from './llm/openai-compatible.ts';
import type { Caller, InvokeTool, ToolInvocation } from './ports.ts';
import { createRunHistory } from './run-history.ts';
import { createToolRunner } from './tool-runner.ts';

const TENANT = 'tenant-1';
const alice: Caller = {
  tenantId: TENANT,
  userObjectId: 'alice-oid',
  userPrincipalName: 'alice@contoso.test',
};
const bob: Caller = { tenantId: TENANT, userObjectId: 'bob-oid', userPrincipalName: 'bob@contoso.test' };
const admin: Caller = { tenantId: TENANT, userObjectId: 'admin-oid', isAdministrator: true };

/** Alice has a connection and mail; Bob has a connection but no mailbox (403); Carol has no connection. */
function fakeInvoke(
  calls: { caller: Caller; invocation: ToolInvocation }[],
  connected: Set<string>,
): InvokeTool {
  return async (caller, invocation) => {
    calls.push({ caller, invocation });
    if (!connected.has(caller.userObjectId))
      return {
        kind: 'consent-required',
        card: {
          connectorId: 'mail',
          connectorName: 'Contoso Mail',
          url: 'https://behalf.test/consent/x',
          message: 'Sign in to Contoso Mail to continue.',
        },
      };
    if (caller.userObjectId === 'bob-oid')
      return {
        kind: 'failed',
        status: 403,
        code: 'ErrorAccessDenied',
        message: 'Access is denied.',
        connectionId: 'conn-bob',
      };
    return {
      kind: 'ok',
      status: 200,
      body: { value: [{ subject: 'Quarterly numbers', isRead: false }] },
      connectionId: `conn-${caller.userObjectId}`,
    };
  };
}

describe('chat runtime', () => {
  let llmServer: ScriptedOpenAiServer;
  const clock = manualClock(Date.UTC(2026, 0, 5));
  const store = createMemoryStore({ clock });
  const mail = contosoMail();
  const agents = createAgentRepository({
    store,
    clock,
    loadConnector: async (_t, id) => (id === 'mail' ? mail : undefined),
  });
  const history = createRunHistory({ store, clock, random: cryptoRandom });
  const calls: { caller: Caller; invocation: ToolInvocation }[] = [];
  const connected = new Set(['alice-oid', 'bob-oid']);
  const runTool = createToolRunner({ invoke: fakeInvoke(calls, connected), history, clock });

  before(async () => {
    llmServer = await startScriptedOpenAiServer([
      {
        when: lastUserSays(/unread emails/i),
        reply: () => ({ toolCalls: [{ name: 'get-10-latest-emails', arguments: {} }] }),
      },
      {
        when: lastUserSays(/send a note/i),
        reply: () => ({
          toolCalls: [
            {
              name: 'send-email',
              arguments: {
                body: { message: { toRecipients: [{ emailAddress: { address: 'bob@contoso.test' } }] } },
              },
            },
          ],
        }),
      },
      {
        when: lastUserSays(/bad args/i),
        reply: () => ({ toolCalls: [{ name: 'get-10-latest-emails', arguments: { $select: 42 } }] }),
      },
      {
        when: afterToolResult,
        reply: (r) => {
          const result = String(r.messages.at(-1)?.content ?? '');
          if (result.includes('ErrorAccessDenied'))
            return { content: 'You might not have access to this mailbox.' };
          if (result.includes('Invalid arguments')) return { content: 'I could not run that.' };
          if (result.startsWith('Waiting')) return { content: 'Waiting for you.' };
          return {
            content: `You have 1 unread email: ${result.includes('Quarterly numbers') ? 'Quarterly numbers' : '?'}`,
          };
        },
      },
    ]);
    await agents.create(TENANT, {
      displayName: 'Admin agent',
      instructions: 'Help the signed-in person with their mail.',
      tools: [
        {
          connectorId: 'mail',
          operationId: 'GetEmails',
          title: 'Get 10 latest emails',
          description: 'Gets the 10 most recent emails from the Inbox for the signed-in user.',
          fixedValues: { folder: 'inbox', $filter: 'isRead eq false', $top: 10 },
          resourceNoun: 'this mailbox',
        },
        {
          name: 'send-email',
          connectorId: 'mail',
          operationId: 'SendEmail',
          identity: 'app-only',
          connectionId: 'shared-mail',
        },
      ],
    });
  });
  after(() => llmServer.close());

  const chat = (
    llm = createOpenAiCompatibleProvider({
      baseUrl: llmServer.baseUrl,
      apiKey: 'sk-test',
      model: 'scripted',
      timeoutMs: 5000,
    }),
  ) => createChatRuntime({ store, agents, runTool, llm, clock, random: cryptoRandom });

  it('Alice asks for unread mail: the model calls the tool with the fixed values and answers', async () => {
    const view = await chat().send(alice, { agent: 'admin-agent', text: 'What unread emails do I have?' });
    assert.equal(view.entries.at(-1)!.text, 'You have 1 unread email: Quarterly numbers');
    const call = calls.at(-1)!;
    assert.equal(call.caller.userObjectId, 'alice-oid');
    assert.equal(call.invocation.identity, 'delegated');
    assert.deepEqual(call.invocation.arguments, { folder: 'inbox', $filter: 'isRead eq false', $top: 10 });
    const request = llmServer.requests.at(-2)!;
    assert.deepEqual(
      request.tools!.map((t) => t.function.name),
      ['get-10-latest-emails', 'send-email'],
    );
    assert.equal(llmServer.authorizations.at(-1), 'Bearer sk-test');
  });

  it('Bob gets the permission message with remediation', async () => {
    const view = await chat().send(bob, { agent: 'admin-agent', text: 'What unread emails do I have?' });
    assert.equal(view.entries.at(-1)!.text, 'You might not have access to this mailbox.');
    const toolMessage = llmServer.requests.at(-1)!.messages.at(-1)!;
    assert.match(String(toolMessage.content), /Ask the owner of this mailbox/);
  });

  it('a person without a connection gets the consent card, and the retry works after consent', async () => {
    const carol: Caller = { tenantId: TENANT, userObjectId: 'carol-oid' };
    const runtime = chat();
    const first = await runtime.send(carol, { agent: 'admin-agent', text: '/get-10-latest-emails' });
    assert.equal(first.entries.at(-1)!.card?.url, 'https://behalf.test/consent/x');
    assert.equal(first.pending?.reason, 'consent');
    connected.add('carol-oid');
    const retried = await runtime.decide(carol, {
      conversationId: first.id,
      pendingId: first.pending!.id,
      decision: 'retry',
    });
    assert.match(retried.entries.at(-1)!.text, /Quarterly numbers/);
    assert.equal(retried.pending, undefined);
  });

  it('an app-only write asks for confirmation before it runs, and runs only when confirmed', async () => {
    const runtime = chat();
    const before = calls.length;
    const asked = await runtime.send(alice, { agent: 'admin-agent', text: 'Send a note to Bob' });
    assert.equal(calls.length, before, 'nothing ran before confirmation');
    const entry = asked.entries.at(-1)!;
    assert.ok(entry.confirmation);
    assert.match(entry.text, /app-only/);
    const done = await runtime.decide(alice, {
      conversationId: asked.id,
      pendingId: entry.confirmation.id,
      decision: 'confirm',
    });
    assert.equal(calls.length, before + 1);
    assert.equal(calls.at(-1)!.invocation.identity, 'app-only');
    assert.equal(done.pending, undefined);
  });

  it('a cancelled confirmation runs nothing', async () => {
    const runtime = chat();
    const before = calls.length;
    const asked = await runtime.send(alice, {
      agent: 'admin-agent',
      text: '/send-email body={"message":{"toRecipients":[]}}',
    });
    const done = await runtime.decide(alice, {
      conversationId: asked.id,
      pendingId: asked.pending!.id,
      decision: 'cancel',
    });
    assert.equal(calls.length, before);
    assert.match(done.entries.at(-1)!.text, /Cancelled/);
  });

  it('invalid model arguments never reach the connector', async () => {
    const before = calls.length;
    const view = await chat().send(alice, { agent: 'admin-agent', text: 'bad args please' });
    assert.equal(calls.length, before);
    assert.equal(view.entries.at(-1)!.text, 'I could not run that.');
  });

  it('when the model is down the chat says so plainly, keeps the conversation, and direct mode still works', async () => {
    const down = createOpenAiCompatibleProvider({
      baseUrl: 'http://127.0.0.1:9/v1',
      model: 'm',
      timeoutMs: 2000,
    });
    const runtime = chat(down);
    const first = await runtime.send(alice, { agent: 'admin-agent', text: 'What unread emails do I have?' });
    assert.match(
      first.entries.at(-1)!.text,
      /unavailable right now: the model could not be reached\. Your conversation is kept/,
    );
    const second = await runtime.send(alice, {
      agent: 'admin-agent',
      conversationId: first.id,
      text: '/get-10-latest-emails',
    });
    assert.equal(second.entries.length, 4);
    assert.match(second.entries.at(-1)!.text, /Quarterly numbers/);
    const help = await runtime.send(alice, { agent: 'admin-agent', conversationId: first.id, text: '/help' });
    assert.match(help.entries.at(-1)!.text, /\/get-10-latest-emails \[\$select=…\]/);
  });

  it("a refused key is reported without the model's body; someone else's conversation reads as absent", async () => {
    const failing = await startScriptedOpenAiServer([{ when: () => true, reply: () => ({ status: 401 }) }]);
    try {
      const runtime = chat(
        createOpenAiCompatibleProvider({
          baseUrl: failing.baseUrl,
          apiKey: 'wrong',
          model: 'm',
          timeoutMs: 2000,
        }),
      );
      const view = await runtime.send(alice, { agent: 'admin-agent', text: 'hello' });
      assert.match(view.entries.at(-1)!.text, /refused the configured key \(HTTP 401\)/);
      await assert.rejects(runtime.get(bob, view.id), { status: 404 });
    } finally {
      await failing.close();
    }
  });

  it('run history: each person sees their own runs; an administrator sees both identities', async () => {
    const mine = await history.list(alice);
    assert.ok(mine.length > 0);
    assert.ok(mine.every((r) => r.userObjectId === 'alice-oid'));
    assert.ok(
      mine.some(
        (r) => r.identity === 'app-only' && r.outcome === 'succeeded' && r.connectionId === 'conn-alice-oid',
      ),
    );
    const bobs = await history.list(bob);
    assert.deepEqual([...new Set(bobs.map((r) => r.outcome))], ['forbidden']);
    assert.equal(bobs[0]!.connectionId, 'conn-bob');
    const all = await history.list(admin, { agent: 'admin-agent' });
    assert.deepEqual([...new Set(all.map((r) => r.userObjectId))].sort(), [
      'alice-oid',
      'bob-oid',
      'carol-oid',
    ]);
  });

  it('an MCP server\'s stand-in: after consent, "try again" names the server\'s tools that replaced it', async () => {
    const dave: Caller = { tenantId: TENANT, userObjectId: 'dave-oid' };
    // Like an MCP connector: one "Connect to …" stand-in until the person is connected, then its tools.
    const expanding: AgentRepository = {
      ...agents,
      async tools(agent, caller) {
        const [mail] = await agents.tools(agent, caller);
        if (!caller || !connected.has(caller.userObjectId))
          return [{ ...mail!, name: 'connect-mail', title: 'Connect to Contoso Mail' }];
        return [mail!];
      },
    };
    const runtime = createChatRuntime({
      store,
      agents: expanding,
      runTool,
      llm: createOpenAiCompatibleProvider({
        baseUrl: llmServer.baseUrl,
        apiKey: 'sk-test',
        model: 'scripted',
        timeoutMs: 5000,
      }),
      clock,
      random: cryptoRandom,
    });
    const first = await runtime.send(dave, { agent: 'admin-agent', text: '/connect-mail' });
    assert.equal(first.pending?.reason, 'consent');
    connected.add('dave-oid');
    const retried = await runtime.decide(dave, {
      conversationId: first.id,
      pendingId: first.pending!.id,
      decision: 'retry',
    });
    assert.equal(
      retried.entries.at(-1)!.text,
      'Connected. Now available: "Get 10 latest emails". Ask again and I will use them.',
    );
    assert.equal(retried.pending, undefined);
  });
});
