import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { Command } from 'commander';
import pg from 'pg';
import { systemClock } from '../../core/clock.ts';
import { silentLogger } from '../../core/logger.ts';
import { createEnvelope } from '../../crypto/envelope.ts';
import { createMasterKeyRing, loadMasterKeyRing, parseMasterKeys } from '../../crypto/master-key.ts';
import { openPostgresStore } from '../../storage/adapters/postgres.ts';
import { openSqliteStore } from '../../storage/adapters/sqlite.ts';
import { testDatabaseUrl, uniqueSchema } from '../../../test/support/postgres.ts';
import { copiesIn } from '../../../test/support/raw-copies.ts';
import { writeVaultValues } from '../../../test/support/vault-values.ts';
import { registerVaultCommand } from './vault.ts';

/** Runs `behalf vault ...` in this process; BEHALF_* variables are only those given. */
async function vault(args: string[], env: Record<string, string> = {}) {
  const saved = { ...process.env };
  for (const key of Object.keys(process.env)) if (key.startsWith('BEHALF_')) delete process.env[key];
  Object.assign(process.env, env);
  const run = { code: 0, stdout: '', stderr: '' };
  try {
    const program = new Command('behalf').exitOverride();
    registerVaultCommand(program, {
      out: (text) => (run.stdout += text),
      err: (text) => (run.stderr += text),
      exit: (code) => (run.code = code),
    });
    await program.parseAsync(['vault', ...args], { from: 'user' });
    return run;
  } finally {
    process.env = saved;
  }
}

const dataDir = () => mkdtempSync(join(tmpdir(), 'behalf-vault-cli-'));
const openStore = (dir: string) => openSqliteStore({ filename: join(dir, 'behalf.db'), clock: systemClock });

