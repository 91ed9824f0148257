import type { Clock } from '../core/clock.ts';
import type { RecordStore } from '../storage/record-store.ts';

/**
 * Who may use a connector. A connector with no share list is open to its tenant (what an
 * administrator imported for everyone); once shared with named users or groups, only they may run
 * its operations or use its shared connections, and everyone else gets a 403 that says so, instead
 * of another person's data or a vague failure.
 */
export interface ConnectorShare {
  readonly users: readonly string[];
  readonly groups: readonly string[];
  readonly updatedAt: number;
}

export interface ConnectorSharing {
  get(tenantId: string, connectorId: string): Promise<ConnectorShare | undefined>;
  set(
    tenantId: string,
    connectorId: string,
    share: { users: readonly string[]; groups: readonly string[] },
  ): Promise<ConnectorShare>;
  /** Removes the restriction: the connector is open to its tenant again. */
  clear(tenantId: string, connectorId: string): Promise<void>;
  allows(
    tenantId: string,
    connectorId: string,
    user: { objectId: string; groups: readonly string[] },
  ): Promise<boolean>;
}

export const SHARE_KIND = 'connector-share';

export function createConnectorSharing(deps: {
  store: RecordStore;
  clock: Clock;
  cacheMs?: number;
}): ConnectorSharing {
  const { store, clock } = deps;
  const cacheMs = deps.cacheMs ?? 2_000;
  const cache = new Map<string, { at: number; share: ConnectorShare | undefined }>();
  const id = (tenantId: string, connectorId: string) => `${tenantId}/${connectorId}`;
  const read = async (tenantId: string, connectorId: string) => {
    const key = id(tenantId, connectorId);
    const hit = cache.get(key);
    if (hit && clock.now() - hit.at < cacheMs) return hit.share;
    const share = (await store.get<ConnectorShare>(SHARE_KIND, key))?.data;
    cache.set(key, { at: clock.now(), share });
    return share;
  };
  return {
    get: read,
    async set(tenantId, connectorId, share) {
      const key = id(tenantId, connectorId);
      const data: ConnectorShare = {
        users: [...new Set(share.users)],
        groups: [...new Set(share.groups)],
        updatedAt: clock.now(),
      };
      for (;;) {
        const current = await store.get<ConnectorShare>(SHARE_KIND, key);
        const written = current
          ? await store.update(SHARE_KIND, key, current.version, data)
          : await store
              .insert({ kind: SHARE_KIND, id: key, partition: tenantId, data })
              .catch(() => undefined);
        if (written) break;
      }
      cache.delete(key);
      return data;
    },
    async clear(tenantId, connectorId) {
      await store.delete(SHARE_KIND, id(tenantId, connectorId));
      cache.delete(id(tenantId, connectorId));
    },
    async allows(tenantId, connectorId, user) {
      const share = await read(tenantId, connectorId);
      if (!share) return true;
      return share.users.includes(user.objectId) || user.groups.some((g) => share.groups.includes(g));
    },
  };
}
