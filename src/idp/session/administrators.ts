import type { RecordStore } from '../../storage/record-store.ts';

/**
 * Who may consent for the whole organization. Entra grants this to directory roles (Global
 * Administrator, Privileged Role Administrator, Cloud Application Administrator); Behalf's directory
 * does not model directory roles yet, so this is the stand-in: a per-tenant list of administrator user
 * ids, set by `behalf up` for the bootstrap and demo administrators.
 */
export interface Administrators {
  isAdministrator(tenantId: string, userId: string): Promise<boolean>;
  add(tenantId: string, userId: string): Promise<void>;
}

const KIND = 'idp.tenant-administrator';

export function createAdministrators(store: RecordStore): Administrators {
  const id = (tenantId: string, userId: string) => `${tenantId}:${userId.toLowerCase()}`;
  return {
    async isAdministrator(tenantId, userId) {
      return (await store.get(KIND, id(tenantId, userId))) !== undefined;
    },
    async add(tenantId, userId) {
      if (await store.get(KIND, id(tenantId, userId))) return;
      await store.insert({
        kind: KIND,
        id: id(tenantId, userId),
        partition: tenantId,
        data: { tenantId, userId },
      });
    },
  };
}
