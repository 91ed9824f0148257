import type { RecordStore } from '../storage/record-store.ts';
import { KIND } from './deps.ts';
import { concurrentChange } from './errors.ts';
import type { Application, ServicePrincipal } from './model.ts';
import { servicePrincipalNameKey } from './rules/identifier-uri.ts';

export const spAppIdKey = (appId: string) => 'appId:' + appId.toLowerCase();
export const spNameKey = (tenantId: string, name: string) =>
  `spn:${tenantId}:${servicePrincipalNameKey(name)}`;
/** One service principal per application per tenant. */
export const spTenantAppKey = (tenantId: string, appId: string) => `app:${tenantId}:${appId.toLowerCase()}`;

export function servicePrincipalKeys(sp: ServicePrincipal) {
  return {
    uniqueKeys: [spTenantAppKey(sp.tenantId, sp.appId)],
    indexKeys: [spAppIdKey(sp.appId), ...sp.servicePrincipalNames.map((n) => spNameKey(sp.tenantId, n))],
  };
}

/** What a service principal copies from its application. */
export function derivedFromApplication(app: Application) {
  return {
    appDisplayName: app.displayName,
    servicePrincipalNames: [app.appId, ...app.identifierUris],
    appRoles: app.appRoles,
    oauth2PermissionScopes: app.api.oauth2PermissionScopes,
  };
}

/** Keeps every tenant's service principal of `app` in step with it (within the caller's transaction). */
export async function syncServicePrincipals(tx: RecordStore, app: Application): Promise<void> {
  let after: string | undefined;
  for (;;) {
    const batch = await tx.findByIndex<ServicePrincipal>(KIND.servicePrincipal, spAppIdKey(app.appId), {
      limit: 500,
      ...(after ? { after } : {}),
    });
    for (const record of batch) {
      const next: ServicePrincipal = { ...record.data, ...derivedFromApplication(app) };
      if (record.data.displayName === record.data.appDisplayName) next.displayName = app.displayName;
      const saved = await tx.update(
        KIND.servicePrincipal,
        record.id,
        record.version,
        next,
        servicePrincipalKeys(next),
      );
      if (!saved) throw concurrentChange();
    }
    if (batch.length < 500) return;
    after = batch[batch.length - 1]!.id;
  }
}
