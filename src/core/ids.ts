import { randomBytes, randomUUID } from 'node:crypto';

/** Randomness is injected like the clock, so tests can make ids predictable when they need to. */
export interface Random {
  uuid(): string;
  bytes(length: number): Buffer;
}

// Small draws come from a pool refilled 4 KiB at a time, as randomUUID does: one call into the CSPRNG
// cost more than the rest of an audit entry's id (measured: timeOrderedId was ~1% of a gateway call).
const POOL_BYTES = 4096;
let pool = Buffer.alloc(0);
let poolOffset = 0;
function pooledRandomBytes(length: number): Buffer {
  if (length > 256) return randomBytes(length);
  if (poolOffset + length > pool.length) {
    pool = randomBytes(POOL_BYTES);
    poolOffset = 0;
  }
  const bytes = Buffer.from(pool.subarray(poolOffset, poolOffset + length));
  // Each byte is handed out once: the used part of the pool is wiped.
  pool.fill(0, poolOffset, poolOffset + length);
  poolOffset += length;
  return bytes;
}

export const cryptoRandom: Random = { uuid: () => randomUUID(), bytes: pooledRandomBytes };

/**
 * The order of ids and kinds everywhere in Behalf: code-unit order, which for their ASCII text is the
 * byte order SQLite and PostgreSQL (`COLLATE "C"`) sort by. Not localeCompare: it would put `Zeta`
 * after `code`.
 */
export function compareIds(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

const GUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

export function isGuid(value: string): boolean {
  return GUID.test(value);
}

/** An opaque, URL-safe token with `bytes` of entropy. */
export function opaqueToken(random: Random, bytes = 32): string {
  return random.bytes(bytes).toString('base64url');
}

/**
 * An id that sorts by creation time (48-bit milliseconds, then randomness), so stores can page
 * time-ordered records (audit, runs) by id alone.
 */
export function timeOrderedId(now: number, random: Random): string {
  return now.toString(16).padStart(12, '0') + random.bytes(10).toString('hex');
}

/**
 * A UUID version 7 (RFC 9562 §5.7): 48-bit milliseconds, then 74 random bits. Used for correlation
 * ids: they index audit entries, and keys that grow with time land at one end of a B-tree, where a
 * batch of them dirties a page or two, instead of one page each (random UUIDs, measured on SQLite:
 * about twice the cost of an audit entry).
 */
export function timeOrderedUuid(now: number, random: Random): string {
  const bytes = Buffer.alloc(16);
  bytes.writeUIntBE(Math.max(0, Math.floor(now)) % 2 ** 48, 0, 6);
  random.bytes(10).copy(bytes, 6);
  bytes[6] = (bytes[6]! & 0x0f) | 0x70; // version 7
  bytes[8] = (bytes[8]! & 0x3f) | 0x80; // variant 10
  const hex = bytes.toString('hex');
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}
