import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { manualClock, systemClock } from '../core/clock.ts';
import { cryptoRandom } from '../core/ids.ts';
import { createMemoryStore } from '../storage/adapters/memory.ts';
import type { RecordStore } from '../storage/record-store.ts';
import { AUDIT_KIND, createAuditLog } from './audit-log.ts';
import type { AuditEntry, NewAuditEntry } from './audit-log.ts';

const base: NewAuditEntry = {
  tenantId: 'contoso',
  callerObjectId: 'alice',
  connectorId: 'mail',
  operationId: 'ListUnread',
  outcome: 'success',
  durationMs: 3,
  correlationId: 'c0',
};

it('lists newest first, filters by any combination, pages, and bounds by time', async () => {
  const clock = manualClock(Date.UTC(2026, 0, 1));
  const audit = createAuditLog({ store: createMemoryStore({ clock }), clock, random: cryptoRandom });
  for (let i = 0; i < 6; i++) {
    clock.advance(1000);
    await audit.record({
      ...base,
      callerObjectId: i % 2 ? 'bob' : 'alice',
      outcome: i === 5 ? 'denied' : 'success',
      correlationId: `c${i}`,
    });
  }
  const all = await audit.query({ tenantId: 'contoso' });
  assert.deepEqual(
    all.entries.map((e) => e.correlationId),
    ['c5', 'c4', 'c3', 'c2', 'c1', 'c0'],
  );
  const bob = await audit.query({ callerObjectId: 'bob', outcome: 'denied' });
  assert.deepEqual(
    bob.entries.map((e) => e.correlationId),
    ['c5'],
  );
  const first = await audit.query({ callerObjectId: 'alice', limit: 2 });
  assert.deepEqual(
    first.entries.map((e) => e.correlationId),
    ['c4', 'c2'],
  );
  const second = await audit.query({ callerObjectId: 'alice', limit: 2, before: first.next! });
  assert.deepEqual(
    second.entries.map((e) => e.correlationId),
    ['c0'],
  );
  const window = await audit.query({
    since: new Date(Date.UTC(2026, 0, 1, 0, 0, 2)).toISOString(),
    until: new Date(Date.UTC(2026, 0, 1, 0, 0, 4)).toISOString(),
  });
  assert.deepEqual(
    window.entries.map((e) => e.correlationId),
    ['c3', 'c2', 'c1'],
  );
  assert.deepEqual((await audit.query({ tenantId: 'fabrikam' })).entries, []);
});

