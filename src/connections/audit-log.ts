import type { Clock } from '../core/clock.ts';
import type { Random } from '../core/ids.ts';
import { timeOrderedId } from '../core/ids.ts';
import type { RecordStore } from '../storage/record-store.ts';

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
  record(entry: NewAuditEntry): Promise<AuditEntry>;
  /** Newest first; `next` continues the listing. */
  query(query: AuditQuery): Promise<{ entries: AuditEntry[]; next?: string }>;
}

export const AUDIT_KIND = 'audit';

// The most selective filter picks the index; the others are checked on each entry.
const INDEXED: readonly (keyof AuditQuery & keyof AuditEntry)[] = [
  'correlationId',
  'connectionId',
  'callerObjectId',
  'connectorId',
];

export function createAuditLog(deps: {
  store: RecordStore;
  clock: Clock;
  random: Random;
  retentionDays?: number;
}): AuditLog {
  const { store, clock, random } = deps;
  const retentionMs = (deps.retentionDays ?? 90) * 86_400_000;
  return {
    async record(input) {
      const now = clock.now();
      const entry: AuditEntry = {
        id: timeOrderedId(now, random),
        time: new Date(now).toISOString(),
        ...input,
      };
      await store.insert({
        kind: AUDIT_KIND,
        id: entry.id,
        partition: entry.tenantId,
        data: entry,
        indexKeys: INDEXED.flatMap((field) =>
          entry[field] !== undefined ? [`${field}:${String(entry[field])}`] : [],
        ),
        expiresAt: now + retentionMs,
      });
      return entry;
    },

    async query(query) {
      const limit = Math.min(Math.max(1, query.limit ?? 50), 500);
      const index = INDEXED.find((field) => query[field] !== undefined);
      const sinceId = query.since
        ? timeOrderedId(Date.parse(query.since), { uuid: () => '', bytes: (n) => Buffer.alloc(n) })
        : undefined;
      const untilMs = query.until ? Date.parse(query.until) : undefined;
      const matches = (e: AuditEntry) =>
        (query.tenantId === undefined || e.tenantId === query.tenantId) &&
        INDEXED.every((field) => query[field] === undefined || e[field] === query[field]) &&
        (query.outcome === undefined || e.outcome === query.outcome) &&
        (untilMs === undefined || Date.parse(e.time) <= untilMs);
      const entries: AuditEntry[] = [];
      let cursor = query.before;
      for (;;) {
        const options = {
          descending: true,
          limit: 200,
          ...(query.tenantId !== undefined ? { partition: query.tenantId } : {}),
          ...(cursor !== undefined ? { after: cursor } : {}),
        };
        const page = index
          ? await store.findByIndex<AuditEntry>(AUDIT_KIND, `${index}:${String(query[index])}`, options)
          : await store.list<AuditEntry>(AUDIT_KIND, options);
        for (const record of page) {
          if (sinceId !== undefined && record.id < sinceId) return { entries };
          if (matches(record.data)) entries.push(record.data);
          if (entries.length === limit) return { entries, next: record.id };
        }
        if (page.length < 200) return { entries };
        cursor = page[page.length - 1]!.id;
      }
    },
  };
}
