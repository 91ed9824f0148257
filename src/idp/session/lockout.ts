import { createHash } from 'node:crypto';
import type { Clock } from '../../core/clock.ts';
import type { RecordStore } from '../../storage/record-store.ts';

/**
 * Account lockout with exponential backoff (in the spirit of Entra smart lockout): after `threshold`
 * failed passwords the account is locked for `baseLockMs`, each further lockout doubles it up to
 * `maxLockMs`, and a success resets the count. Counted per tenant and lower-cased username whether or
 * not the account exists, so the lockout itself does not reveal which accounts are real.
 */
export interface LockoutPolicy {
  readonly threshold: number;
  readonly baseLockMs: number;
  readonly maxLockMs: number;
}

export const DEFAULT_LOCKOUT: LockoutPolicy = { threshold: 5, baseLockMs: 60_000, maxLockMs: 15 * 60_000 };

interface LockoutData {
  failures: number;
  lockouts: number;
  lockedUntil: number;
}

export interface Lockout {
  isLocked(tenantId: string, username: string): Promise<boolean>;
  /** Records a failed attempt; true when this failure locked the account. */
  recordFailure(tenantId: string, username: string): Promise<boolean>;
  recordSuccess(tenantId: string, username: string): Promise<void>;
}

const KIND = 'idp.lockout';
// A lockout record is forgotten a day after the last failure.
const RETENTION_MS = 24 * 3600 * 1000;

export function createLockout(deps: { store: RecordStore; clock: Clock; policy?: LockoutPolicy }): Lockout {
  const { store, clock } = deps;
  const policy = deps.policy ?? DEFAULT_LOCKOUT;
  const idOf = (tenantId: string, username: string) =>
    createHash('sha256').update(`${tenantId}\0${username.trim().toLowerCase()}`).digest('base64url');

  return {
    async isLocked(tenantId, username) {
      const record = await store.get<LockoutData>(KIND, idOf(tenantId, username));
      return record !== undefined && record.data.lockedUntil > clock.now();
    },
    async recordFailure(tenantId, username) {
      const id = idOf(tenantId, username);
      // Compare-and-swap loop: concurrent guesses must each count.
      for (let attempt = 0; attempt < 5; attempt++) {
        const now = clock.now();
        const record = await store.get<LockoutData>(KIND, id);
        const data = record?.data ?? { failures: 0, lockouts: 0, lockedUntil: 0 };
        const failures = data.failures + 1;
        let next: LockoutData = { ...data, failures };
        if (failures >= policy.threshold) {
          const lockMs = Math.min(policy.baseLockMs * 2 ** data.lockouts, policy.maxLockMs);
          next = { failures: 0, lockouts: data.lockouts + 1, lockedUntil: now + lockMs };
        }
        const expiresAt = now + RETENTION_MS;
        const written = record
          ? await store.update(KIND, id, record.version, next, { expiresAt })
          : await store
              .insert({ kind: KIND, id, partition: tenantId, data: next, expiresAt })
              .catch(() => undefined);
        if (written) return next.lockedUntil > now && next.failures === 0;
      }
      return false;
    },
    async recordSuccess(tenantId, username) {
      await store.delete(KIND, idOf(tenantId, username));
    },
  };
}
