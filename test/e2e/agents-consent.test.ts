import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { DEMO_APP_IDS } from '../../examples/demo-apis.ts';
import type { ChatDemo } from '../support/agents-chat-demo.ts';
import { startChatDemo } from '../support/agents-chat-demo.ts';

/**
 * The consent card: without the pre-authorization of Behalf Connections on the connector's app, single
 * sign-on cannot serve Alice, so the chat shows the card (the consent link) and waits, with the run
 * recorded as consent-required. Once the administrator restores the pre-authorization (the remediation
 * the card's message names), "try again" runs the same call in the same conversation. Completing the
 * consent link itself in a browser is a known gap (docs/agents.md).
 */
let env: ChatDemo;
let preAuthorized: readonly { appId: string; delegatedPermissionIds: readonly string[] }[];
/** The token service reads applications through a cache of at most 1 s (src/idp/directory-cache.ts). */
const DIRECTORY_CACHE_MS = 1_000;

before(async () => {
  env = await startChatDemo(undefined);
  const { directory } = env.behalf;
  const app = (await directory.getApplicationByAppId(DEMO_APP_IDS.contosoMailConnector))!;
  preAuthorized = structuredClone(app.api.preAuthorizedApplications);
  await directory.updateApplication(env.demo.tenantId, app.id, { api: { preAuthorizedApplications: [] } });
});

after(async () => {
  await env?.close();
});

interface Entry {
  text: string;
  card?: { url: string; message: string; connectorName: string };
  problem?: unknown;
}

test('no usable connection: the chat shows the consent card and waits; cancel drops the call', async () => {
  const token = await env.userToken('alice');
  const first = await env.call('POST', '/chat/api/conversations', token, {
    agent: 'admin-agent',
    text: '/get-10-latest-emails',
  });
  assert.equal(first.status, 200, JSON.stringify(first.body));
  const conversation = first.body as {
    id: string;
    entries: Entry[];
    pending?: { id: string; reason: string };
  };
  const card = conversation.entries.at(-1)!.card;
  assert.ok(card, JSON.stringify(conversation.entries.at(-1)));
  assert.equal(conversation.pending?.reason, 'consent');
  assert.ok(card.url.startsWith(`${env.behalf.url}/consent/${env.connectorId}?ticket=`), card.url);
  // The card is about the connector the person connects to, not about the tool that needed it.
  assert.equal(card.connectorName, 'Contoso Mail');
  assert.doesNotMatch(JSON.stringify(conversation), /alice-0\d{3}/);

  const again = await env.call('GET', `/chat/api/conversations/${conversation.id}`, token);
  assert.equal((again.body as { pending?: { id: string } }).pending?.id, conversation.pending!.id);
  const runs = await env.call('GET', '/v1.0/behalf/runs?agent=admin-agent', token);
  const outcomes = (runs.body as { value: { outcome: string }[] }).value.map((r) => r.outcome);
  assert.deepEqual(outcomes, ['consent-required']);

  // Cancelling drops the waiting call; an answer to it afterwards is refused, not re-run.
  const cancelled = await env.call('POST', `/chat/api/conversations/${conversation.id}/decisions`, token, {
    pendingId: conversation.pending!.id,
    decision: 'cancel',
  });
  assert.equal(cancelled.status, 200, JSON.stringify(cancelled.body));
  assert.equal((cancelled.body as { pending?: unknown }).pending, undefined);
  assert.match(
    (cancelled.body as { entries: Entry[] }).entries.at(-1)!.text,
    /Cancelled: "Get 10 latest emails" was not run\./,
  );
  const late = await env.call('POST', `/chat/api/conversations/${conversation.id}/decisions`, token, {
    pendingId: conversation.pending!.id,
    decision: 'retry',
  });
  assert.equal(late.status, 404);
  const after = await env.call('GET', '/v1.0/behalf/runs?agent=admin-agent', token);
  assert.equal((after.body as { value: unknown[] }).value.length, 1, 'nothing ran after the cancel');
});

test('after the pre-authorization is restored, "try again" runs the waiting call and Alice gets her mail', async () => {
  const token = await env.userToken('alice');
  const first = await env.call('POST', '/chat/api/conversations', token, {
    agent: 'admin-agent',
    text: '/get-10-latest-emails',
  });
  const conversation = first.body as { id: string; pending?: { id: string; reason: string } };
  assert.equal(conversation.pending?.reason, 'consent', JSON.stringify(first.body));

  const { directory } = env.behalf;
  const app = (await directory.getApplicationByAppId(DEMO_APP_IDS.contosoMailConnector))!;
  await directory.updateApplication(env.demo.tenantId, app.id, {
    api: {
      preAuthorizedApplications: structuredClone(preAuthorized) as typeof app.api.preAuthorizedApplications,
    },
  });
  await new Promise((resolve) => setTimeout(resolve, DIRECTORY_CACHE_MS + 200));

  const retried = await env.call('POST', `/chat/api/conversations/${conversation.id}/decisions`, token, {
    pendingId: conversation.pending!.id,
    decision: 'retry',
  });
  assert.equal(retried.status, 200, JSON.stringify(retried.body));
  const body = retried.body as { entries: Entry[]; pending?: unknown };
  const last = body.entries.at(-1)!;
  assert.equal(last.card, undefined, last.text);
  assert.equal(last.problem, undefined, last.text);
  assert.match(last.text, /alice@contoso\.test/);
  assert.equal(body.pending, undefined);
  assert.equal(body.entries.filter((e) => e.card).length, 1, 'the card stays in the conversation');
});
