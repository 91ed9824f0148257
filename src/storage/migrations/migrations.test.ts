import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { it } from 'node:test';
import pg from 'pg';
import { openPostgresStore } from '../adapters/postgres.ts';
import { openSqliteStore } from '../adapters/sqlite.ts';
import { testDatabaseUrl, uniqueSchema } from '../../../test/support/postgres.ts';
import { postgresMigrations, sqliteMigrations } from './index.ts';

it('PostgreSQL: migrations started concurrently by several nodes apply each version exactly once', async () => {
  const schema = uniqueSchema('migrate');
  const stores = await Promise.all(
    Array.from({ length: 4 }, () =>
      openPostgresStore({ connectionString: testDatabaseUrl(), schema, poolSize: 2 }),
    ),
  );
  await Promise.all(stores.map((s) => s.close()));
  const client = new pg.Client({ connectionString: testDatabaseUrl() });
  await client.connect();
  try {
    const rows = await client.query<{ version: number }>(
      `SELECT version FROM ${schema}.behalf_migrations ORDER BY version`,
    );
    assert.deepEqual(
      rows.rows.map((r) => r.version),
      postgresMigrations.map((m) => m.version),
    );
  } finally {
    await client.query(`DROP SCHEMA ${schema} CASCADE`);
    await client.end();
  }
});

it('SQLite: two processes migrating the same file at once leave one consistent schema', async () => {
  const file = join(mkdtempSync(join(tmpdir(), 'behalf-migrate-')), 'store.db');
  const script = `import { openSqliteStore } from ${JSON.stringify(new URL('../adapters/sqlite.ts', import.meta.url).href)};
    const store = openSqliteStore({ filename: process.argv[1] });
    await store.insert({ kind: 'probe', id: String(process.pid), partition: '', data: {} });
    await store.close();`;
  const runs = Array.from(
    { length: 2 },
    () =>
      new Promise<number>((resolve) => {
        const child = spawn(
          process.execPath,
          ['--import', 'tsx', '--input-type=module', '-e', script, file],
          { stdio: 'inherit' },
        );
        child.on('exit', (code) => resolve(code ?? 1));
      }),
  );
  assert.deepEqual(await Promise.all(runs), [0, 0]);
  const store = openSqliteStore({ filename: file });
  assert.equal((await store.list('probe')).length, 2);
  await store.close();
  assert.ok(sqliteMigrations.length >= 1);
});
