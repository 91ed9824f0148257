import pg from 'pg';
import type { Clock } from '../../core/clock.ts';
import { systemClock } from '../../core/clock.ts';
import { DuplicateKeyError } from '../../core/errors.ts';
import { postgresMigrations } from '../migrations/index.ts';
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
  expires_at: string | null;
}

export interface PostgresStoreOptions {
  readonly connectionString: string;
  /** A schema of its own (created if missing): isolates tests and lets tenants of a cluster coexist. */
  readonly schema?: string;
  readonly clock?: Clock;
  readonly poolSize?: number;
}

/** What only the PostgreSQL adapter offers: see `openPostgresStore`. */
export interface PostgresTableUpkeep {
  /**
   * Rewrites the records table (VACUUM FULL), so the row versions an update or a delete left behind,
   * values as they were included, are no longer in its files. It holds an exclusive lock on the table
   * while it runs: every node's reads and writes of the store wait for it.
   */
  compact(): Promise<void>;
}

type Queryable = Pick<pg.PoolClient, 'query'>;

// Stable across nodes: every Behalf process takes the same advisory lock to migrate.
const MIGRATION_LOCK = 0x62656861;
const UNIQUE_VIOLATION = '23505';
const SCHEMA_NAME = /^[a-z_][a-z0-9_]{0,62}$/;

/**
 * The many-node adapter (node-postgres). Writes that touch several tables run in a transaction on one
 * client; unique keys are enforced by the primary key of unique_keys, so two nodes racing for the same
 * identifier URI get exactly one winner.
 */
