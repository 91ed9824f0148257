import assert from 'node:assert/strict';
import { readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import Database from 'better-sqlite3';
import { loadConfig } from '../../src/core/config.ts';
import { captureLogger } from '../../src/core/logger.ts';
import { formatMasterKeys, parseMasterKeys } from '../../src/crypto/master-key.ts';
import type { Behalf } from '../../src/main.ts';
import { startBehalf } from '../../src/main.ts';
import { runBehalfCli } from '../support/behalf-cli.ts';
import { startGatewayDemo } from '../support/gateway-demo.ts';
import { copiesInSqliteFiles } from '../support/raw-copies.ts';
import type { GatewayDemo } from '../support/gateway-demo.ts';

/**
 * Issue 7: `behalf vault rotate` re-wraps everything online. A real Behalf on the demo tenant keeps
 * issuing tokens and serving Alice's mail through the Contoso Mail connector (on-behalf-of with the
 * connector's client secret and Behalf Connections' own) while the CLI, as its own process on the same
 * data directory, adds a master key version, re-wraps every value and compacts the file. Afterwards
 * nothing in the database, not even unused space, is under the old version, the old version is removed
 * from master.key, and Behalf restarted with the new version alone still signs tokens and still uses
 * the connector secret.
 */
let env: GatewayDemo;
let restarted: Behalf | undefined;
let connectorId: string;
const UNREAD = { folder: 'inbox', $filter: 'isRead eq false' };

before(async () => {
  env = await startGatewayDemo();
  connectorId = (await env.importMailConnector()).id;
});
after(async () => {
  if (!restarted) return env?.close();
  // The first Behalf is already closed; the APIs and the data directory are still the demo's.
  await restarted.close();
  await env.apis.close();
  await env.dispatcher.close();
  rmSync(env.dataDir, { recursive: true, force: true });
});

/** Alice signs in (ROPC: a token signed by Behalf) and reads her mail through the connector. */
async function aliceReadsMail(): Promise<void> {
  const alice = await env.userToken('alice');
  const result = await env.call('POST', `/apim/${connectorId}/default/GetEmails`, alice, UNREAD);
  assert.equal(result.status, 200, result.text);
  assert.ok((result.body.value as unknown[]).length > 0);
}

/** Rows of the database file holding a value wrapped under `version`, by kind. */
function rowsUnder(version: number): string[] {
  const db = new Database(join(env.dataDir, 'behalf.db'), { readonly: true });
  try {
    return db
      .prepare<[string], { kind: string }>('SELECT kind FROM records WHERE instr(data, ?) > 0 ORDER BY kind')
      .all(`"env1.${version}.`)
      .map((row) => row.kind);
  } finally {
    db.close();
  }
}

describe('behalf vault rotate while Behalf runs', () => {
  it('Behalf keeps serving during the rotation, reads the new version, and writes under it', async () => {
    await aliceReadsMail();
    const before = rowsUnder(1);
    for (const kind of [
      'connector',
      'idp.signing_keys',
      'behalf-connections-secret',
      'vault.derivation_root',
    ])
      assert.ok(before.includes(kind), `${kind} holds a version 1 value before: ${before.join(', ')}`);

    let stop = false;
    let served = 0;
    const failures: string[] = [];
    const traffic = (async () => {
      while (!stop) {
        try {
          await aliceReadsMail();
          // And a value read from the store each time (the gateway keeps the secret it decrypted).
          const secret = await env.behalf.connections.registry.clientSecret(env.demo.tenantId, connectorId);
          assert.equal(secret, env.demo.apps['Contoso Mail Connector']!.clientSecret);
          served++;
        } catch (error) {
          failures.push((error as Error).message);
        }
      }
    })();
    const rotated = await runBehalfCli(['vault', 'rotate', '--data-dir', env.dataDir, '--compact', '--json']);
    // A little more traffic after the re-wrap: the values the running Behalf reads now are version 2.
    await new Promise((resolve) => setTimeout(resolve, 1500));
    stop = true;
    await traffic;

    assert.equal(rotated.code, 0, rotated.stderr);
    const result = JSON.parse(rotated.stdout) as {
      masterKeyVersion: number;
      remaining: number;
      removableVersions: number[];
      writeAheadLogEmptied?: boolean;
      compacted?: boolean;
      kinds: Record<string, { records: number; values: number }>;
    };
    assert.equal(result.masterKeyVersion, 2);
    assert.equal(result.remaining, 0);
    assert.deepEqual(result.removableVersions, [1]);
    for (const kind of before)
      assert.ok((result.kinds[kind]?.values ?? 0) > 0, `${kind} re-wrapped: ${rotated.stdout}`);

    assert.deepEqual(failures, [], 'no request failed while the vault was rotated');
    assert.ok(served >= 3, `Alice was served during the rotation (${served} times)`);
    assert.deepEqual(rowsUnder(1), [], 'nothing in the database file is under version 1');
    assert.equal(result.compacted, true);
    assert.equal(result.writeAheadLogEmptied, true);
    assert.deepEqual(
      copiesInSqliteFiles(join(env.dataDir, 'behalf.db'), 'env1.1.'),
      { database: 0, log: 0 },
      'no copy of a version 1 value is left in free space or in the write-ahead log',
    );

    // New values from the running Behalf are written under version 2 at once.
    const another = await env.importMailConnector({ secret: 'a-second-connector-secret' });
    const stored = (await env.behalf.store.get<{ clientSecret: string }>('connector', another.id))!;
    assert.match(stored.data.clientSecret, /^env1\.2\./);
    assert.equal(
      await env.behalf.connections.registry.clientSecret(env.demo.tenantId, connectorId),
      env.demo.apps['Contoso Mail Connector']!.clientSecret,
      'the running Behalf opens the re-wrapped connector secret',
    );
    assert.match(env.logs(), /read new vault master key versions/, 'the running Behalf read master.key');
  });

  it('with version 1 removed from master.key, a restarted Behalf still signs tokens and uses the connector secret', async () => {
    const file = join(env.dataDir, 'master.key');
    const versions = parseMasterKeys(readFileSync(file, 'utf8'));
    writeFileSync(file, formatMasterKeys(versions.filter((v) => v.version !== 1)));
    const port = Number(new URL(env.behalf.url).port);
    await env.behalf.close();
    // The same port: the Contoso Mail API trusts tokens of this issuer URL only.
    restarted = await startBehalf({
      config: loadConfig({ dataDir: env.dataDir, port, host: '127.0.0.1' }, {}),
      logger: captureLogger(),
    });
    assert.equal(restarted.url, env.behalf.url);
    await aliceReadsMail();
    assert.equal(
      await restarted.connections.registry.clientSecret(env.demo.tenantId, connectorId),
      env.demo.apps['Contoso Mail Connector']!.clientSecret,
    );
    assert.deepEqual(rowsUnder(1), []);
  });
});
