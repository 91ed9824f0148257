import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { after, before, describe, it } from 'node:test';
import { systemClock } from '../../src/core/clock.ts';
import { silentLogger } from '../../src/core/logger.ts';
import { createEnvelope } from '../../src/crypto/envelope.ts';
import { loadMasterKeyRing } from '../../src/crypto/master-key.ts';
import { GATEWAY_SECRET_KIND } from '../../src/connections/gateway-app-secret.ts';
import { openSqliteStore } from '../../src/storage/adapters/sqlite.ts';
import { startGatewayDemo } from '../support/gateway-demo.ts';
import type { GatewayDemo } from '../support/gateway-demo.ts';

/**
 * `behalf connection|audit|vault` as a separate process against the data of a real Behalf on the demo
 * tenant, after Alice read her mail through the gateway.
 */
const BIN = fileURLToPath(new URL('../../bin/behalf.js', import.meta.url));
let env: GatewayDemo;
let connectorId: string;
const UNREAD = { folder: 'inbox', $filter: 'isRead eq false' };

function cli(...args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  const clean = Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith('BEHALF_')));
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      [BIN, ...args, '--data-dir', env.dataDir],
      { env: clean, timeout: 60_000 },
      (error, stdout, stderr) =>
        resolve({ code: error ? (typeof error.code === 'number' ? error.code : 99) : 0, stdout, stderr }),
    );
  });
}

before(async () => {
  env = await startGatewayDemo();
  connectorId = (await env.importMailConnector()).id;
  const alice = await env.userToken('alice');
  const result = await env.call('POST', `/apim/${connectorId}/default/GetEmails`, alice, UNREAD);
  assert.equal(result.status, 200, result.text);
});
after(async () => env?.close());

describe('behalf connection, audit and vault over the data directory', () => {
  it("lists Alice's SSO connection without any sealed value", async () => {
    const alice = env.demo.users.find((u) => u.username.startsWith('alice@'))!;
    const listed = await cli('connection', 'list', '--json');
    assert.equal(listed.code, 0, listed.stderr);
    const rows = JSON.parse(listed.stdout) as { connector: string; mode: string; owner: string }[];
    const mine = rows.find((r) => r.connector === connectorId);
    assert.ok(mine, listed.stdout);
    assert.equal(mine.mode, 'per-user');
    assert.equal(mine.owner, alice.objectId);
    assert.doesNotMatch(listed.stdout, /env1\./);
    const usage = await cli('connection', 'list', '--user', alice.objectId);
    assert.equal(usage.code, 2, usage.stdout);
    assert.match(usage.stderr, /--tenant/);
  });

  it('creates and deletes a shared connection', async () => {
    const created = await cli(
      'connection',
      'create',
      '--tenant',
      env.demo.tenantId,
      '--connector',
      connectorId,
      '--name',
      'Team mailbox',
      '--json',
    );
    assert.equal(created.code, 0, created.stderr);
    const { id, mode } = JSON.parse(created.stdout) as { id: string; mode: string };
    assert.equal(mode, 'shared');
    const deleted = await cli('connection', 'delete', id);
    assert.equal(deleted.code, 0, deleted.stderr);
    const again = await cli('connection', 'delete', id);
    assert.equal(again.code, 1);
    assert.match(again.stderr, /No connection/);
  });

  it("shows Alice's audited call, filtered by user and connector, never a token", async () => {
    const audit = await cli(
      'audit',
      '--user',
      'alice@contoso.test',
      '--connector',
      connectorId,
      '--since',
      '1h',
      '--json',
    );
    assert.equal(audit.code, 0, audit.stderr);
    const entries = JSON.parse(audit.stdout) as { operationId: string; outcome: string; callerUpn: string }[];
    assert.ok(
      entries.some((e) => e.operationId === 'GetEmails' && e.outcome === 'success'),
      audit.stdout,
    );
    assert.ok(entries.every((e) => e.callerUpn === 'alice@contoso.test'));
    const bob = await cli('audit', '--user', 'bob@contoso.test', '--json');
    assert.deepEqual(JSON.parse(bob.stdout), []);
    const table = await cli('audit');
    assert.match(table.stdout, /GetEmails/);
    const bad = await cli('audit', '--since', 'yesterday-ish');
    assert.equal(bad.code, 2);
  });

  it('vault rotate adds a master key version and re-wraps the gateway secret under it', async () => {
    const ringBefore = loadMasterKeyRing({
      dataDir: env.dataDir,
      masterKey: undefined,
      logger: silentLogger,
    });
    const store = openSqliteStore({ filename: join(env.dataDir, 'behalf.db'), clock: systemClock });
    try {
      const aad = (id: string) => `behalf:gateway-app:${id}:clientSecret`;
      const [record] = await store.list<{ sealed: string }>(GATEWAY_SECRET_KIND);
      assert.ok(record, 'Behalf provisioned its gateway secret');
      const secret = createEnvelope(ringBefore).decryptText(record.data.sealed, aad(record.id));
      const rotated = await cli('vault', 'rotate', '--json');
      assert.equal(rotated.code, 0, rotated.stderr);
      const result = JSON.parse(rotated.stdout) as { masterKeyVersion: number; gatewaySecrets: number };
      assert.equal(result.masterKeyVersion, ringBefore.currentVersion + 1);
      assert.equal(result.gatewaySecrets, 1);
      assert.equal(
        readFileSync(join(env.dataDir, 'master.key'), 'utf8').includes(secret),
        false,
        'the key file never holds a vault value',
      );
      const ringAfter = loadMasterKeyRing({
        dataDir: env.dataDir,
        masterKey: undefined,
        logger: silentLogger,
      });
      const after = (await store.get<{ sealed: string }>(GATEWAY_SECRET_KIND, record.id))!;
      assert.ok(
        after.data.sealed.startsWith(`env1.${ringAfter.currentVersion}.`),
        after.data.sealed.slice(0, 8),
      );
      assert.equal(createEnvelope(ringAfter).decryptText(after.data.sealed, aad(record.id)), secret);
    } finally {
      await store.close();
    }
  });
});
