import assert from 'node:assert/strict';
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { DEMO_APP_IDS } from '../../examples/demo-apis.ts';
import { silentLogger } from '../../src/core/logger.ts';
import { createEnvelope } from '../../src/crypto/envelope.ts';
import { loadMasterKeyRing } from '../../src/crypto/master-key.ts';
import { GATEWAY_SECRET_KIND } from '../../src/connections/gateway-app-secret.ts';
import { startGatewayDemo } from '../support/gateway-demo.ts';
import type { GatewayDemo } from '../support/gateway-demo.ts';

/**
 * The gateway on the demo tenant, end to end over HTTPS: a real Behalf (its token service signs every
 * token, ROPC with Behalf Chat), the Contoso Mail connector package of examples/ imported into the
 * registry, the Contoso Mail API checking the tokens the gateway obtains on-behalf-of Alice.
 */
let env: GatewayDemo;
let connectorId: string;
const used: string[] = [];
const UNREAD = { folder: 'inbox', $filter: 'isRead eq false' };

before(async () => {
  env = await startGatewayDemo();
  const secret = env.demo.apps['Contoso Mail Connector']!.clientSecret!;
  used.push(secret, env.demo.apps['Behalf Chat']!.clientSecret!, ...env.demo.users.map((u) => u.password));
  connectorId = (await env.importMailConnector({ secret })).id;
});
after(async () => env?.close());

async function token(user: 'alice' | 'bob' | 'admin') {
  const value = await env.userToken(user);
  used.push(value);
  return value;
}

const invoke = (who: string, connection: string, operation: string, args: unknown) =>
  env.call('POST', `/apim/${connectorId}/${connection}/${operation}`, who, args);

