import { randomBytes, randomUUID } from 'node:crypto';

/** Randomness is injected like the clock, so tests can make ids predictable when they need to. */
export interface Random {
  uuid(): string;
  bytes(length: number): Buffer;
}

export const cryptoRandom: Random = { uuid: () => randomUUID(), bytes: (n) => randomBytes(n) };

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
