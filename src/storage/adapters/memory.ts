import type { Clock } from '../../core/clock.ts';
import { systemClock } from '../../core/clock.ts';
import { DuplicateKeyError } from '../../core/errors.ts';
import { compareIds } from '../../core/ids.ts';
import type {
  ListableRecordStore,
  ListOptions,
  NewRecord,
  RecordKeys,
  RecordStore,
  StoredRecord,
} from '../record-store.ts';
import { listLimit } from '../record-store.ts';

interface Row {
  record: StoredRecord;
  uniqueKeys: readonly string[];
  indexKeys: readonly string[];
}

/**
 * The in-memory adapter: first-class, used by unit tests. Data is deep-copied in and out so callers can
 * never mutate stored state by accident, exactly as with the SQL adapters.
 */
export function createMemoryStore(options: { clock?: Clock } = {}): ListableRecordStore {
  const clock = options.clock ?? systemClock;
  let rows = new Map<string, Row>();
  let unique = new Map<string, string>();
  let chain: Promise<unknown> = Promise.resolve();
  let inTransaction = false;

  const rowKey = (kind: string, id: string) => `${kind}\u0000${id}`;
  const uniqueKey = (kind: string, key: string) => `${kind}\u0000${key}`;
  const live = (row: Row | undefined): row is Row =>
    row !== undefined && (row.record.expiresAt === undefined || row.record.expiresAt > clock.now());
  const copy = <T>(record: StoredRecord): StoredRecord<T> => structuredClone(record) as StoredRecord<T>;

  const dropExpired = (kind: string, id: string) => {
    const row = rows.get(rowKey(kind, id));
    if (row && !live(row)) removeRow(kind, id, row);
  };
  const removeRow = (kind: string, id: string, row: Row) => {
    rows.delete(rowKey(kind, id));
    for (const key of row.uniqueKeys) unique.delete(uniqueKey(kind, key));
  };
  const claimKeys = (kind: string, id: string, keys: readonly string[]) => {
    for (const key of keys) {
      const owner = unique.get(uniqueKey(kind, key));
      if (owner === undefined || owner === id) continue;
      const ownerRow = rows.get(rowKey(kind, owner));
      if (live(ownerRow)) throw new DuplicateKeyError(kind, key);
      if (ownerRow) removeRow(kind, owner, ownerRow);
    }
  };

  const sorted = (kind: string, filter: (row: Row) => boolean, options?: ListOptions) => {
    const matches = [...rows.values()].filter((row) => row.record.kind === kind && live(row) && filter(row));
    matches.sort((a, b) => compareIds(a.record.id, b.record.id));
    if (options?.descending) matches.reverse();
    const after = options?.after;
    const page = matches.filter(
      (row) => after === undefined || (options?.descending ? row.record.id < after : row.record.id > after),
    );
    return page.slice(0, listLimit(options)).map((row) => copy<never>(row.record));
  };

  const store: RecordStore = {
    async get<T>(kind: string, id: string) {
      const row = rows.get(rowKey(kind, id));
      return live(row) ? copy<T>(row.record) : undefined;
    },
    async insert<T>(record: NewRecord<T>) {
      dropExpired(record.kind, record.id);
      if (rows.has(rowKey(record.kind, record.id)))
        throw new DuplicateKeyError(record.kind, `id:${record.id}`);
      const uniqueKeys = [...new Set(record.uniqueKeys ?? [])];
      claimKeys(record.kind, record.id, uniqueKeys);
      const stored: StoredRecord = {
        kind: record.kind,
        id: record.id,
        partition: record.partition,
        version: 1,
        data: structuredClone(record.data),
        ...(record.expiresAt !== undefined ? { expiresAt: record.expiresAt } : {}),
      };
      rows.set(rowKey(record.kind, record.id), {
        record: stored,
        uniqueKeys,
        indexKeys: [...(record.indexKeys ?? [])],
      });
      for (const key of uniqueKeys) unique.set(uniqueKey(record.kind, key), record.id);
      return copy<T>(stored);
    },
    async update<T>(kind: string, id: string, expectedVersion: number, data: T, keys?: RecordKeys) {
      const row = rows.get(rowKey(kind, id));
      if (!live(row) || row.record.version !== expectedVersion) return undefined;
      const uniqueKeys = keys?.uniqueKeys ? [...new Set(keys.uniqueKeys)] : row.uniqueKeys;
      claimKeys(kind, id, uniqueKeys);
      for (const key of row.uniqueKeys) unique.delete(uniqueKey(kind, key));
      for (const key of uniqueKeys) unique.set(uniqueKey(kind, key), id);
      const expiresAt = keys && 'expiresAt' in keys ? keys.expiresAt : row.record.expiresAt;
      const stored: StoredRecord = {
        kind,
        id,
        partition: row.record.partition,
        version: row.record.version + 1,
        data: structuredClone(data),
        ...(expiresAt !== undefined ? { expiresAt } : {}),
      };
      rows.set(rowKey(kind, id), {
        record: stored,
        uniqueKeys,
        indexKeys: keys?.indexKeys ? [...keys.indexKeys] : row.indexKeys,
      });
      return copy<T>(stored);
    },
    async delete(kind: string, id: string, expectedVersion?: number) {
      const row = rows.get(rowKey(kind, id));
      if (!live(row) || (expectedVersion !== undefined && row.record.version !== expectedVersion))
        return false;
      removeRow(kind, id, row);
      return true;
    },
    async findByUniqueKey<T>(kind: string, key: string) {
      const id = unique.get(uniqueKey(kind, key));
      return id === undefined ? undefined : store.get<T>(kind, id);
    },
    async findByIndex<T>(kind: string, key: string, options?: ListOptions) {
      return sorted(
        kind,
        (row) =>
          row.indexKeys.includes(key) &&
          (options?.partition === undefined || row.record.partition === options.partition),
        options,
      ) as StoredRecord<T>[];
    },
    async list<T>(kind: string, options?: ListOptions) {
      return sorted(
        kind,
        (row) => options?.partition === undefined || row.record.partition === options.partition,
        options,
      ) as StoredRecord<T>[];
    },
    async transaction<R>(work: (tx: RecordStore) => Promise<R>): Promise<R> {
      if (inTransaction) return work(store);
      // Transactions run one at a time; a failed one restores the snapshot taken before it began.
      const run = chain.then(async () => {
        const snapshotRows = new Map(
          [...rows].map(([k, v]) => [k, { ...v, record: structuredClone(v.record) }]),
        );
        const snapshotUnique = new Map(unique);
        inTransaction = true;
        try {
          return await work(store);
        } catch (error) {
          rows = snapshotRows;
          unique = snapshotUnique;
          throw error;
        } finally {
          inTransaction = false;
        }
      });
      chain = run.catch(() => undefined);
      return run;
    },
    async purgeExpired() {
      let removed = 0;
      for (const row of [...rows.values()]) {
        if (row.record.expiresAt !== undefined && row.record.expiresAt <= clock.now()) {
          removeRow(row.record.kind, row.record.id, row);
          removed++;
        }
      }
      return removed;
    },
    async close() {},
  };
  return {
    ...store,
    async kinds() {
      const kinds = new Set([...rows.values()].filter(live).map((row) => row.record.kind));
      return [...kinds].sort(compareIds);
    },
  };
}
