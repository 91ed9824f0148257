import { DuplicateKeyError } from '../../core/errors.ts';
import type { RecordStore } from '../../storage/record-store.ts';
import { tokenDigest } from '../stores/hash.ts';

const KIND = 'idp.assertion_jti';

/**
 * Remembers each client assertion's `jti` until the assertion expires, so a captured assertion cannot
 * be replayed (RFC 7523 §3 item 7). The unique insert is atomic, so two racing replays cannot both win.
 */
export async function claimJti(
  store: RecordStore,
  issuer: string,
  jti: string,
  expiresAtMs: number,
): Promise<boolean> {
  try {
    await store.insert({
      kind: KIND,
      id: tokenDigest(`${issuer}|${jti}`),
      partition: 'assertions',
      data: {},
      expiresAt: expiresAtMs,
    });
    return true;
  } catch (error) {
    if (error instanceof DuplicateKeyError) return false;
    throw error;
  }
}