describe('batched writes', () => {
  // Entries of one millisecond list in random order (time-ordered ids), so compare as sorted sets here
  // and check the order of writes with `recordingStore`.
  const stored = async (store: RecordStore) =>
    (await store.list<AuditEntry>(AUDIT_KIND, { limit: 1000 })).map((r) => r.data.correlationId).sort();

  /** The store, noting the correlation id of every audit entry in the order it is inserted. */
  const recordingStore = (store: RecordStore, order: string[]): RecordStore => {
    const noting = (tx: RecordStore): RecordStore => ({
      ...tx,
      insert: (record) => {
        order.push((record.data as AuditEntry).correlationId);
        return tx.insert(record);
      },
    });
    return { ...noting(store), transaction: (work) => store.transaction((tx) => work(noting(tx))) };
  };

  it('record returns before the write; a query sees the entry at once; the timer writes it', async () => {
    const store = createMemoryStore();
    const audit = createAuditLog({
      store,
      clock: systemClock,
      random: cryptoRandom,
      batching: { flushMs: 20 },
    });
    await audit.record({ ...base, correlationId: 'a' });
    assert.deepEqual(await stored(store), [], 'not written on the request path');
    await new Promise((resolve) => setTimeout(resolve, 60));
    assert.deepEqual(await stored(store), ['a'], 'written by the timer');
    await audit.record({ ...base, correlationId: 'b' });
    assert.deepEqual(
      (await audit.query({ correlationId: 'b' })).entries.map((e) => e.correlationId),
      ['b'],
    );
    await audit.close();
  });

  it('close writes every queued entry, in the order recorded, across several batches', async () => {
    const store = createMemoryStore();
    const order: string[] = [];
    let transactions = 0;
    const recording = recordingStore(store, order);
    const counting: RecordStore = {
      ...recording,
      transaction: (work) => {
        transactions++;
        return recording.transaction(work);
      },
    };
    const audit = createAuditLog({
      store: counting,
      clock: systemClock,
      random: cryptoRandom,
      batching: { flushMs: 60_000, maxBatch: 3 },
    });
    const expected: string[] = [];
    for (let i = 0; i < 10; i++) {
      expected.push(`c${i}`);
      await audit.record({ ...base, correlationId: `c${i}` });
    }
    await audit.close();
    assert.deepEqual(order, expected);
    assert.deepEqual(await stored(store), [...expected].sort());
    assert.ok(transactions >= 4 && transactions <= 5, `batches of 3: ${transactions} transactions`);
    // After close, an entry is written before record resolves (nothing can be left behind).
    await audit.record({ ...base, correlationId: 'late' });
    assert.equal(order.at(-1), 'late');
    assert.equal((await stored(store)).length, 11);
  });

  it('a transaction takes entries for at most sliceMs, then the event loop gets a turn', async () => {
    const order: string[] = [];
    const store = recordingStore(createMemoryStore(), order);
    const perTransaction: number[] = [];
    let turns = 0;
    const slow: RecordStore = {
      ...store,
      transaction: (work) =>
        store.transaction(async (tx) => {
          perTransaction.push(0);
          return work({
            ...tx,
            insert: (record) => {
              const until = performance.now() + 0.6; // a synchronous write, as SQLite's
              while (performance.now() < until);
              perTransaction[perTransaction.length - 1]!++;
              return tx.insert(record);
            },
          });
        }),
    };
    const audit = createAuditLog({
      store: slow,
      clock: systemClock,
      random: cryptoRandom,
      batching: { flushMs: 60_000, maxBatch: 100, sliceMs: 1 },
    });
    for (let i = 0; i < 6; i++) await audit.record({ ...base, correlationId: `s${i}` });
    const ticking = setInterval(() => turns++, 0);
    await audit.flush();
    clearInterval(ticking);
    assert.deepEqual(order, ['s0', 's1', 's2', 's3', 's4', 's5']);
    assert.ok(
      perTransaction.every((n) => n <= 2),
      `at most 2 entries of 0.6 ms per 1 ms slice: ${perTransaction.join(',')}`,
    );
    assert.ok(perTransaction.length >= 3);
    assert.ok(turns >= 1, 'timers ran between the transactions');
  });

  it('bounded memory: with the store stalled, the entry beyond maxPending waits for the write', async () => {
    const store = createMemoryStore();
    let release: () => void = () => undefined;
    const stalled = new Promise<void>((resolve) => (release = resolve));
    const slow: RecordStore = {
      ...store,
      transaction: async (work) => {
        await stalled;
        return store.transaction(work);
      },
    };
    const audit = createAuditLog({
      store: slow,
      clock: systemClock,
      random: cryptoRandom,
      batching: { flushMs: 60_000, maxBatch: 100, maxPending: 5 },
    });
    for (let i = 0; i < 5; i++) await audit.record({ ...base, correlationId: `c${i}` });
    let sixth = false;
    const waiting = audit.record({ ...base, correlationId: 'c5' }).then(() => (sixth = true));
    await new Promise((resolve) => setTimeout(resolve, 20));
    assert.equal(sixth, false, 'the sixth call waits while five entries are unwritten');
    assert.deepEqual(await stored(store), []);
    release();
    await waiting;
    assert.deepEqual(await stored(store), ['c0', 'c1', 'c2', 'c3', 'c4'], 'the five, written first');
    await audit.close();
    assert.deepEqual(await stored(store), ['c0', 'c1', 'c2', 'c3', 'c4', 'c5']);
  });

  it('a failed write keeps its entries (reported, in order) and the next flush writes them', async () => {
    const order: string[] = [];
    const store = recordingStore(createMemoryStore(), order);
    let failures = 1;
    const flaky: RecordStore = {
      ...store,
      transaction: (work) => {
        if (failures-- > 0) return Promise.reject(new Error('disk full'));
        return store.transaction(work);
      },
    };
    const reported: number[] = [];
    const audit = createAuditLog({
      store: flaky,
      clock: systemClock,
      random: cryptoRandom,
      batching: { flushMs: 60_000 },
      onWriteError: (_error, entries) => reported.push(entries),
    });
    await audit.record({ ...base, correlationId: 'x' });
    await audit.record({ ...base, correlationId: 'y' });
    await assert.rejects(audit.flush(), /disk full/);
    assert.deepEqual(reported, [2]);
    await audit.record({ ...base, correlationId: 'z' });
    await audit.close();
    assert.deepEqual(order, ['x', 'y', 'z']);
    assert.deepEqual(await stored(store), ['x', 'y', 'z']);
  });

  it('batching: false writes each entry before record resolves (the CLI)', async () => {
    const store = createMemoryStore();
    const audit = createAuditLog({ store, clock: systemClock, random: cryptoRandom, batching: false });
    await audit.record({ ...base, correlationId: 'now' });
    assert.deepEqual(await stored(store), ['now']);
  });
});
