import Database from 'better-sqlite3';
import type { Clock } from '../../core/clock.ts';
import { systemClock } from '../../core/clock.ts';
import { DuplicateKeyError } from '../../core/errors.ts';
import { sqliteMigrations } from '../migrations/index.ts';
import type {
  ListableRecordStore,
  ListOptions,
  NewRecord,
  RecordKeys,
  RecordStore,
  StoredRecord,
} from '../record-store.ts';
import { listLimit } from '../record-store.ts';

interface RecordRow {
  kind: string;
  id: string;
  partition: string;
  version: number;
  data: string;
  expires_at: number | null;
}

/** What only the SQLite adapter offers: see `openSqliteStore`. */
export interface SqliteFileUpkeep {
  /**
   * Copies the write-ahead log into the database file and empties it, so that earlier images of pages
   * (values as they were before an update, such as envelopes under a retired master key version) are
   * no longer on disk. False when a reader or writer of another connection kept it from completing.
   */
  checkpointAndTruncateLog(): Promise<boolean>;
  /**
   * Rewrites the whole database file (VACUUM), then empties the write-ahead log as above. Only this
   * leaves no copy of an earlier value anywhere in the file: zeroing freed space covers deletes and
   * updates, but when SQLite moves rows from a full page to another it leaves their old bytes in the
   * unused middle of the page (measured: 1 to 5 envelopes of a retired version in a small file after a
   * rotation). Every other connection's writes wait while it runs, up to their busy timeout.
   */
  compact(): Promise<boolean>;
}

export interface SqliteStoreOptions {
  /** File path, or ':memory:'. */
  readonly filename: string;
  readonly clock?: Clock;
}

/**
 * The embedded adapter (better-sqlite3, WAL). better-sqlite3 is synchronous, so an async transaction
 * must own the connection from BEGIN to COMMIT: every operation goes through one queue, and a
 * transaction holds the queue while its work awaits. Across processes, BEGIN IMMEDIATE plus a busy
 * timeout serialise writers.
 */
