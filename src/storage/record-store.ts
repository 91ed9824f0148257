/**
 * The storage port. Every repository in Behalf is built on this one small interface, so each adapter
 * (memory, SQLite, PostgreSQL) implements it once and one behavioural suite (store.suite.ts) proves
 * they agree.
 *
 * A record is a JSON document identified by (kind, id), living in a partition (usually a tenant id),
 * carrying a version for compare-and-swap, optional unique keys (a collision is a DuplicateKeyError),
 * optional lookup keys (non-unique secondary index) and an optional expiry after which it is invisible.
 */
export interface StoredRecord<T = unknown> {
  readonly kind: string;
  readonly id: string;
  readonly partition: string;
  /** 1 on insert, +1 on every update: the token for optimistic concurrency. */
  readonly version: number;
  readonly data: T;
  /** Milliseconds since the epoch; from then on the record is treated as absent. */
  readonly expiresAt?: number;
}

export interface RecordKeys {
  /** Unique per kind; taken atomically with the write. */
  readonly uniqueKeys?: readonly string[];
  /** Non-unique per kind; for findByIndex. */
  readonly indexKeys?: readonly string[];
  readonly expiresAt?: number;
}

export interface NewRecord<T> extends RecordKeys {
  readonly kind: string;
  readonly id: string;
  readonly partition: string;
  readonly data: T;
}

export interface ListOptions {
  readonly partition?: string;
  /** Exclusive lower bound on id: pass the last id of the previous page. */
  readonly after?: string;
  readonly limit?: number;
  /** Newest first (descending id); `after` is then an exclusive upper bound. */
  readonly descending?: boolean;
}

export interface RecordStore {
  get<T>(kind: string, id: string): Promise<StoredRecord<T> | undefined>;
  /** Throws DuplicateKeyError when the id or a unique key is taken. */
  insert<T>(record: NewRecord<T>): Promise<StoredRecord<T>>;
  /**
   * Replaces data (and keys, when given) only if the stored version is `expectedVersion`.
   * Returns undefined when the record is gone or was changed meanwhile. Throws DuplicateKeyError.
   */
  update<T>(
    kind: string,
    id: string,
    expectedVersion: number,
    data: T,
    keys?: RecordKeys,
  ): Promise<StoredRecord<T> | undefined>;
  /** Deletes the record (only at `expectedVersion` when given); true if this call removed it. */
  delete(kind: string, id: string, expectedVersion?: number): Promise<boolean>;
  findByUniqueKey<T>(kind: string, key: string): Promise<StoredRecord<T> | undefined>;
  findByIndex<T>(kind: string, key: string, options?: ListOptions): Promise<StoredRecord<T>[]>;
  /** Ordered by id (bytewise). */
  list<T>(kind: string, options?: ListOptions): Promise<StoredRecord<T>[]>;
  /** Runs `work` atomically: all of its writes land or none do. Nested calls join the outer one. */
  transaction<R>(work: (tx: RecordStore) => Promise<R>): Promise<R>;
  /** Removes records whose expiry has passed; returns how many. */
  purgeExpired(): Promise<number>;
  close(): Promise<void>;
}

/**
 * Beside the port, not in it: every adapter also names the kinds it holds live records of, for the rare
 * store-wide pass that must reach every record whichever part of Behalf wrote it (`behalf vault rotate`
 * re-wrapping every envelope value). Repositories never need it, so wrappers of the port need not pass it on.
 */
export interface KindListing {
  /** The kinds with at least one live record, sorted. */
  kinds(): Promise<string[]>;
}

export type ListableRecordStore = RecordStore & KindListing;

export const DEFAULT_LIST_LIMIT = 100;
export const MAX_LIST_LIMIT = 1000;

export function listLimit(options?: ListOptions): number {
  return Math.min(Math.max(1, options?.limit ?? DEFAULT_LIST_LIMIT), MAX_LIST_LIMIT);
}