describe('gateway on the demo tenant (Contoso Mail, SSO by on-behalf-of)', () => {
  it('Alice reads her unread mail through the pre-authorized, admin-consented connector', async () => {
    const alice = await token('alice');
    const result = await invoke(alice, 'default', 'GetEmails', UNREAD);
    assert.equal(result.status, 200, result.text);
    const messages = result.body.value as {
      isRead: boolean;
      toRecipients: { emailAddress: { address: string } }[];
    }[];
    assert.ok(messages.length > 0);
    for (const message of messages) {
      assert.equal(message.isRead, false);
      assert.ok(message.toRecipients.some((r) => r.emailAddress.address === 'alice@contoso.test'));
    }
  });

  it("dynamic values: Get emails' Folder choices come from ListMailFolders, run as Alice and audited", async () => {
    const alice = await token('alice');
    const path = `/apim/${connectorId}/default/GetEmails/$dynamicValues`;
    const folders = await env.call('POST', path, alice, { parameter: 'folder' });
    assert.equal(folders.status, 200, folders.text);
    const choices = folders.body.value as { value: string; title: string }[];
    assert.deepEqual(choices[0], { value: 'inbox', title: 'Inbox' });
    assert.ok(
      choices.some((c) => c.value === 'sentitems' && c.title === 'Sent Items'),
      folders.text,
    );

    const none = await env.call('POST', path, alice, { parameter: '$top' });
    assert.equal(none.status, 400, none.text);
    assert.equal(none.body.error.code, 'NoDynamicValues');
    const unknown = await env.call('POST', path, alice, { parameter: 'colour' });
    assert.equal(unknown.status, 404, unknown.text);
    const malformed = await env.call('POST', path, alice, { arguments: [] });
    assert.equal(malformed.status, 400, malformed.text);

    const audit = await env.call('GET', `/v1.0/behalf/audit?connector=${connectorId}`, alice);
    const operations = (audit.body.value as { operationId: string }[]).map((e) => e.operationId);
    assert.ok(operations.includes('ListMailFolders'), audit.text);
  });

  it("Bob gets a 403 with a remediation when the connector is not shared with him, never Alice's mail", async () => {
    const alice = env.demo.users.find((u) => u.username.startsWith('alice@'))!;
    const admin = await token('admin');
    const shared = await env.call('PUT', `/v1.0/behalf/connections/sharing/${connectorId}`, admin, {
      users: [alice.objectId],
      groups: [],
    });
    assert.ok(shared.status < 300, shared.text);
    const bob = await token('bob');
    const result = await invoke(bob, 'default', 'GetEmails', UNREAD);
    assert.equal(result.status, 403, result.text);
    assert.equal(result.body.error.code, 'ConnectorNotShared');
    assert.match(result.body.error.remediation ?? result.body.error.message, /\S{10,}/);
    assert.doesNotMatch(result.text, /alice-0\d{3}|Lunch/);
  });

  it("Bob, once shared, cannot use Alice's connection by its id: the same 404 as an unknown id", async () => {
    const alice = env.demo.users.find((u) => u.username.startsWith('alice@'))!;
    const bobUser = env.demo.users.find((u) => u.username.startsWith('bob@'))!;
    const admin = await token('admin');
    await env.call('PUT', `/v1.0/behalf/connections/sharing/${connectorId}`, admin, {
      users: [alice.objectId, bobUser.objectId],
      groups: [],
    });
    const mine = await env.call('GET', '/v1.0/behalf/connections', await token('alice'));
    assert.equal(mine.status, 200, mine.text);
    const aliceConnection = (mine.body.value as { id: string; connectorId: string }[]).find(
      (c) => c.connectorId === connectorId,
    );
    assert.ok(aliceConnection, mine.text);
    const bob = await token('bob');
    const stolen = await invoke(bob, aliceConnection.id, 'GetEmails', UNREAD);
    assert.equal(stolen.status, 404, stolen.text);
    const unknown = await invoke(bob, 'a0a0a0a0-0000-4000-8000-000000000000', 'GetEmails', UNREAD);
    assert.equal(unknown.status, 404, unknown.text);
    assert.equal(stolen.body.error.code, unknown.body.error.code);
    assert.doesNotMatch(stolen.text, /alice-0\d{3}|Lunch/);
    const direct = await env.call('GET', `/v1.0/behalf/connections/${aliceConnection.id}`, bob);
    assert.equal(direct.status, 404, direct.text);
  });

  it('without the pre-authorization of Behalf Connections, SSO answers a consent card naming it', async () => {
    const { directory } = env.behalf;
    const app = (await directory.getApplicationByAppId(DEMO_APP_IDS.contosoMailConnector))!;
    await directory.updateApplication(env.demo.tenantId, app.id, {
      api: { preAuthorizedApplications: [] },
    });
    // A fresh token: on-behalf-of results are cached per presented token until shortly before expiry.
    const alice = await token('alice');
    const result = await invoke(alice, 'default', 'GetEmails', UNREAD);
    assert.equal(result.status, 403, result.text);
    assert.equal(result.body.error.code, 'ConsentRequired');
    assert.match(result.body.error.message, /does not pre-authorize Behalf Connections/);
    assert.ok(result.body.error.message.includes(DEMO_APP_IDS.contosoMailConnector));
    const card = result.body.error.consentCard as { consentUrl: string; text: string };
    assert.ok(
      card.consentUrl.startsWith(`${env.behalf.url}/consent/${connectorId}?ticket=`),
      card.consentUrl,
    );
    assert.ok(card.text.length > 0);
    assert.doesNotMatch(result.text, /alice-0\d{3}|Lunch/);
  });

  it('every call is audited: Alice sees her own calls, with outcome, mode and correlation id', async () => {
    const alice = await token('alice');
    const audit = await env.call('GET', `/v1.0/behalf/audit?connector=${connectorId}`, alice);
    assert.equal(audit.status, 200, audit.text);
    const entries = audit.body.value as {
      callerUpn?: string;
      outcome: string;
      mode?: string;
      correlationId: string;
    }[];
    assert.ok(entries.length >= 2, audit.text);
    assert.ok(entries.every((e) => e.callerUpn === 'alice@contoso.test'));
    assert.ok(entries.some((e) => e.outcome === 'success' && e.mode === 'delegated'));
    assert.ok(entries.every((e) => e.correlationId.length > 0));
  });

  it('the SQLite file and the logs contain none of the tokens and secrets used', async () => {
    // Behalf Connections' own secret, provisioned by Behalf: opened here with the data directory's key.
    const [kept] = await env.behalf.store.list<{ sealed: string }>(GATEWAY_SECRET_KIND);
    assert.ok(kept);
    const ring = loadMasterKeyRing({ dataDir: env.dataDir, masterKey: undefined, logger: silentLogger });
    const gatewaySecret = createEnvelope(ring).decryptText(
      kept.data.sealed,
      `behalf:gateway-app:${kept.id}:clientSecret`,
    );
    used.push(gatewaySecret);
    assert.ok(used.length >= 8);
    const files = readdirSync(env.dataDir).filter((f) => f.startsWith('behalf.db'));
    assert.ok(files.length > 0);
    const database = files.map((f) => readFileSync(join(env.dataDir, f)).toString('latin1')).join('');
    const logs = env.logs();
    assert.ok(logs.length > 0);
    for (const value of used) {
      assert.equal(database.includes(value), false, 'a token or secret is in the database');
      assert.equal(logs.includes(value), false, 'a token or secret is in the logs');
    }
  });
});