export function openSqliteStore(options: SqliteStoreOptions): ListableRecordStore & SqliteFileUpkeep {
  const clock = options.clock ?? systemClock;
  const db = new Database(options.filename);
  db.pragma('journal_mode = WAL');
  db.pragma('synchronous = NORMAL');
  db.pragma('busy_timeout = 5000');
  db.pragma('foreign_keys = ON');
  // Space freed by a delete or an update is zeroed, so a replaced token or a value re-wrapped by
  // `behalf vault rotate` does not linger in free pages of the file (https://sqlite.org/pragma.html#pragma_secure_delete).
  db.pragma('secure_delete = ON');
  migrate(db);

  const sql = {
    get: db.prepare<[string, string, number], RecordRow>(
      'SELECT * FROM records WHERE kind = ? AND id = ? AND (expires_at IS NULL OR expires_at > ?)',
    ),
    getAny: db.prepare<[string, string], RecordRow>('SELECT * FROM records WHERE kind = ? AND id = ?'),
    insert: db.prepare(
      'INSERT INTO records (kind, id, partition, version, data, expires_at) VALUES (?, ?, ?, 1, ?, ?)',
    ),
    update: db.prepare(
      'UPDATE records SET data = ?, version = version + 1, expires_at = ? WHERE kind = ? AND id = ? AND version = ? AND (expires_at IS NULL OR expires_at > ?)',
    ),
    deleteRow: db.prepare('DELETE FROM records WHERE kind = ? AND id = ?'),
    uniqueOwner: db.prepare<[string, string], { id: string }>(
      'SELECT id FROM unique_keys WHERE kind = ? AND key = ?',
    ),
    insertUnique: db.prepare('INSERT INTO unique_keys (kind, key, id) VALUES (?, ?, ?)'),
    deleteUniques: db.prepare('DELETE FROM unique_keys WHERE kind = ? AND id = ?'),
    insertIndex: db.prepare('INSERT OR IGNORE INTO index_keys (kind, key, id) VALUES (?, ?, ?)'),
    deleteIndexes: db.prepare('DELETE FROM index_keys WHERE kind = ? AND id = ?'),
    kinds: db.prepare<[number], { kind: string }>(
      'SELECT DISTINCT kind FROM records WHERE expires_at IS NULL OR expires_at > ? ORDER BY kind',
    ),
    expired: db.prepare<[number], { kind: string; id: string }>(
      'SELECT kind, id FROM records WHERE expires_at IS NOT NULL AND expires_at <= ?',
    ),
  };

  // Preparing costs more than running a point query, so list statements are kept by their SQL text.
  // The texts come from a handful of fixed shapes (join/partition/after/order), so the map stays small.
  const statements = new Map<string, Database.Statement<unknown[], RecordRow>>();
  const prepared = (text: string) => {
    let statement = statements.get(text);
    if (!statement) {
      statement = db.prepare<unknown[], RecordRow>(text);
      statements.set(text, statement);
    }
    return statement;
  };
  const control = {
    begin: db.prepare('BEGIN IMMEDIATE'),
    commit: db.prepare('COMMIT'),
    rollback: db.prepare('ROLLBACK'),
  };

  const toRecord = <T>(row: RecordRow): StoredRecord<T> => ({
    kind: row.kind,
    id: row.id,
    partition: row.partition,
    version: row.version,
    data: JSON.parse(row.data) as T,
    ...(row.expires_at !== null ? { expiresAt: row.expires_at } : {}),
  });

  const removeRow = (kind: string, id: string) => {
    sql.deleteRow.run(kind, id);
    sql.deleteUniques.run(kind, id);
    sql.deleteIndexes.run(kind, id);
  };

  const claimUniqueKeys = (kind: string, id: string, keys: readonly string[]) => {
    for (const key of keys) {
      const owner = sql.uniqueOwner.get(kind, key);
      if (owner && owner.id !== id) {
        // A key held by an expired record is free: the expired record goes.
        if (sql.get.get(kind, owner.id, clock.now())) throw new DuplicateKeyError(kind, key);
        removeRow(kind, owner.id);
      }
      if (!owner || owner.id !== id) sql.insertUnique.run(kind, key, id);
    }
  };

  const writeIndexes = (kind: string, id: string, keys: readonly string[]) => {
    for (const key of keys) sql.insertIndex.run(kind, key, id);
  };

  const listRows = (kind: string, options: ListOptions | undefined, join?: string): RecordRow[] => {
    const where = ['r.kind = ?', '(r.expires_at IS NULL OR r.expires_at > ?)'];
    const params: unknown[] = [kind, clock.now()];
    let from = 'records r';
    // The id column the order and the cursor use: the index entry's when listing by index key.
    let id = 'r.id';
    if (join !== undefined) {
      // CROSS JOIN fixes the loop order (https://sqlite.org/optoverview.html#crossjoin): without
      // statistics SQLite walks every record of the kind and probes index_keys for each, so a lookup by
      // index key cost time linear in the kind's size. Driving from the index entry (kind, key, id)
      // reads only the matching records, already in id order.
      from = 'index_keys i CROSS JOIN records r ON r.kind = i.kind AND r.id = i.id';
      id = 'i.id';
      where.unshift('i.kind = ?', 'i.key = ?');
      params.unshift(kind, join);
    }
    if (options?.partition !== undefined) {
      // Same reason: without statistics SQLite prefers the primary key and filters the whole kind.
      if (join === undefined) from = 'records r INDEXED BY records_by_partition';
      where.push('r.partition = ?');
      params.push(options.partition);
    }
    if (options?.after !== undefined) {
      where.push(options.descending ? `${id} < ?` : `${id} > ?`);
      params.push(options.after);
    }
    params.push(listLimit(options));
    // `LIMIT ?` alone makes this SQLite build (STAT4) re-plan the statement on every run, as a bound
    // LIMIT may change the best plan; behind CAST the planner does not look at it (measured: 4x cheaper).
    return prepared(
      `SELECT r.* FROM ${from} WHERE ${where.join(' AND ')} ORDER BY ${id} ${options?.descending ? 'DESC' : 'ASC'} LIMIT CAST(? AS INTEGER)`,
    ).all(...params);
  };

  // Synchronous primitives; atomic because better-sqlite3 runs each db.transaction() to completion.
  const ops = {
    get: <T>(kind: string, id: string) => {
      const row = sql.get.get(kind, id, clock.now());
      return row ? toRecord<T>(row) : undefined;
    },
    insert: db.transaction(<T>(record: NewRecord<T>): StoredRecord<T> => {
      const existing = sql.getAny.get(record.kind, record.id);
      if (existing) {
        if (existing.expires_at === null || existing.expires_at > clock.now())
          throw new DuplicateKeyError(record.kind, `id:${record.id}`);
        removeRow(record.kind, record.id);
      }
      const row: RecordRow = {
        kind: record.kind,
        id: record.id,
        partition: record.partition,
        version: 1,
        data: JSON.stringify(record.data),
        expires_at: record.expiresAt ?? null,
      };
      sql.insert.run(row.kind, row.id, row.partition, row.data, row.expires_at);
      claimUniqueKeys(record.kind, record.id, [...new Set(record.uniqueKeys ?? [])]);
      writeIndexes(record.kind, record.id, record.indexKeys ?? []);
      // What was written, without reading it back (the read cost as much as the insert of a small record).
      return toRecord<T>(row);
    }),
    update: db.transaction(
      <T>(
        kind: string,
        id: string,
        expectedVersion: number,
        data: T,
        keys?: RecordKeys,
      ): StoredRecord<T> | undefined => {
        const current = sql.get.get(kind, id, clock.now());
        if (!current) return undefined;
        const expiresAt = keys && 'expiresAt' in keys ? (keys.expiresAt ?? null) : current.expires_at;
        const changed = sql.update.run(
          JSON.stringify(data),
          expiresAt,
          kind,
          id,
          expectedVersion,
          clock.now(),
        );
        if (changed.changes === 0) return undefined;
        if (keys?.uniqueKeys) {
          sql.deleteUniques.run(kind, id);
          claimUniqueKeys(kind, id, [...new Set(keys.uniqueKeys)]);
        }
        if (keys?.indexKeys) {
          sql.deleteIndexes.run(kind, id);
          writeIndexes(kind, id, keys.indexKeys);
        }
        return toRecord<T>(sql.getAny.get(kind, id)!);
      },
    ),
    delete: db.transaction((kind: string, id: string, expectedVersion?: number): boolean => {
      const current = sql.get.get(kind, id, clock.now());
      if (!current || (expectedVersion !== undefined && current.version !== expectedVersion)) return false;
      removeRow(kind, id);
      return true;
    }),
    purge: db.transaction((): number => {
      const expired = sql.expired.all(clock.now());
      for (const row of expired) removeRow(row.kind, row.id);
      return expired.length;
    }),
  };

  // One queue per connection: an open transaction holds it until its async work settles.
  let queue: Promise<unknown> = Promise.resolve();
  const enqueue = <R>(task: () => R | Promise<R>): Promise<R> => {
    const run = queue.then(task);
    queue = run.catch(() => undefined);
    return run;
  };

  const makeStore = (direct: boolean): RecordStore => {
    const call = <R>(task: () => R): Promise<R> => (direct ? Promise.resolve().then(task) : enqueue(task));
    // Writes take the write lock before they read (BEGIN IMMEDIATE; a savepoint inside a transaction):
    // a deferred one that read first fails at once with SQLITE_BUSY, busy timeout or not, when another
    // process committed in between (https://www.sqlite.org/lang_transaction.html#deferred_immediate_and_exclusive_transactions).
    const self: RecordStore = {
      get: (kind, id) => call(() => ops.get(kind, id)),
      insert: <T>(record: NewRecord<T>) => call(() => ops.insert.immediate(record) as StoredRecord<T>),
      update: <T>(kind: string, id: string, version: number, data: T, keys?: RecordKeys) =>
        call(() => ops.update.immediate(kind, id, version, data, keys) as StoredRecord<T> | undefined),
      delete: (kind, id, version) => call(() => ops.delete.immediate(kind, id, version)),
      findByUniqueKey: <T>(kind: string, key: string) =>
        call(() => {
          const owner = sql.uniqueOwner.get(kind, key);
          return owner ? ops.get<T>(kind, owner.id) : undefined;
        }),
      findByIndex: <T>(kind: string, key: string, options?: ListOptions) =>
        call(() => listRows(kind, options, key).map((row) => toRecord<T>(row))),
      list: <T>(kind: string, options?: ListOptions) =>
        call(() => listRows(kind, options).map((row) => toRecord<T>(row))),
      transaction: (work) => {
        if (direct) return work(self);
        return enqueue(async () => {
          control.begin.run();
          try {
            const result = await work(inner);
            control.commit.run();
            return result;
          } catch (error) {
            if (db.inTransaction) control.rollback.run();
            throw error;
          }
        });
      },
      purgeExpired: () => call(() => ops.purge.immediate()),
      close: () => enqueue(() => void db.close()),
    };
    return self;
  };
  const truncateLog = () => {
    const [result] = db.pragma('wal_checkpoint(TRUNCATE)') as { busy: number }[];
    return result?.busy === 0;
  };
  const inner = makeStore(true);
  const outer = makeStore(false);
  return {
    ...outer,
    kinds: () => enqueue(() => sql.kinds.all(clock.now()).map((row) => row.kind)),
    checkpointAndTruncateLog: () => enqueue(truncateLog),
    compact: () =>
      enqueue(() => {
        db.exec('VACUUM');
        return truncateLog();
      }),
  };
}

function migrate(db: Database.Database): void {
  db.exec(
    'CREATE TABLE IF NOT EXISTS behalf_migrations (version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at TEXT NOT NULL)',
  );
  // IMMEDIATE takes the write lock before reading the version, so two processes cannot both apply.
  const apply = db.transaction(() => {
    const row = db.prepare<[], { v: number | null }>('SELECT MAX(version) AS v FROM behalf_migrations').get();
    const current = row?.v ?? 0;
    for (const migration of sqliteMigrations) {
      if (migration.version <= current) continue;
      db.exec(migration.sql);
      db.prepare('INSERT INTO behalf_migrations (version, name, applied_at) VALUES (?, ?, ?)').run(
        migration.version,
        migration.name,
        new Date().toISOString(),
      );
    }
  });
  apply.immediate();
}
