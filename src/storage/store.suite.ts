import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { ManualClock } from '../core/clock.ts';
import { DuplicateKeyError } from '../core/errors.ts';
import type { ListableRecordStore } from './record-store.ts';

export interface StoreFactory {
  /** A fresh, empty store whose expiry is judged by `clock`. */
  open(clock: ManualClock): Promise<ListableRecordStore>;
}

/** The behaviour every adapter must show. Each adapter's test file runs this suite against itself. */
export function storeSuite(name: string, factory: StoreFactory, makeClock: () => ManualClock): void {
  describe(`RecordStore contract: ${name}`, () => {
    const withStore = async (work: (store: ListableRecordStore, clock: ManualClock) => Promise<void>) => {
      const clock = makeClock();
      const store = await factory.open(clock);
      try {
        await work(store, clock);
      } finally {
        await store.close();
      }
    };

    it('inserts, reads back a copy, and versions from 1', () =>
      withStore(async (store) => {
        const data = { name: 'Contoso', nested: { list: [1, 2] } };
        const inserted = await store.insert({ kind: 'tenant', id: 't1', partition: '', data });
        assert.equal(inserted.version, 1);
        data.nested.list.push(3);
        const read = await store.get<typeof data>('tenant', 't1');
        assert.deepEqual(read?.data, { name: 'Contoso', nested: { list: [1, 2] } });
        assert.equal(await store.get('tenant', 'missing'), undefined);
        assert.equal(await store.get('user', 't1'), undefined, 'kinds are separate namespaces');
      }));

    it('refuses a second record with the same id', () =>
      withStore(async (store) => {
        await store.insert({ kind: 'app', id: 'a', partition: 'p', data: {} });
        await assert.rejects(
          store.insert({ kind: 'app', id: 'a', partition: 'p', data: {} }),
          DuplicateKeyError,
        );
      }));

    it('enforces unique keys per kind, and frees them on delete and on key change', () =>
      withStore(async (store) => {
        await store.insert({ kind: 'app', id: 'a', partition: 'p', data: {}, uniqueKeys: ['uri:api://x'] });
        await assert.rejects(
          store.insert({ kind: 'app', id: 'b', partition: 'p', data: {}, uniqueKeys: ['uri:api://x'] }),
          (error: unknown) => error instanceof DuplicateKeyError && error.key === 'uri:api://x',
        );
        assert.equal(await store.get('app', 'b'), undefined, 'a failed insert leaves nothing behind');
        await store.insert({ kind: 'sp', id: 'b', partition: 'p', data: {}, uniqueKeys: ['uri:api://x'] });
        const found = await store.findByUniqueKey('app', 'uri:api://x');
        assert.equal(found?.id, 'a');
        const a = await store.update('app', 'a', 1, { renamed: true }, { uniqueKeys: ['uri:api://y'] });
        assert.equal(a?.version, 2);
        assert.equal(await store.findByUniqueKey('app', 'uri:api://x'), undefined);
        await store.insert({ kind: 'app', id: 'c', partition: 'p', data: {}, uniqueKeys: ['uri:api://x'] });
        assert.equal(await store.delete('app', 'a'), true);
        await store.insert({ kind: 'app', id: 'd', partition: 'p', data: {}, uniqueKeys: ['uri:api://y'] });
      }));

    it('rejects an update that would take a key held by another record, changing nothing', () =>
      withStore(async (store) => {
        await store.insert({ kind: 'app', id: 'a', partition: 'p', data: { v: 'a' }, uniqueKeys: ['k1'] });
        await store.insert({ kind: 'app', id: 'b', partition: 'p', data: { v: 'b' }, uniqueKeys: ['k2'] });
        await assert.rejects(
          store.update('app', 'b', 1, { v: 'changed' }, { uniqueKeys: ['k1'] }),
          DuplicateKeyError,
        );
        const b = await store.get('app', 'b');
        assert.deepEqual(b?.data, { v: 'b' });
        assert.equal(b?.version, 1);
        assert.equal((await store.findByUniqueKey('app', 'k2'))?.id, 'b');
      }));

    it('updates only at the expected version (compare-and-swap)', () =>
      withStore(async (store) => {
        await store.insert({ kind: 'conn', id: 'c', partition: 'p', data: { n: 0 } });
        assert.equal((await store.update('conn', 'c', 1, { n: 1 }))?.version, 2);
        assert.equal(await store.update('conn', 'c', 1, { n: 99 }), undefined);
        assert.deepEqual((await store.get('conn', 'c'))?.data, { n: 1 });
        assert.equal(await store.update('conn', 'missing', 1, {}), undefined);
      }));

    it('lets exactly one of many concurrent compare-and-swaps win', () =>
      withStore(async (store) => {
        await store.insert({ kind: 'conn', id: 'c', partition: 'p', data: { winner: null } });
        const attempts = await Promise.all(
          Array.from({ length: 20 }, (_, i) => store.update('conn', 'c', 1, { winner: i })),
        );
        assert.equal(attempts.filter((r) => r !== undefined).length, 1);
      }));

    it('deletes once, and only at the expected version when one is given', () =>
      withStore(async (store) => {
        await store.insert({ kind: 'code', id: 'x', partition: 'p', data: {} });
        assert.equal(await store.delete('code', 'x', 7), false);
        const results = await Promise.all([store.delete('code', 'x', 1), store.delete('code', 'x', 1)]);
        assert.deepEqual(results.sort(), [false, true]);
        assert.equal(await store.get('code', 'x'), undefined);
      }));

    it('lists by partition in id order, with paging in both directions', () =>
      withStore(async (store) => {
        for (const id of ['b', 'a', 'd', 'c', 'B'])
          await store.insert({ kind: 'user', id, partition: id === 'd' ? 'other' : 'p', data: { id } });
        const all = await store.list('user', { partition: 'p' });
        assert.deepEqual(
          all.map((r) => r.id),
          ['B', 'a', 'b', 'c'],
          'bytewise order: upper case first',
        );
        const page1 = await store.list('user', { partition: 'p', limit: 2 });
        const page2 = await store.list('user', { partition: 'p', limit: 2, after: page1.at(-1)!.id });
        assert.deepEqual(
          [...page1, ...page2].map((r) => r.id),
          ['B', 'a', 'b', 'c'],
        );
        const newest = await store.list('user', { partition: 'p', descending: true, limit: 2 });
        assert.deepEqual(
          newest.map((r) => r.id),
          ['c', 'b'],
        );
        const older = await store.list('user', { partition: 'p', descending: true, after: 'b' });
        assert.deepEqual(
          older.map((r) => r.id),
          ['a', 'B'],
        );
        assert.equal((await store.list('user')).length, 5);
      }));

    it('finds by non-unique index keys and replaces them on update', () =>
      withStore(async (store) => {
        await store.insert({
          kind: 'grant',
          id: 'g1',
          partition: 't',
          data: {},
          indexKeys: ['client:x', 'resource:y'],
        });
        await store.insert({ kind: 'grant', id: 'g2', partition: 't', data: {}, indexKeys: ['client:x'] });
        await store.insert({ kind: 'grant', id: 'g3', partition: 'u', data: {}, indexKeys: ['client:x'] });
        assert.deepEqual(
          (await store.findByIndex('grant', 'client:x')).map((r) => r.id),
          ['g1', 'g2', 'g3'],
        );
        assert.deepEqual(
          (await store.findByIndex('grant', 'client:x', { partition: 't' })).map((r) => r.id),
          ['g1', 'g2'],
        );
        await store.update('grant', 'g1', 1, {}, { indexKeys: ['client:z'] });
        assert.deepEqual(
          (await store.findByIndex('grant', 'client:x')).map((r) => r.id),
          ['g2', 'g3'],
        );
        await store.delete('grant', 'g2');
        assert.deepEqual(
          (await store.findByIndex('grant', 'client:x')).map((r) => r.id),
          ['g3'],
        );
      }));

    it('hides expired records, frees their keys, and purges them', () =>
      withStore(async (store, clock) => {
        const soon = clock.now() + 1000;
        await store.insert({
          kind: 'code',
          id: 'c1',
          partition: 'p',
          data: {},
          uniqueKeys: ['k'],
          indexKeys: ['i'],
          expiresAt: soon,
        });
        await store.insert({ kind: 'code', id: 'c2', partition: 'p', data: {}, expiresAt: soon + 10_000 });
        assert.equal((await store.get('code', 'c1'))?.expiresAt, soon);
        clock.advance(1000);
        assert.equal(await store.get('code', 'c1'), undefined);
        assert.equal(await store.findByUniqueKey('code', 'k'), undefined);
        assert.deepEqual(await store.findByIndex('code', 'i'), []);
        assert.equal(await store.update('code', 'c1', 1, {}), undefined);
        assert.equal(await store.delete('code', 'c1'), false);
        await store.insert({ kind: 'code', id: 'c3', partition: 'p', data: {}, uniqueKeys: ['k'] });
        await store.insert({ kind: 'code', id: 'c1', partition: 'p', data: { again: true } });
        assert.deepEqual(
          (await store.list('code')).map((r) => r.id),
          ['c1', 'c2', 'c3'],
        );
        await store.update('code', 'c2', 1, {}, { expiresAt: clock.now() });
        assert.equal(await store.purgeExpired(), 1);
      }));

    it('names the kinds that hold live records, bytewise sorted (for store-wide passes)', () =>
      withStore(async (store, clock) => {
        assert.deepEqual(await store.kinds(), []);
        await store.insert({ kind: 'connection', id: 'c', partition: 't1', data: {} });
        await store.insert({ kind: 'connection', id: 'd', partition: 't2', data: {} });
        await store.insert({ kind: 'Zeta', id: 'z', partition: '', data: {} });
        await store.insert({ kind: 'code', id: 'x', partition: 'p', data: {}, expiresAt: clock.now() + 10 });
        await store.insert({ kind: 'gone', id: 'g', partition: 'p', data: {} });
        assert.deepEqual(await store.kinds(), ['Zeta', 'code', 'connection', 'gone']);
        await store.delete('gone', 'g');
        clock.advance(10);
        assert.deepEqual(await store.kinds(), ['Zeta', 'connection'], 'no deleted or expired kind');
      }));

    it('commits a transaction whole, or rolls it back whole', () =>
      withStore(async (store) => {
        await store.transaction(async (tx) => {
          await tx.insert({ kind: 'app', id: 'a', partition: 'p', data: {}, uniqueKeys: ['k'] });
          await tx.insert({ kind: 'sp', id: 's', partition: 'p', data: {} });
        });
        assert.ok(await store.get('sp', 's'));
        await assert.rejects(
          store.transaction(async (tx) => {
            await tx.insert({ kind: 'app', id: 'b', partition: 'p', data: {} });
            await tx.update('app', 'a', 1, { changed: true });
            await tx.insert({ kind: 'app', id: 'c', partition: 'p', data: {}, uniqueKeys: ['k'] });
          }),
          DuplicateKeyError,
        );
        assert.equal(await store.get('app', 'b'), undefined);
        assert.deepEqual((await store.get('app', 'a'))?.data, {});
        const nested = await store.transaction((tx) =>
          tx.transaction(async (inner) => (await inner.get('app', 'a'))?.id),
        );
        assert.equal(nested, 'a');
      }));

    it('keeps concurrent transactions from interleaving (read-modify-write counter)', () =>
      withStore(async (store) => {
        await store.insert({ kind: 'counter', id: 'n', partition: '', data: { n: 0 } });
        await Promise.all(
          Array.from({ length: 10 }, () =>
            store
              .transaction(async (tx) => {
                const current = await tx.get<{ n: number }>('counter', 'n');
                const updated = await tx.update('counter', 'n', current!.version, { n: current!.data.n + 1 });
                if (!updated) throw new Error('lost update');
              })
              .catch(() => undefined),
          ),
        );
        const final = await store.get<{ n: number }>('counter', 'n');
        assert.equal(final?.data.n, final!.version - 1, 'every committed increment is counted once');
        assert.ok(final!.data.n >= 1);
      }));
  });
}
