import { compareIds } from '../core/ids.ts';
import type { Envelope } from '../crypto/envelope.ts';
import { DecryptionError, isEnvelope } from '../crypto/envelope.ts';
import type { ListableRecordStore, StoredRecord } from '../storage/record-store.ts';
import { CONNECTION_KIND } from './connection-repository.ts';
import { GATEWAY_SECRET_KIND } from './gateway-app-secret.ts';

export interface KindRotation {
  /** Records written with re-wrapped values. */
  readonly records: number;
  /** Envelope values re-wrapped under the current version. */
  readonly values: number;
  /** Envelope values still under another version at the end (unreadable, or inside a larger string). */
  readonly remaining: number;
}

export interface VaultRotationResult {
  /** Per record kind, only the kinds that held a value under another version. */
  readonly kinds: Readonly<Record<string, KindRotation>>;
  readonly records: number;
  readonly values: number;
  /** 0 when every envelope value in the store is under the current version: older ones can go. */
  readonly remaining: number;
  /** Connections written (connection tokens and secure parameters). */
  readonly connections: number;
  /** Behalf's own app secrets written (Behalf Connections', Behalf Chat's). */
  readonly gatewaySecrets: number;
}

const PAGE = 500;
// A record rewritten this often while being re-wrapped is left to the next pass.
const ATTEMPTS = 20;
// An envelope that is not the whole string (e.g. JSON kept as text): found, but not re-wrappable here.
const EMBEDDED = /(?:^|[^A-Za-z0-9_.-])env1\.[1-9]\d{0,8}\.[A-Za-z0-9_-]+\./;

/**
 * Re-wraps every envelope value the store holds, whatever part of Behalf wrote it (connection tokens
 * and secure parameters, connector and MCP client secrets, signing and workload identity keys, Behalf's
 * own app secrets, the key-derivation root...): a generic pass over every record of every kind finds
 * each string that is an envelope anywhere in the record's data and re-wraps its data key under the
 * current master key version (no associated data needed, the ciphertext is untouched).
 *
 * Online: each record is written with a compare-and-swap; when a running Behalf wrote it meanwhile (a
 * token refresh), it is re-read and what that writer stored is re-wrapped, never overwritten. Passes
 * repeat until one finds nothing left to re-wrap, so values another process wrote under the old
 * version while a pass ran are caught by the next; `remaining` counts what is still not under the
 * current version at the end (a value under a version the ring lacks cannot be re-wrapped).
 */
export async function rotateVault(options: {
  readonly store: ListableRecordStore;
  readonly envelope: Envelope;
  /**
   * At most this many passes (default 4); normally two: one re-wraps, the next finds nothing left. If
   * the last one still re-wrapped something, a read-only scan counts what is left.
   */
  readonly maxPasses?: number;
}): Promise<VaultRotationResult> {
  const { store, envelope } = options;
  // An expired record is invisible and cannot be updated; purging it keeps no old-version value behind.
  await store.purgeExpired();
  const totals = new Map<string, { records: number; values: number; remaining: number }>();
  const tally = (kind: string) => {
    let entry = totals.get(kind);
    if (!entry) totals.set(kind, (entry = { records: 0, values: 0, remaining: 0 }));
    return entry;
  };

  let clean = false;
  for (let pass = 0; pass < (options.maxPasses ?? 4) && !clean; pass++) {
    clean = true;
    const remaining = new Map<string, number>();
    await eachRecord(store, async (record) => {
      const outcome = await rewrapRecord(store, envelope, record);
      if (outcome.contended) clean = false;
      if (outcome.values > 0) {
        clean = false;
        tally(record.kind).records++;
        tally(record.kind).values += outcome.values;
      }
      if (outcome.remaining > 0)
        remaining.set(record.kind, (remaining.get(record.kind) ?? 0) + outcome.remaining);
    });
    if (clean) for (const [kind, count] of remaining) tally(kind).remaining = count;
  }
  if (!clean) {
    // The last pass still found old values (writers kept adding some): count what is left, writing nothing.
    await eachRecord(store, async (record) => {
      const left = rewrapValues(record.data, envelope);
      if (left.values + left.remaining > 0) tally(record.kind).remaining += left.values + left.remaining;
    });
  }

  const kinds = Object.fromEntries([...totals].sort(([a], [b]) => compareIds(a, b)));
  const sum = (field: keyof KindRotation) => [...totals.values()].reduce((n, t) => n + t[field], 0);
  return {
    kinds,
    records: sum('records'),
    values: sum('values'),
    remaining: sum('remaining'),
    connections: totals.get(CONNECTION_KIND)?.records ?? 0,
    gatewaySecrets: totals.get(GATEWAY_SECRET_KIND)?.records ?? 0,
  };
}

async function eachRecord(
  store: ListableRecordStore,
  visit: (record: StoredRecord<unknown>) => Promise<void>,
): Promise<void> {
  for (const kind of await store.kinds()) {
    let after: string | undefined;
    for (;;) {
      const page = await store.list<unknown>(kind, {
        ...(after !== undefined ? { after } : {}),
        limit: PAGE,
      });
      for (const record of page) await visit(record);
      if (page.length < PAGE) break;
      after = page[page.length - 1]!.id;
    }
  }
}

async function rewrapRecord(
  store: ListableRecordStore,
  envelope: Envelope,
  first: StoredRecord<unknown>,
): Promise<{ values: number; remaining: number; contended?: boolean }> {
  let record: StoredRecord<unknown> | undefined = first;
  for (let attempt = 0; record && attempt < ATTEMPTS; attempt++) {
    const rewrapped = rewrapValues(record.data, envelope);
    if (rewrapped.values === 0) return { values: 0, remaining: rewrapped.remaining };
    // Unique and index keys and the expiry are left as they are (no keys passed).
    if (await store.update(record.kind, record.id, record.version, rewrapped.data))
      return { values: rewrapped.values, remaining: rewrapped.remaining };
    // Another writer (a token refresh, a signing key rollover) won: re-read and re-wrap what it wrote.
    record = await store.get<unknown>(record.kind, record.id);
  }
  return { values: 0, remaining: 0, contended: record !== undefined };
}

/** A copy of `data` with every envelope re-wrapped; counts re-wrapped values and those left behind. */
export function rewrapValues(
  data: unknown,
  envelope: Envelope,
): { data: unknown; values: number; remaining: number } {
  let values = 0;
  let remaining = 0;
  const walk = (value: unknown): unknown => {
    if (typeof value === 'string') {
      if (!isEnvelope(value)) {
        if (value.includes('env1.') && EMBEDDED.test(value)) remaining++;
        return value;
      }
      try {
        if (!envelope.needsRewrap(value)) return value;
        const rewrapped = envelope.rewrap(value);
        values++;
        return rewrapped;
      } catch (error) {
        // Under a version the ring lacks, or not an envelope after all: left as it is, and counted.
        if (!(error instanceof DecryptionError)) throw error;
        remaining++;
        return value;
      }
    }
    if (Array.isArray(value)) return value.map(walk);
    if (value !== null && typeof value === 'object')
      return Object.fromEntries(Object.entries(value).map(([key, item]) => [key, walk(item)]));
    return value;
  };
  const rewrapped = walk(data);
  return { data: rewrapped, values, remaining };
}
