import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { manualClock } from '../../core/clock.ts';
import { storeSuite } from '../store.suite.ts';
import { copiesInSqliteFiles } from '../../../test/support/raw-copies.ts';
import { openSqliteStore } from './sqlite.ts';

const dir = mkdtempSync(join(tmpdir(), 'behalf-sqlite-'));
let n = 0;
storeSuite(
  'sqlite',
  { open: async (clock) => openSqliteStore({ filename: join(dir, `store-${n++}.db`), clock }) },
  manualClock,
);

// Two Behalf processes may share one data directory (issue 7: refresh across processes on SQLite).
// Every single-record write must take the write lock up front (BEGIN IMMEDIATE), so the busy timeout
// applies: a deferred transaction that read first gets SQLITE_BUSY at once when the other process
// committed meanwhile ("database is locked"), which the gateway answered with a 500.
const WRITER = `
import { openSqliteStore } from ${JSON.stringify(new URL('./sqlite.ts', import.meta.url).href)};
const [file, tag] = process.argv.slice(1);
const store = openSqliteStore({ filename: file });
process.stdout.write('ready\\n');
await new Promise((resolve) => process.stdin.once('data', resolve));
const errors = [];
await Promise.all(Array.from({ length: 500 }, async (_, i) => {
  try {
    const record = await store.insert({ kind: 'k', id: tag + i, partition: '', data: { n: 0 } });
    await store.update('k', record.id, record.version, { n: 1 });
    if (i % 2 === 0) await store.delete('k', record.id);
  } catch (error) {
    errors.push(error.message);
  }
}));
await store.close();
process.stdout.write(JSON.stringify([...new Set(errors)]) + '\\n');
`;

describe('sqlite shared by two processes', () => {
  it('concurrent writes from two processes all land', async () => {
    const file = join(dir, 'shared.db');
    const seed = openSqliteStore({ filename: file });
    const writers = ['a', 'b'].map((tag) => {
      const child = spawn(
        process.execPath,
        ['--import', 'tsx', '--input-type=module', '-e', WRITER, file, tag],
        {
          stdio: ['pipe', 'pipe', 'inherit'],
        },
      );
      let out = '';
      child.stdout.on('data', (chunk: Buffer) => (out += chunk.toString('utf8')));
      const ready = new Promise<void>((resolve) =>
        child.stdout.on('data', () => out.includes('ready') && resolve()),
      );
      const done = new Promise<string[]>((resolve, reject) =>
        child.on('exit', (code) =>
          code === 0
            ? resolve(JSON.parse(out.split('\n')[1]!) as string[])
            : reject(new Error(`writer ${tag} ended ${code}`)),
        ),
      );
      return { child, ready, done };
    });
    await Promise.all(writers.map((w) => w.ready));
    for (const w of writers) w.child.stdin.end('go\n');
    const errors = await Promise.all(writers.map((w) => w.done));
    assert.deepEqual(errors, [[], []]);
    const rows = await seed.list<{ n: number }>('k', { limit: 1000 });
    assert.equal(rows.length, 500);
    assert.ok(rows.every((r) => r.data.n === 1));
    await seed.close();
  });
});

describe('sqlite file upkeep', () => {
  it('compact leaves no copy of a replaced value in the file, where zeroing freed space leaves some', async () => {
    const file = join(dir, 'upkeep.db');
    const store = openSqliteStore({ filename: file });
    const kind = (i: number) => `k${i % 5}`;
    // Values of varied sizes, updated and deleted in turn, so rows move between pages as pages fill.
    const value = (era: string, i: number, round: number) => ({
      secret: `${era}-value.${'x'.repeat(50 + ((i * 53 + round * 17) % 1500))}`,
    });
    const versions = new Map<number, number>();
    const put = async (i: number, data: { secret: string }) => {
      const known = versions.get(i);
      const record =
        known === undefined
          ? await store.insert({ kind: kind(i), id: `id${i}`, partition: '', data })
          : await store.update(kind(i), `id${i}`, known, data);
      assert.ok(record, `id${i} written`);
      versions.set(i, record.version);
    };
    const everyRow = async () =>
      (
        await Promise.all(
          [0, 1, 2, 3, 4].map((k) => store.list<{ secret: string }>(`k${k}`, { limit: 1000 })),
        )
      ).flat();

    for (let i = 0; i < 400; i++) await put(i, value('old', i, 0));
    for (let round = 1; round <= 3; round++)
      for (let i = 0; i < 400; i += 3) await put(i, value('old', i, round));
    for (let i = 0; i < 400; i += 7) {
      await store.delete(kind(i), `id${i}`);
      versions.delete(i);
    }
    // What a rotation does: every remaining value replaced, then the log emptied.
    for (const i of [...versions.keys()]) await put(i, value('new', i, 9));
    assert.equal(await store.checkpointAndTruncateLog(), true);
    const rows = await everyRow();
    assert.equal(rows.length, versions.size);
    assert.ok(
      rows.every((row) => row.data.secret.startsWith('new-')),
      'every row holds its new value',
    );
    // The precondition: the file still holds copies no row refers to (in the unused middle of pages).
    const left = copiesInSqliteFiles(file, 'old-value.');
    assert.ok(left.database + left.log > 0, 'SQLite left copies of moved rows behind');

    assert.equal(await store.compact(), true);
    assert.deepEqual(copiesInSqliteFiles(file, 'old-value.'), { database: 0, log: 0 });
    assert.deepEqual(await everyRow(), rows, 'compacting changes no row');
    await store.close();
  });
});
