import { setImmediate as yieldToIo } from 'node:timers/promises';
import type { Clock } from '../core/clock.ts';
import type { Random } from '../core/ids.ts';
import { timeOrderedId } from '../core/ids.ts';
import type { RecordStore } from '../storage/record-store.ts';
import { entryRecord, pageableCount, pageRecords, queryPages } from './audit-pages.ts';

/**
 * The audit store (here because gateway/ may not import storage/; the gateway writes through it).
 * One record per operation invocation: who called, through which client, on which connection, with
 * which delegated scopes or app roles, and how it ended. Bodies, tokens and secrets are never part of
 * an entry: the type has no field for them, and `text` fields are bounded.
 */
export type AuditOutcome =
  'success' | 'upstream-error' | 'denied' | 'consent-required' | 'invalid-request' | 'failure';

export interface AuditEntry {
  readonly id: string;
  readonly time: string;
  readonly tenantId: string;
  readonly callerObjectId: string;
  readonly callerUpn?: string;
  /** The calling client (azp/appid of the caller's token) or agent. */
  readonly clientId?: string;
  readonly connectorId: string;
  readonly operationId: string;
  readonly connectionId?: string;
  readonly mode?: 'delegated' | 'app-only';
  /** `scp` of the token sent upstream (delegated) or its `roles` (app-only). */
  readonly scopes?: readonly string[];
  readonly outcome: AuditOutcome;
  readonly errorCode?: string;
  readonly upstreamStatus?: number;
  readonly durationMs: number;
  readonly correlationId: string;
}

export type NewAuditEntry = Omit<AuditEntry, 'id' | 'time'>;

export interface AuditQuery {
  readonly tenantId?: string;
  readonly callerObjectId?: string;
  readonly connectorId?: string;
  readonly connectionId?: string;
  readonly outcome?: AuditOutcome;
  readonly correlationId?: string;
  /** ISO time bounds, inclusive. */
  readonly since?: string;
  readonly until?: string;
  /** Continue below this id (newest first). */
  readonly before?: string;
  readonly limit?: number;
}

export interface AuditLog {
  /**
   * Takes the entry (its id and time are fixed now) and resolves at once while the batch it joins
   * has room; with `maxPending` entries already waiting it resolves only once they are written.
   */
  record(entry: NewAuditEntry): Promise<AuditEntry>;
  /** Newest first; `next` continues the listing. Entries recorded before the query are included. */
  query(query: AuditQuery): Promise<{ entries: AuditEntry[]; next?: string }>;
  /** Writes every entry recorded so far; rejects if the store refused them (they stay queued). */
  flush(): Promise<void>;
  /** Flushes and stops the timer (graceful shutdown); later entries are written one by one. */
  close(): Promise<void>;
}

export interface AuditBatching {
  /** How long an entry may wait in memory before its batch is written (default 100 ms). */
  readonly flushMs?: number;
  /**
   * Entries per transaction at most (default 64); this many waiting are written at once. With SQLite
   * a write holds the event loop, so this bounds what a flush adds to the latency of a call it delays.
   */
  readonly maxBatch?: number;
  /** Entries waiting at most (default 10,000): beyond it `record` waits for the write (memory bound). */
  readonly maxPending?: number;
}

export { AUDIT_KIND, AUDIT_PAGE_KIND } from './audit-pages.ts';

/** After a failed write, the next attempt waits this long (a store that is down is not hammered). */
const RETRY_MS = 1000;

/**
 * Entries are written in batches off the request path: `record` queues the entry and a timer (or a
 * full batch) writes the queue as audit pages (audit-pages.ts), a transaction per batch, in order. `query` flushes first,
 * so a query always sees every entry recorded before it; `close` flushes on graceful shutdown, so
 * nothing is lost then. What a crash (SIGKILL, power loss) can lose: the entries of the last
 * `flushMs` (100 ms by default) not yet written. A failed write keeps its entries queued for the next
 * attempt and is reported through `onWriteError`; while the queue is full, calls wait (and fail with
 * the store's error), so no call goes unaudited silently and memory stays bounded.
 */
export function createAuditLog(deps: {
  store: RecordStore;
  clock: Clock;
  random: Random;
  retentionDays?: number;
  /** `false`: every entry is written before `record` resolves (the CLI, tests). */
  batching?: AuditBatching | false;
  onWriteError?: (error: unknown, entries: number) => void;
}): AuditLog {
  const { store, clock, random } = deps;
  const retentionMs = (deps.retentionDays ?? 90) * 86_400_000;
  const batching = deps.batching === false ? undefined : deps.batching;
  const flushMs = batching?.flushMs ?? 100;
  const maxBatch = Math.max(1, batching?.maxBatch ?? 64);
  const maxPending = Math.max(1, batching?.maxPending ?? 10_000);
  let direct = deps.batching === false;

  const pending: AuditEntry[] = [];
  let timer: NodeJS.Timeout | undefined;
  // One write at a time, in order: each flush runs after the previous one settled.
  let writing: Promise<void> = Promise.resolve();

  // True while a write loop runs: it goes on until the queue is empty, so it takes new entries too.
  let draining = false;
  const writeQueued = async (): Promise<void> => {
    draining = true;
    try {
      await drain();
    } finally {
      draining = false;
    }
  };
  const drain = async (): Promise<void> => {
    for (let first = true; pending.length > 0; first = false) {
      // SQLite writes synchronously on this thread: bounded transactions, with a turn of the event
      // loop between them, keep a flush from holding up the requests being served meanwhile.
      if (!first) await yieldToIo();
      const count = pageableCount(pending, maxBatch);
      const pages = pageRecords(pending.slice(0, count), retentionMs);
      try {
        await store.transaction(async (tx) => {
          for (const page of pages) await tx.insert(page);
        });
      } catch (error) {
        // Nothing of the batch was committed: it stays at the head of the queue, in order.
        deps.onWriteError?.(error, count);
        throw error;
      }
      pending.splice(0, count);
    }
  };

  const flush = (): Promise<void> => {
    if (timer) {
      clearTimeout(timer);
      timer = undefined;
    }
    const next = writing.then(writeQueued);
    writing = next.catch(() => {
      // Reported through onWriteError; the entries stay queued and are tried again a little later.
      if (!direct) arm(RETRY_MS);
    });
    return next;
  };

  const arm = (delay = flushMs) => {
    if (timer || pending.length === 0) return;
    timer = setTimeout(() => void flush().catch(() => undefined), delay);
    // The timer alone does not keep a process alive; `close` is what writes the last entries.
    timer.unref();
  };

  const log: AuditLog = {
    async record(input) {
      const now = clock.now();
      const entry: AuditEntry = {
        id: timeOrderedId(now, random),
        time: new Date(now).toISOString(),
        ...input,
      };
      if (direct) {
        await store.insert(entryRecord(entry, retentionMs));
        return entry;
      }
      // Bounded memory: a full queue is written (and awaited) before this entry joins it.
      while (pending.length >= maxPending) await flush();
      pending.push(entry);
      if (pending.length >= maxBatch) {
        if (!draining) void flush().catch(() => undefined);
      } else arm();
      return entry;
    },

    flush: () => flush(),

    async close() {
      direct = true;
      await flush();
    },

    async query(query) {
      await flush();
      return queryPages(store, query);
    },
  };
  return log;
}
