import { compareIds, timeOrderedId } from '../core/ids.ts';
import type { NewRecord, RecordStore, StoredRecord } from '../storage/record-store.ts';
import type { AuditEntry, AuditQuery } from './audit-log.ts';

/**
 * How audit entries are stored: a batch of entries of one tenant is one record (an "audit page"),
 * indexed by the union of its entries' filter values, instead of one record plus four index rows per
 * entry. With SQLite, the per-entry layout cost ~85 µs of CPU per call (seven statements), more than
 * the rest of the gateway's hot path together; a page costs one record per batch and about one index
 * row per entry (its correlation id). Entries of a page lie within PAGE_SPAN_MS of each other (by the
 * time in their ids), which is what lets a query return entries of overlapping pages (several
 * processes writing) newest first without reading the whole log. Records of the first layout (kind
 * `audit`, one entry each) are still read.
 */
export const AUDIT_KIND = 'audit';
export const AUDIT_PAGE_KIND = 'audit-page';
export const PAGE_SPAN_MS = 1000;

export interface AuditPage {
  /** Ascending by id; the page's record id is the first entry's id. */
  readonly entries: readonly AuditEntry[];
}

// The most selective filter picks the index; the others are checked on each entry.
export const INDEXED: readonly (keyof AuditQuery & keyof AuditEntry)[] = [
  'correlationId',
  'connectionId',
  'callerObjectId',
  'connectorId',
];

const timeOf = (id: string) => parseInt(id.slice(0, 12), 16);

const keysOf = (entry: AuditEntry) =>
  INDEXED.flatMap((field) => (entry[field] !== undefined ? [`${field}:${String(entry[field])}`] : []));

/** The one-entry record of the first layout (direct writes keep it: no batch to page). */
export function entryRecord(entry: AuditEntry, retentionMs: number): NewRecord<AuditEntry> {
  return {
    kind: AUDIT_KIND,
    id: entry.id,
    partition: entry.tenantId,
    data: entry,
    indexKeys: keysOf(entry),
    expiresAt: timeOf(entry.id) + retentionMs,
  };
}

/**
 * How many entries from the head of `queue` (at most `max`) fit in pages: all within PAGE_SPAN_MS/2
 * of the first one, so that every page made of them spans at most PAGE_SPAN_MS.
 */
export function pageableCount(queue: readonly AuditEntry[], max: number): number {
  const first = queue[0];
  if (!first) return 0;
  const t0 = timeOf(first.id);
  let n = 0;
  while (n < Math.min(max, queue.length) && Math.abs(timeOf(queue[n]!.id) - t0) <= PAGE_SPAN_MS / 2) n++;
  return n;
}

/** One page per tenant of the given entries. */
export function pageRecords(entries: readonly AuditEntry[], retentionMs: number): NewRecord<AuditPage>[] {
  const byTenant = new Map<string, AuditEntry[]>();
  for (const entry of entries) {
    const list = byTenant.get(entry.tenantId);
    if (list) list.push(entry);
    else byTenant.set(entry.tenantId, [entry]);
  }
  return [...byTenant.entries()].map(([tenantId, list]) => {
    const sorted = [...list].sort((a, b) => compareIds(a.id, b.id));
    return {
      kind: AUDIT_PAGE_KIND,
      id: sorted[0]!.id,
      partition: tenantId,
      data: { entries: sorted },
      indexKeys: [...new Set(sorted.flatMap(keysOf))],
      expiresAt: timeOf(sorted[sorted.length - 1]!.id) + retentionMs,
    };
  });
}

interface Candidate {
  readonly firstId: string;
  readonly entries: readonly AuditEntry[];
}

/** Records of one kind, newest first, fetched 200 at a time, seen as pages of entries. */
function pagesOf<T>(
  store: RecordStore,
  kind: string,
  query: AuditQuery,
  index: (typeof INDEXED)[number] | undefined,
  entriesOf: (record: StoredRecord<T>) => readonly AuditEntry[],
) {
  let buffer: StoredRecord<T>[] = [];
  let cursor = query.before;
  let done = false;
  return {
    async peek(): Promise<Candidate | undefined> {
      if (buffer.length === 0 && !done) {
        const options = {
          descending: true,
          limit: 200,
          ...(query.tenantId !== undefined ? { partition: query.tenantId } : {}),
          ...(cursor !== undefined ? { after: cursor } : {}),
        };
        buffer = index
          ? await store.findByIndex<T>(kind, `${index}:${String(query[index])}`, options)
          : await store.list<T>(kind, options);
        done = buffer.length < 200;
        if (buffer.length > 0) cursor = buffer[buffer.length - 1]!.id;
      }
      const record = buffer[0];
      return record ? { firstId: record.id, entries: entriesOf(record) } : undefined;
    },
    take() {
      buffer.shift();
    },
  };
}

/**
 * Newest first. Pages are visited in descending order of their first entry; an entry is returned
 * once no page still unvisited can hold a newer one (its first entry plus PAGE_SPAN_MS is older).
 */
export async function queryPages(
  store: RecordStore,
  query: AuditQuery,
): Promise<{ entries: AuditEntry[]; next?: string }> {
  const limit = Math.min(Math.max(1, query.limit ?? 50), 500);
  const index = INDEXED.find((field) => query[field] !== undefined);
  const sinceMs = query.since ? Date.parse(query.since) : undefined;
  const sinceId = sinceMs !== undefined ? timeOrderedId(sinceMs, ZERO) : undefined;
  const untilMs = query.until ? Date.parse(query.until) : undefined;
  const wanted = (e: AuditEntry) =>
    (query.before === undefined || e.id < query.before) &&
    (sinceId === undefined || e.id >= sinceId) &&
    (query.tenantId === undefined || e.tenantId === query.tenantId) &&
    INDEXED.every((field) => query[field] === undefined || e[field] === query[field]) &&
    (query.outcome === undefined || e.outcome === query.outcome) &&
    (untilMs === undefined || Date.parse(e.time) <= untilMs);
  const sources = [
    pagesOf<AuditEntry>(store, AUDIT_KIND, query, index, (r) => [r.data]),
    pagesOf<AuditPage>(store, AUDIT_PAGE_KIND, query, index, (r) => r.data.entries),
  ];
  // Entries read but not returned yet, newest first.
  const ready: AuditEntry[] = [];
  const entries: AuditEntry[] = [];
  for (;;) {
    let next: { source: (typeof sources)[number]; page: Candidate } | undefined;
    for (const source of sources) {
      const page = await source.peek();
      if (page && (!next || page.firstId > next.page.firstId)) next = { source, page };
    }
    // A page whose newest possible entry is older than `since` ends the search.
    if (next && sinceMs !== undefined && timeOf(next.page.firstId) + PAGE_SPAN_MS < sinceMs) next = undefined;
    const top = ready[0];
    if (next && (!top || timeOf(next.page.firstId) + PAGE_SPAN_MS >= timeOf(top.id))) {
      next.source.take();
      for (const entry of next.page.entries) if (wanted(entry)) insertNewestFirst(ready, entry);
      continue;
    }
    if (!top) return { entries };
    ready.shift();
    entries.push(top);
    if (entries.length === limit) return { entries, next: top.id };
  }
}

const ZERO = { uuid: () => '', bytes: (n: number) => Buffer.alloc(n) };

function insertNewestFirst(list: AuditEntry[], entry: AuditEntry): void {
  let low = 0;
  let high = list.length;
  while (low < high) {
    const mid = (low + high) >> 1;
    if (list[mid]!.id > entry.id) low = mid + 1;
    else high = mid;
  }
  list.splice(low, 0, entry);
}
