import type { Clock } from '../core/clock.ts';
import { DuplicateKeyError } from '../core/errors.ts';
import type { Random } from '../core/ids.ts';
import { opaqueToken } from '../core/ids.ts';
import type { RecordStore } from '../storage/record-store.ts';

export const LEASE_KIND = 'connection-refresh-lease';

interface LeaseData {
  readonly owner: string;
  readonly acquiredAt: number;
}

export interface RefreshLease {
  readonly connectionId: string;
  /** Removes the lease only if it is still ours (the owner token and the version both match). */
  release(): Promise<void>;
}

/**
 * A lease in the shared store that serialises refreshes of one connection across processes. It is not
 * a lock that a crash can strand: it expires, and its lifetime is longer than the refresh timeout, so
 * a holder that is still running always finishes (or gives up) before anyone else may take it over
 * (reference/peers.md §18; Nango's "not a distributed lock" is the failure this avoids).
 */
export interface LeaseManager {
  tryAcquire(connectionId: string): Promise<RefreshLease | undefined>;
}

export function createLeaseManager(deps: {
  store: RecordStore;
  clock: Clock;
  random: Random;
  leaseMs: number;
}): LeaseManager {
  const { store, clock, random, leaseMs } = deps;
  return {
    async tryAcquire(connectionId) {
      const owner = opaqueToken(random, 16);
      let version: number;
      try {
        // insert() replaces an expired lease (a crashed holder's) atomically.
        const record = await store.insert<LeaseData>({
          kind: LEASE_KIND,
          id: connectionId,
          partition: '',
          data: { owner, acquiredAt: clock.now() },
          expiresAt: clock.now() + leaseMs,
        });
        version = record.version;
      } catch (error) {
        if (error instanceof DuplicateKeyError) return undefined;
        throw error;
      }
      return {
        connectionId,
        async release() {
          const current = await store.get<LeaseData>(LEASE_KIND, connectionId);
          if (current?.data.owner === owner) await store.delete(LEASE_KIND, connectionId, version);
        },
      };
    },
  };
}
