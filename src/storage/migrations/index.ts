/**
 * Versioned schema migrations, one list per SQL dialect. A migration is never edited once released:
 * add a new entry. Both runners apply pending entries in order inside a lock (PostgreSQL: an advisory
 * lock; SQLite: an immediate transaction), so several nodes starting at once apply each exactly once.
 */
export interface Migration {
  readonly version: number;
  readonly name: string;
  readonly sql: string;
}

export const sqliteMigrations: readonly Migration[] = [
  {
    version: 1,
    name: 'records',
    sql: `
      CREATE TABLE records (
        kind TEXT NOT NULL,
        id TEXT NOT NULL,
        partition TEXT NOT NULL,
        version INTEGER NOT NULL,
        data TEXT NOT NULL,
        expires_at INTEGER,
        PRIMARY KEY (kind, id)
      ) WITHOUT ROWID;
      CREATE INDEX records_by_partition ON records (kind, partition, id);
      CREATE INDEX records_by_expiry ON records (expires_at) WHERE expires_at IS NOT NULL;
      CREATE TABLE unique_keys (
        kind TEXT NOT NULL,
        key TEXT NOT NULL,
        id TEXT NOT NULL,
        PRIMARY KEY (kind, key)
      ) WITHOUT ROWID;
      CREATE INDEX unique_keys_by_owner ON unique_keys (kind, id);
      CREATE TABLE index_keys (
        kind TEXT NOT NULL,
        key TEXT NOT NULL,
        id TEXT NOT NULL,
        PRIMARY KEY (kind, key, id)
      ) WITHOUT ROWID;
      CREATE INDEX index_keys_by_owner ON index_keys (kind, id);
    `,
  },
];

export const postgresMigrations: readonly Migration[] = [
  {
    version: 1,
    name: 'records',
    // COLLATE "C" makes id order bytewise, the same order SQLite and the memory adapter use.
    sql: `
      CREATE TABLE records (
        kind TEXT NOT NULL,
        id TEXT COLLATE "C" NOT NULL,
        partition TEXT NOT NULL,
        version INTEGER NOT NULL,
        data TEXT NOT NULL,
        expires_at BIGINT,
        PRIMARY KEY (kind, id)
      );
      CREATE INDEX records_by_partition ON records (kind, partition, id);
      CREATE INDEX records_by_expiry ON records (expires_at) WHERE expires_at IS NOT NULL;
      CREATE TABLE unique_keys (
        kind TEXT NOT NULL,
        key TEXT NOT NULL,
        id TEXT COLLATE "C" NOT NULL,
        PRIMARY KEY (kind, key)
      );
      CREATE INDEX unique_keys_by_owner ON unique_keys (kind, id);
      CREATE TABLE index_keys (
        kind TEXT NOT NULL,
        key TEXT NOT NULL,
        id TEXT COLLATE "C" NOT NULL,
        PRIMARY KEY (kind, key, id)
      );
      CREATE INDEX index_keys_by_owner ON index_keys (kind, id);
    `,
  },
];
