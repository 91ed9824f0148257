import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import pg from 'pg';
import { manualClock } from '../../core/clock.ts';
import { storeSuite } from '../store.suite.ts';
import { openPostgresStore } from './postgres.ts';
import { testDatabaseUrl, uniqueSchema } from '../../../test/support/postgres.ts';
import { copiesIn } from '../../../test/support/raw-copies.ts';

// Not optional: CI starts PostgreSQL, and a missing server fails this suite rather than skipping it.
storeSuite(
  'postgres',
  {
    open: async (clock) =>
      openPostgresStore({
        connectionString: testDatabaseUrl(),
        schema: uniqueSchema('store'),
        clock,
        poolSize: 4,
      }),
  },
  manualClock,
);

describe('postgres table upkeep', () => {
  it('compact leaves no row version holding a replaced value in the records table', async () => {
    const schema = uniqueSchema('upkeep');
    const store = await openPostgresStore({ connectionString: testDatabaseUrl(), schema, poolSize: 2 });
    const admin = new pg.Client({ connectionString: testDatabaseUrl() });
    await admin.connect();
    // pageinspect reads the table's pages as they are on disk, dead row versions included.
    await admin.query('CREATE EXTENSION IF NOT EXISTS pageinspect');
    const copiesInPages = async (marker: string) => {
      const table = `${schema}.records`;
      const { rows } = await admin.query<{ blocks: string }>(
        "SELECT pg_relation_size($1::regclass) / current_setting('block_size')::int AS blocks",
        [table],
      );
      let copies = 0;
      for (let block = 0; block < Number(rows[0]!.blocks); block++) {
        const page = await admin.query<{ page: Buffer }>('SELECT get_raw_page($1, $2) AS page', [
          table,
          block,
        ]);
        copies += copiesIn(page.rows[0]!.page, marker);
      }
      return copies;
    };

    const written = await Promise.all(
      Array.from({ length: 50 }, (_, i) =>
        store.insert({ kind: 'k', id: `id${i}`, partition: '', data: { secret: `old-value.${i}` } }),
      ),
    );
    for (const record of written)
      await store.update('k', record.id, record.version, { secret: `new-value.${record.id}` });
    const rows = await store.list<{ secret: string }>('k', { limit: 100 });
    assert.ok(rows.every((row) => row.data.secret.startsWith('new-value.')));
    // The precondition: the pages hold more than the 50 live rows: dead row versions, or the bytes a
    // page's pruning left where it moved rows from (either may hold the replaced values).
    const copies = (await copiesInPages('old-value.')) + (await copiesInPages('new-value.'));
    assert.ok(copies > 50, `updates left row versions behind (${copies} copies of 50 rows)`);

    await store.compact();
    assert.equal(await copiesInPages('old-value.'), 0);
    assert.equal(await copiesInPages('new-value.'), 50, 'the live rows, once each');
    assert.deepEqual(await store.list('k', { limit: 100 }), rows, 'compacting changes no row');
    await admin.query(`DROP SCHEMA ${schema} CASCADE`);
    await admin.end();
    await store.close();
  });
});