export async function openPostgresStore(
  options: PostgresStoreOptions,
): Promise<ListableRecordStore & PostgresTableUpkeep> {
  const clock = options.clock ?? systemClock;
  const schema = options.schema ?? 'public';
  if (!SCHEMA_NAME.test(schema)) throw new Error(`invalid PostgreSQL schema name ${JSON.stringify(schema)}`);
  const pool = new pg.Pool({
    connectionString: options.connectionString,
    max: options.poolSize ?? 10,
    options: `-c search_path=${schema}`,
  });
  // An idle client that loses its server must not crash the process; the next query reconnects.
  pool.on('error', () => undefined);
  await migrate(pool, schema);

  const toRecord = <T>(row: RecordRow): StoredRecord<T> => ({
    kind: row.kind,
    id: row.id,
    partition: row.partition,
    version: row.version,
    data: JSON.parse(row.data) as T,
    ...(row.expires_at !== null ? { expiresAt: Number(row.expires_at) } : {}),
  });

  const inTx = async <R>(client: Queryable | undefined, work: (q: Queryable) => Promise<R>): Promise<R> => {
    if (client) return work(client);
    const own = await pool.connect();
    try {
      await own.query('BEGIN');
      const result = await work(own);
      await own.query('COMMIT');
      return result;
    } catch (error) {
      await own.query('ROLLBACK').catch(() => undefined);
      throw error;
    } finally {
      own.release();
    }
  };

  const removeRow = async (q: Queryable, kind: string, id: string) => {
    await q.query('DELETE FROM records WHERE kind = $1 AND id = $2', [kind, id]);
    await q.query('DELETE FROM unique_keys WHERE kind = $1 AND id = $2', [kind, id]);
    await q.query('DELETE FROM index_keys WHERE kind = $1 AND id = $2', [kind, id]);
  };

  const claimUniqueKeys = async (q: Queryable, kind: string, id: string, keys: readonly string[]) => {
    for (const key of keys) {
      const owner = await q.query<{ id: string; live: boolean }>(
        `SELECT u.id, (r.id IS NOT NULL AND (r.expires_at IS NULL OR r.expires_at > $3)) AS live
           FROM unique_keys u LEFT JOIN records r ON r.kind = u.kind AND r.id = u.id
          WHERE u.kind = $1 AND u.key = $2 FOR UPDATE OF u`,
        [kind, key, clock.now()],
      );
      const held = owner.rows[0];
      if (held && held.id === id) continue;
      if (held?.live) throw new DuplicateKeyError(kind, key);
      if (held) await removeRow(q, kind, held.id);
      try {
        await q.query('INSERT INTO unique_keys (kind, key, id) VALUES ($1, $2, $3)', [kind, key, id]);
      } catch (error) {
        throw isUniqueViolation(error) ? new DuplicateKeyError(kind, key) : error;
      }
    }
  };

  const writeIndexes = async (q: Queryable, kind: string, id: string, keys: readonly string[]) => {
    for (const key of new Set(keys))
      await q.query('INSERT INTO index_keys (kind, key, id) VALUES ($1, $2, $3) ON CONFLICT DO NOTHING', [
        kind,
        key,
        id,
      ]);
  };

  const liveRow = async (q: Queryable, kind: string, id: string, lock = false) =>
    (
      await q.query<RecordRow>(
        `SELECT * FROM records WHERE kind = $1 AND id = $2 AND (expires_at IS NULL OR expires_at > $3)${lock ? ' FOR UPDATE' : ''}`,
        [kind, id, clock.now()],
      )
    ).rows[0];

  const listRows = async (
    q: Queryable,
    kind: string,
    options: ListOptions | undefined,
    indexKey?: string,
  ) => {
    const params: unknown[] = [kind, clock.now()];
    const where = ['r.kind = $1', '(r.expires_at IS NULL OR r.expires_at > $2)'];
    let from = 'records r';
    if (indexKey !== undefined) {
      params.push(indexKey);
      from += ' JOIN index_keys i ON i.kind = r.kind AND i.id = r.id';
      where.push(`i.key = $${params.length}`);
    }
    if (options?.partition !== undefined) {
      params.push(options.partition);
      where.push(`r.partition = $${params.length}`);
    }
    if (options?.after !== undefined) {
      params.push(options.after);
      where.push(`r.id ${options.descending ? '<' : '>'} $${params.length}`);
    }
    params.push(listLimit(options));
    const result = await q.query<RecordRow>(
      `SELECT r.* FROM ${from} WHERE ${where.join(' AND ')} ORDER BY r.id ${options?.descending ? 'DESC' : 'ASC'} LIMIT $${params.length}`,
      params,
    );
    return result.rows;
  };

  const makeStore = (client: Queryable | undefined): RecordStore => {
    const q: Queryable = client ?? pool;
    const self: RecordStore = {
      async get<T>(kind: string, id: string) {
        const row = await liveRow(q, kind, id);
        return row ? toRecord<T>(row) : undefined;
      },
      insert: <T>(record: NewRecord<T>) =>
        inTx(client, async (tx) => {
          const existing = (
            await tx.query<RecordRow>('SELECT * FROM records WHERE kind = $1 AND id = $2 FOR UPDATE', [
              record.kind,
              record.id,
            ])
          ).rows[0];
          if (existing) {
            if (existing.expires_at === null || Number(existing.expires_at) > clock.now())
              throw new DuplicateKeyError(record.kind, `id:${record.id}`);
            await removeRow(tx, record.kind, record.id);
          }
          let inserted: RecordRow | undefined;
          try {
            inserted = (
              await tx.query<RecordRow>(
                'INSERT INTO records (kind, id, partition, version, data, expires_at) VALUES ($1, $2, $3, 1, $4, $5) RETURNING *',
                [
                  record.kind,
                  record.id,
                  record.partition,
                  JSON.stringify(record.data),
                  record.expiresAt ?? null,
                ],
              )
            ).rows[0];
          } catch (error) {
            throw isUniqueViolation(error) ? new DuplicateKeyError(record.kind, `id:${record.id}`) : error;
          }
          await claimUniqueKeys(tx, record.kind, record.id, [...new Set(record.uniqueKeys ?? [])]);
          await writeIndexes(tx, record.kind, record.id, record.indexKeys ?? []);
          return toRecord<T>(inserted!);
        }),
      update: <T>(kind: string, id: string, expectedVersion: number, data: T, keys?: RecordKeys) =>
        inTx(client, async (tx) => {
          const current = await liveRow(tx, kind, id, true);
          if (!current || current.version !== expectedVersion) return undefined;
          const expiresAt = keys && 'expiresAt' in keys ? (keys.expiresAt ?? null) : current.expires_at;
          const updated = (
            await tx.query<RecordRow>(
              'UPDATE records SET data = $1, version = version + 1, expires_at = $2 WHERE kind = $3 AND id = $4 RETURNING *',
              [JSON.stringify(data), expiresAt, kind, id],
            )
          ).rows[0];
          if (keys?.uniqueKeys) {
            await tx.query('DELETE FROM unique_keys WHERE kind = $1 AND id = $2', [kind, id]);
            await claimUniqueKeys(tx, kind, id, [...new Set(keys.uniqueKeys)]);
          }
          if (keys?.indexKeys) {
            await tx.query('DELETE FROM index_keys WHERE kind = $1 AND id = $2', [kind, id]);
            await writeIndexes(tx, kind, id, keys.indexKeys);
          }
          return toRecord<T>(updated!);
        }),
      delete: (kind: string, id: string, expectedVersion?: number) =>
        inTx(client, async (tx) => {
          const current = await liveRow(tx, kind, id, true);
          if (!current || (expectedVersion !== undefined && current.version !== expectedVersion))
            return false;
          await removeRow(tx, kind, id);
          return true;
        }),
      async findByUniqueKey<T>(kind: string, key: string) {
        const result = await q.query<RecordRow>(
          `SELECT r.* FROM unique_keys u JOIN records r ON r.kind = u.kind AND r.id = u.id
            WHERE u.kind = $1 AND u.key = $2 AND (r.expires_at IS NULL OR r.expires_at > $3)`,
          [kind, key, clock.now()],
        );
        const row = result.rows[0];
        return row ? toRecord<T>(row) : undefined;
      },
      findByIndex: async <T>(kind: string, key: string, options?: ListOptions) =>
        (await listRows(q, kind, options, key)).map((row) => toRecord<T>(row)),
      list: async <T>(kind: string, options?: ListOptions) =>
        (await listRows(q, kind, options)).map((row) => toRecord<T>(row)),
      transaction: <R>(work: (tx: RecordStore) => Promise<R>) =>
        client ? work(self) : inTx(undefined, (tx) => work(makeStore(tx))),
      purgeExpired: () =>
        inTx(client, async (tx) => {
          const expired = await tx.query<{ kind: string; id: string }>(
            'DELETE FROM records WHERE expires_at IS NOT NULL AND expires_at <= $1 RETURNING kind, id',
            [clock.now()],
          );
          for (const row of expired.rows) {
            await tx.query('DELETE FROM unique_keys WHERE kind = $1 AND id = $2', [row.kind, row.id]);
            await tx.query('DELETE FROM index_keys WHERE kind = $1 AND id = $2', [row.kind, row.id]);
          }
          return expired.rowCount ?? 0;
        }),
      close: () => pool.end(),
    };
    return self;
  };
  return {
    ...makeStore(undefined),
    kinds: async () =>
      (
        await pool.query<{ kind: string }>(
          'SELECT DISTINCT kind COLLATE "C" AS kind FROM records WHERE expires_at IS NULL OR expires_at > $1 ORDER BY 1',
          [clock.now()],
        )
      ).rows.map((row) => row.kind),
    compact: async () => void (await pool.query('VACUUM FULL records')),
  };
}

