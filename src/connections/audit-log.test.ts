import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { manualClock, systemClock } from '../core/clock.ts';
import { cryptoRandom } from '../core/ids.ts';
import { createMemoryStore } from '../storage/adapters/memory.ts';
import type { RecordStore } from '../storage/record-store.ts';
import { AUDIT_KIND, AUDIT_PAGE_KIND, createAuditLog } from './audit-log.ts';
import type { AuditPage } from './audit-pages.ts';
import { PAGE_SPAN_MS } from './audit-pages.ts';
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
    [
      ...(await store.list<AuditEntry>(AUDIT_KIND, { limit: 1000 })).map((r) => r.data.correlationId),
      ...(await store.list<AuditPage>(AUDIT_PAGE_KIND, { limit: 1000 })).flatMap((r) =>
        r.data.entries.map((e) => e.correlationId),
      ),
    ].sort();

  /** The store, noting the correlation id of every audit entry in the order it is inserted. */
  const recordingStore = (store: RecordStore, order: string[]): RecordStore => {
    const noting = (tx: RecordStore): RecordStore => ({
      ...tx,
      insert: (record) => {
        if (record.kind === AUDIT_PAGE_KIND)
          order.push(...(record.data as AuditPage).entries.map((e) => e.correlationId));
        else order.push((record.data as AuditEntry).correlationId);
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
    const clock = manualClock();
    const store = createMemoryStore({ clock });
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
      clock,
      random: cryptoRandom,
      batching: { flushMs: 60_000, maxBatch: 3 },
    });
    const expected: string[] = [];
    for (let i = 0; i < 10; i++) {
      expected.push(`c${i}`);
      clock.advance(1); // within a page entries are ordered by id; one per millisecond keeps record order
      await audit.record({ ...base, correlationId: `c${i}` });
    }
    await audit.close();
    assert.deepEqual(order, expected);
    assert.deepEqual(await stored(store), [...expected].sort());
    assert.ok(transactions >= 4 && transactions <= 5, `batches of 3: ${transactions} transactions`);
    // After close, an entry is written before record resolves (nothing can be left behind).
    clock.advance(1);
    await audit.record({ ...base, correlationId: 'late' });
    assert.equal(order.at(-1), 'late');
    assert.equal((await stored(store)).length, 11);
  });

  it('a batch is one page per tenant, spanning at most PAGE_SPAN_MS; queries find entries inside pages', async () => {
    const clock = manualClock();
    const store = createMemoryStore({ clock });
    const audit = createAuditLog({ store, clock, random: cryptoRandom, batching: { flushMs: 60_000 } });
    await audit.record({ ...base, correlationId: 'a1' });
    clock.advance(1);
    await audit.record({ ...base, tenantId: 'fabrikam', correlationId: 'f1' });
    clock.advance(400);
    await audit.record({ ...base, callerObjectId: 'bob', correlationId: 'a2' });
    clock.advance(PAGE_SPAN_MS); // too far from the first entry for the same page
    await audit.record({ ...base, correlationId: 'a3' });
    await audit.flush();
    const pages = await store.list<AuditPage>(AUDIT_PAGE_KIND, { limit: 100 });
    assert.deepEqual(
      pages.map((p) => `${p.partition}:${p.data.entries.map((e) => e.correlationId).join(',')}`).sort(),
      ['contoso:a1,a2', 'contoso:a3', 'fabrikam:f1'],
    );
    assert.deepEqual(await store.list(AUDIT_KIND, { limit: 100 }), [], 'no per-entry records');
    const ids = (q: Parameters<typeof audit.query>[0]) =>
      audit.query(q).then((r) => r.entries.map((e) => e.correlationId));
    assert.deepEqual(await ids({ correlationId: 'a2' }), ['a2']);
    assert.deepEqual(await ids({ callerObjectId: 'bob' }), ['a2']);
    assert.deepEqual(await ids({ callerObjectId: 'alice' }), ['a3', 'f1', 'a1']);
    assert.deepEqual(await ids({ callerObjectId: 'alice', tenantId: 'contoso' }), ['a3', 'a1']);
    assert.deepEqual(await ids({ tenantId: 'fabrikam' }), ['f1']);
    assert.deepEqual(await ids({}), ['a3', 'a2', 'f1', 'a1']);
  });

  it('newest first across pages that overlap in time (two processes), page by page, since and until', async () => {
    const clock = manualClock();
    const store = createMemoryStore({ clock });
    const one = createAuditLog({ store, clock, random: cryptoRandom, batching: { flushMs: 60_000 } });
    const two = createAuditLog({ store, clock, random: cryptoRandom, batching: { flushMs: 60_000 } });
    // The first layout's records (one per entry, as before pages) are read along with the pages.
    const legacy = createAuditLog({ store, clock, random: cryptoRandom, batching: false });
    const expected: string[] = [];
    for (let i = 0; i < 30; i++) {
      clock.advance(37);
      const log = i % 5 === 4 ? legacy : i % 2 ? two : one;
      await log.record({ ...base, correlationId: `e${String(i).padStart(2, '0')}` });
      expected.unshift(`e${String(i).padStart(2, '0')}`);
      if (i % 7 === 6) await one.flush();
      if (i % 4 === 3) await two.flush();
    }
    await one.flush();
    await two.flush();
    const reader = createAuditLog({ store, clock, random: cryptoRandom });
    const seen: string[] = [];
    let before: string | undefined;
    for (let n = 0; n < 20; n++) {
      const page = await reader.query({ limit: 4, ...(before !== undefined ? { before } : {}) });
      seen.push(...page.entries.map((e) => e.correlationId));
      if (!page.next) break;
      before = page.next;
    }
    assert.deepEqual(seen, expected);
    const start = Date.UTC(2026, 0, 1);
    const window = await reader.query({
      since: new Date(start + 37 * 10).toISOString(),
      until: new Date(start + 37 * 14).toISOString(),
    });
    assert.deepEqual(
      window.entries.map((e) => e.correlationId),
      ['e13', 'e12', 'e11', 'e10', 'e09'],
    );
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
    const clock = manualClock();
    const store = recordingStore(createMemoryStore({ clock }), order);
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
      clock,
      random: cryptoRandom,
      batching: { flushMs: 60_000 },
      onWriteError: (_error, entries) => reported.push(entries),
    });
    await audit.record({ ...base, correlationId: 'x' });
    clock.advance(1);
    await audit.record({ ...base, correlationId: 'y' });
    await assert.rejects(audit.flush(), /disk full/);
    assert.deepEqual(reported, [2]);
    clock.advance(1);
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
