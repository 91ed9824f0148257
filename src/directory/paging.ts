import type { RecordStore } from '../storage/record-store.ts';

export interface Page<T> {
  readonly items: T[];
  /** The id to continue after, when more matching items may follow. */
  readonly next?: string;
}

export interface PageRequest<T> {
  readonly after?: string | undefined;
  readonly limit?: number | undefined;
  readonly where?: ((item: T) => boolean) | undefined;
}

const SCAN_BATCH = 200;

/**
 * One page of a tenant's objects of a kind, filtered. The filter runs before paging so a next link
 * never skips or repeats an object; ids are stable, so `after` is a valid cursor across writes.
 */
export async function scanPage<T>(
  store: RecordStore,
  kind: string,
  partition: string,
  request: PageRequest<T>,
): Promise<Page<T>> {
  const limit = Math.min(Math.max(request.limit ?? 100, 1), 999);
  const items: T[] = [];
  let after = request.after;
  let lastId: string | undefined;
  for (;;) {
    const batch = await store.list<T>(kind, {
      partition,
      limit: SCAN_BATCH,
      ...(after !== undefined ? { after } : {}),
    });
    for (const record of batch) {
      lastId = record.id;
      if (request.where && !request.where(record.data)) continue;
      items.push(record.data);
      if (items.length === limit) {
        const more = await store.list<T>(kind, { partition, limit: 1, after: record.id });
        return more.length > 0 ? { items, next: record.id } : { items };
      }
    }
    if (batch.length < SCAN_BATCH) return { items };
    after = lastId;
  }
}

/** Every object of a kind in a tenant (small collections: scopes of one app's grants, etc.). */
export async function scanAll<T>(
  store: RecordStore,
  kind: string,
  partition: string,
  where?: (item: T) => boolean,
): Promise<T[]> {
  const out: T[] = [];
  let after: string | undefined;
  for (;;) {
    const batch = await store.list<T>(kind, {
      partition,
      limit: SCAN_BATCH,
      ...(after !== undefined ? { after } : {}),
    });
    for (const record of batch) if (!where || where(record.data)) out.push(record.data);
    if (batch.length < SCAN_BATCH) return out;
    after = batch[batch.length - 1]!.id;
  }
}