function isUniqueViolation(error: unknown): boolean {
  return (
    typeof error === 'object' && error !== null && (error as { code?: unknown }).code === UNIQUE_VIOLATION
  );
}

async function migrate(pool: pg.Pool, schema: string): Promise<void> {
  const client = await pool.connect();
  try {
    // The advisory lock serialises migrations across every node sharing this database.
    await client.query('SELECT pg_advisory_lock($1)', [MIGRATION_LOCK]);
    try {
      await client.query(`CREATE SCHEMA IF NOT EXISTS ${schema}`);
      await client.query(
        'CREATE TABLE IF NOT EXISTS behalf_migrations (version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at TIMESTAMPTZ NOT NULL DEFAULT now())',
      );
      const current =
        (await client.query<{ v: number | null }>('SELECT MAX(version) AS v FROM behalf_migrations')).rows[0]
          ?.v ?? 0;
      for (const migration of postgresMigrations) {
        if (migration.version <= current) continue;
        await client.query('BEGIN');
        try {
          await client.query(migration.sql);
          await client.query('INSERT INTO behalf_migrations (version, name) VALUES ($1, $2)', [
            migration.version,
            migration.name,
          ]);
          await client.query('COMMIT');
        } catch (error) {
          await client.query('ROLLBACK');
          throw error;
        }
      }
    } finally {
      await client.query('SELECT pg_advisory_unlock($1)', [MIGRATION_LOCK]);
    }
  } finally {
    client.release();
  }
}
