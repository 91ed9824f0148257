import type { NewRecord, RecordKeys, RecordStore } from '../storage/record-store.ts';

/** A counter that moves whenever this process has written a directory record. */
export interface DirectoryChanges {
  generation(): number;
}

/** The directory's record kinds (src/directory/deps.ts KIND): `directory.tenant`, `directory.application`… */
export const isDirectoryKind = (kind: string): boolean => kind.startsWith('directory.');

/**
 * The store the directory writes through, reporting each of its writes: the token service's caches
 * (directory-cache.ts) drop everything read before the latest write, so a removed secret, a disabled
 * service principal, a new consent grant is seen by the very next token request of this process.
 *
 * The counter moves once the write is visible to other readers: when the write settles, and for a
 * write inside a transaction, again when the transaction settles (committed or rolled back). A cached
 * read is tagged with the counter as it was when the read started, so a read that raced a write is
 * never kept past it. Writes by other processes sharing the database cannot be heard here: for those
 * the caches' TTL is the bound.
 */
export function watchDirectoryWrites(store: RecordStore): { store: RecordStore; changes: DirectoryChanges } {
  let generation = 0;
  const bump = () => {
    generation++;
  };

  function watch(inner: RecordStore, wrote: () => void): RecordStore {
    const written = <T>(kind: string, work: Promise<T>): Promise<T> => {
      if (!isDirectoryKind(kind)) return work;
      wrote();
      return work.finally(bump);
    };
    return {
      get: <T>(kind: string, id: string) => inner.get<T>(kind, id),
      insert: <T>(record: NewRecord<T>) => written(record.kind, inner.insert<T>(record)),
      update: <T>(kind: string, id: string, expectedVersion: number, data: T, keys?: RecordKeys) =>
        written(kind, inner.update<T>(kind, id, expectedVersion, data, keys)),
      delete: (kind, id, expectedVersion) => written(kind, inner.delete(kind, id, expectedVersion)),
      findByUniqueKey: <T>(kind: string, key: string) => inner.findByUniqueKey<T>(kind, key),
      findByIndex: <T>(kind: string, key: string, options?: Parameters<RecordStore['findByIndex']>[2]) =>
        inner.findByIndex<T>(kind, key, options),
      list: <T>(kind: string, options?: Parameters<RecordStore['list']>[1]) => inner.list<T>(kind, options),
      transaction: <R>(work: (tx: RecordStore) => Promise<R>) => {
        let directoryWrite = false;
        const marked = () => {
          directoryWrite = true;
          wrote();
        };
        return inner
          .transaction((tx) => work(watch(tx, marked)))
          .finally(() => {
            if (directoryWrite) bump();
          });
      },
      purgeExpired: () =>
        inner.purgeExpired().then((removed) => {
          if (removed > 0) bump();
          return removed;
        }),
      close: () => inner.close(),
    };
  }

  return { store: watch(store, () => undefined), changes: { generation: () => generation } };
}