describe('behalf vault rotate', () => {
  it('adds a version to master.key, re-wraps every kind, reports counts per kind and what can go', async () => {
    const dir = dataDir();
    const store = openStore(dir);
    const ring = loadMasterKeyRing({ masterKey: undefined, dataDir: dir, logger: silentLogger });
    const values = await writeVaultValues(store, ring);
    const rotated = await vault(['rotate', '--data-dir', dir, '--json']);
    assert.equal(rotated.code, 0, rotated.stderr);
    const result = JSON.parse(rotated.stdout) as {
      masterKeyVersion: number;
      addedVersion: boolean;
      kinds: Record<string, { records: number; values: number; remaining: number }>;
      values: number;
      remaining: number;
      removableVersions: number[];
      gatewaySecrets: number;
      writeAheadLogEmptied: boolean;
      compacted: boolean;
    };
    assert.equal(result.masterKeyVersion, 2);
    assert.equal(result.addedVersion, true);
    assert.deepEqual(result.kinds['connector'], { records: 1, values: 1, remaining: 0 });
    assert.equal(Object.keys(result.kinds).length, 6);
    assert.equal(result.remaining, 0);
    assert.deepEqual(result.removableVersions, [1]);
    assert.equal(result.gatewaySecrets, 1);
    assert.equal(result.writeAheadLogEmptied, true);
    assert.equal(result.compacted, false);
    assert.doesNotMatch(rotated.stdout, /env1\./, 'no value is printed');

    const versions = parseMasterKeys(readFileSync(join(dir, 'master.key'), 'utf8'));
    assert.deepEqual(
      versions.map((v) => v.version),
      [1, 2],
    );
    const onlyNew = createMasterKeyRing(versions.filter((v) => v.version === 2));
    assert.deepEqual(await values.read(onlyNew), values.expected);

    const again = await vault(['rotate', '--data-dir', dir, '--rewrap-only']);
    assert.equal(again.code, 0, again.stderr);
    assert.match(again.stdout, /^Re-wrapped 0 values in 0 records under master key version 2\./);
    assert.match(
      again.stdout,
      new RegExp(`version 1 can now be removed from ${join(dir, 'master.key')} \\(a running Behalf keeps it`),
    );
    await store.close();
  });

  it('with the master key in configuration: refuses to add a version and says how, then re-wraps', async () => {
    const dir = dataDir();
    const store = openStore(dir);
    const [a, b] = [randomBytes(32).toString('base64'), randomBytes(32).toString('base64')];
    const sealed = createEnvelope(createMasterKeyRing(parseMasterKeys(a))).encrypt('secret', 'aad');
    await store.insert({ kind: 'thing', id: '1', partition: '', data: { sealed } });

    const refused = await vault(['rotate', '--data-dir', dir], { BEHALF_MASTER_KEY: a });
    assert.equal(refused.code, 2);
    assert.match(refused.stderr, /cannot re-read a master key given by configuration/);
    assert.match(refused.stderr, /BEHALF_MASTER_KEY/);
    assert.match(
      refused.stderr,
      /restart the nodes one at a time, then run `behalf vault rotate --rewrap-only`/,
    );
    assert.ok(!refused.stderr.includes(a), 'no key material');
    assert.equal(existsSync(join(dir, 'master.key')), false);

    const rewrapped = await vault(['rotate', '--data-dir', dir, '--rewrap-only'], {
      BEHALF_MASTER_KEY: `1:${a},2:${b}`,
    });
    assert.equal(rewrapped.code, 0, rewrapped.stderr);
    assert.match(rewrapped.stdout, /^Re-wrapped 1 values in 1 records under master key version 2\./);
    assert.match(rewrapped.stdout, /thing\s+1\s+1\s+0/);
    assert.match(rewrapped.stdout, /version 1 can now be removed from the configuration of every node/);
    const record = (await store.get<{ sealed: string }>('thing', '1'))!;
    const onlyB = createEnvelope(createMasterKeyRing([{ version: 2, key: Buffer.from(b, 'base64') }]));
    assert.equal(onlyB.decryptText(record.data.sealed, 'aad'), 'secret');
    await store.close();
  });

  it('says copies may remain in the file until it is compacted, and --compact rewrites it', async () => {
    const dir = dataDir();
    const store = openStore(dir);
    const ring = loadMasterKeyRing({ masterKey: undefined, dataDir: dir, logger: silentLogger });
    const values = await writeVaultValues(store, ring);
    const rotated = await vault(['rotate', '--data-dir', dir]);
    assert.equal(rotated.code, 0, rotated.stderr);
    assert.match(
      rotated.stdout,
      /may remain in unused space inside the pages of behalf\.db until the database is compacted: `behalf vault rotate --rewrap-only --compact`/,
    );
    const compacted = await vault(['rotate', '--data-dir', dir, '--rewrap-only', '--compact', '--json']);
    assert.equal(compacted.code, 0, compacted.stderr);
    const result = JSON.parse(compacted.stdout) as { compacted: boolean; writeAheadLogEmptied: boolean };
    assert.equal(result.compacted, true);
    assert.equal(result.writeAheadLogEmptied, true);
    const file = readFileSync(join(dir, 'behalf.db'));
    assert.equal(copiesIn(file, 'env1.1.'), 0, 'no envelope under version 1 in the file');
    assert.ok(copiesIn(file, 'env1.2.') > 0, 'the values themselves, under version 2');
    const onlyNew = createMasterKeyRing(
      parseMasterKeys(readFileSync(join(dir, 'master.key'), 'utf8')).filter((v) => v.version === 2),
    );
    assert.deepEqual(await values.read(onlyNew), values.expected);
    await store.close();
  });

  it('on PostgreSQL, says old row versions may hold copies, and --compact rewrites the records table', async () => {
    // A database of its own: the command works on the default schema, as Behalf does.
    const admin = new pg.Client({ connectionString: testDatabaseUrl() });
    await admin.connect();
    const name = uniqueSchema('vault_cli');
    await admin.query(`CREATE DATABASE ${name}`);
    const url = new URL(testDatabaseUrl());
    url.pathname = `/${name}`;
    const databaseUrl = url.toString();
    const store = await openPostgresStore({ connectionString: databaseUrl });
    const probe = new pg.Client({ connectionString: databaseUrl });
    try {
      const dir = dataDir();
      const ring = loadMasterKeyRing({ masterKey: undefined, dataDir: dir, logger: silentLogger });
      const values = await writeVaultValues(store, ring);
      await probe.connect();
      const fileOfTable = async () =>
        (await probe.query<{ node: string }>("SELECT pg_relation_filenode('records') AS node")).rows[0]!.node;
      const before = await fileOfTable();

      const rotated = await vault(['rotate', '--data-dir', dir, '--database-url', databaseUrl]);
      assert.equal(rotated.code, 0, rotated.stderr);
      assert.match(
        rotated.stdout,
        /may remain in old row versions of the records table until the database is compacted/,
      );
      assert.match(rotated.stdout, /VACUUM FULL records/);
      assert.equal(await fileOfTable(), before, 'no rewrite without --compact');

      const compacted = await vault([
        'rotate',
        '--data-dir',
        dir,
        '--database-url',
        databaseUrl,
        '--rewrap-only',
        '--compact',
        '--json',
      ]);
      assert.equal(compacted.code, 0, compacted.stderr);
      const result = JSON.parse(compacted.stdout) as { compacted: boolean; writeAheadLogEmptied?: boolean };
      assert.equal(result.compacted, true);
      assert.equal(result.writeAheadLogEmptied, undefined, 'PostgreSQL has no log of ours to empty');
      assert.notEqual(await fileOfTable(), before, 'VACUUM FULL wrote the table anew');
      const onlyNew = createMasterKeyRing(
        parseMasterKeys(readFileSync(join(dir, 'master.key'), 'utf8')).filter((v) => v.version === 2),
      );
      assert.deepEqual(await values.read(onlyNew), values.expected);
    } finally {
      await probe.end().catch(() => undefined);
      await store.close();
      await admin.query(`DROP DATABASE ${name} WITH (FORCE)`);
      await admin.end();
    }
  });

  it('exits 1 and keeps every version when a value cannot be re-wrapped', async () => {
    const dir = dataDir();
    const store = openStore(dir);
    loadMasterKeyRing({ masterKey: undefined, dataDir: dir, logger: silentLogger });
    const foreign = createEnvelope(createMasterKeyRing([{ version: 9, key: randomBytes(32) }]));
    await store.insert({ kind: 'lost', id: '1', partition: '', data: { v: foreign.encrypt('x', 'y') } });
    const result = await vault(['rotate', '--data-dir', dir, '--json']);
    assert.equal(result.code, 1);
    const body = JSON.parse(result.stdout) as { remaining: number; removableVersions: number[] };
    assert.equal(body.remaining, 1);
    assert.deepEqual(body.removableVersions, []);
    await store.close();
  });
});
