import { DuplicateKeyError } from '../core/errors.ts';
import { isGuid } from '../core/ids.ts';
import type { RecordStore } from '../storage/record-store.ts';
import type { applicationRepository } from './applications.ts';
import type { DirectoryDeps } from './deps.ts';
import { KIND, isoNow } from './deps.ts';
import { badRequest, concurrentChange, conflict, notFound } from './errors.ts';
import type { AppRoleAssignment, OAuth2PermissionGrant, ServicePrincipal } from './model.ts';
import type { PageRequest } from './paging.ts';
import { scanPage } from './paging.ts';
import {
  derivedFromApplication,
  servicePrincipalKeys,
  spNameKey,
  spTenantAppKey,
} from './service-principal-sync.ts';
import type { tenantRepository } from './tenants.ts';

export interface NewServicePrincipal {
  appId: string;
  accountEnabled?: boolean;
  appRoleAssignmentRequired?: boolean;
  tags?: string[];
}

export type ServicePrincipalChanges = Partial<Omit<NewServicePrincipal, 'appId'>> & { displayName?: string };

export function servicePrincipalRepository(
  deps: DirectoryDeps,
  tenants: ReturnType<typeof tenantRepository>,
  applications: ReturnType<typeof applicationRepository>,
) {
  const { store } = deps;

  async function createServicePrincipal(
    tenantId: string,
    input: NewServicePrincipal,
  ): Promise<ServicePrincipal> {
    const tenant = await tenants.requireTenant(tenantId);
    const app = await applications.getApplicationByAppId(input.appId);
    if (!app) throw badRequest(`No application with appId '${input.appId}' was found in the directory.`);
    // A single-tenant application may only be instantiated in its home tenant.
    if (app.tenantId !== tenant.id && app.signInAudience === 'AzureADMyOrg')
      throw badRequest(
        `Application '${app.appId}' is single-tenant (AzureADMyOrg); it cannot have a service principal in another tenant.`,
      );
    const sp: ServicePrincipal = {
      id: deps.random.uuid(),
      tenantId: tenant.id,
      appId: app.appId,
      displayName: app.displayName,
      appOwnerOrganizationId: app.tenantId,
      accountEnabled: input.accountEnabled ?? true,
      appRoleAssignmentRequired: input.appRoleAssignmentRequired ?? false,
      servicePrincipalType: 'Application',
      tags: input.tags ?? [],
      createdDateTime: isoNow(deps),
      ...derivedFromApplication(app),
    };
    try {
      await store.insert({
        kind: KIND.servicePrincipal,
        id: sp.id,
        partition: tenant.id,
        data: sp,
        ...servicePrincipalKeys(sp),
      });
    } catch (error) {
      if (error instanceof DuplicateKeyError)
        throw conflict(
          `The service principal cannot be created, updated, or restored because the service principal name ${app.appId} is already in use.`,
        );
      throw error;
    }
    return sp;
  }

  async function getServicePrincipal(tenantId: string, id: string): Promise<ServicePrincipal | undefined> {
    if (!isGuid(id)) return undefined;
    const record = await store.get<ServicePrincipal>(KIND.servicePrincipal, id.toLowerCase());
    return record && record.partition === tenantId ? record.data : undefined;
  }

  async function requireServicePrincipal(tenantId: string, id: string): Promise<ServicePrincipal> {
    const sp = await getServicePrincipal(tenantId, id);
    if (!sp) throw notFound(id);
    return sp;
  }

  async function getServicePrincipalByAppId(
    tenantId: string,
    appId: string,
  ): Promise<ServicePrincipal | undefined> {
    if (!isGuid(appId)) return undefined;
    return (
      await store.findByUniqueKey<ServicePrincipal>(KIND.servicePrincipal, spTenantAppKey(tenantId, appId))
    )?.data;
  }

  /**
   * The `resource` parameter / scope prefix → service principal: by appId or by any of its
   * servicePrincipalNames, case-insensitively and with or without a trailing slash (entra-protocol.md §6.9).
   */
  async function resolveServicePrincipal(
    tenantId: string,
    appIdOrUri: string,
  ): Promise<ServicePrincipal | undefined> {
    if (appIdOrUri.trim() === '') return undefined;
    const found = await store.findByIndex<ServicePrincipal>(
      KIND.servicePrincipal,
      spNameKey(tenantId, appIdOrUri),
      {
        partition: tenantId,
        limit: 2,
      },
    );
    return found[0]?.data;
  }

  async function updateServicePrincipal(
    tenantId: string,
    id: string,
    changes: ServicePrincipalChanges,
  ): Promise<ServicePrincipal> {
    const record = await store.get<ServicePrincipal>(KIND.servicePrincipal, id.toLowerCase());
    if (!record || record.partition !== tenantId) throw notFound(id);
    const next: ServicePrincipal = { ...record.data };
    if (changes.accountEnabled !== undefined) next.accountEnabled = changes.accountEnabled;
    if (changes.appRoleAssignmentRequired !== undefined)
      next.appRoleAssignmentRequired = changes.appRoleAssignmentRequired;
    if (changes.tags !== undefined) next.tags = [...changes.tags];
    if (changes.displayName !== undefined) {
      if (changes.displayName.trim() === '') throw badRequest('displayName must not be empty.');
      next.displayName = changes.displayName;
    }
    const saved = await store.update(
      KIND.servicePrincipal,
      record.id,
      record.version,
      next,
      servicePrincipalKeys(next),
    );
    if (!saved) throw concurrentChange();
    return next;
  }

  /** Removes the SP and what hangs off it (grants, assignments), as Entra does; inside the caller's tx. */
  async function deleteServicePrincipalIn(tx: RecordStore, spId: string): Promise<void> {
    for (const key of ['client:' + spId, 'resource:' + spId])
      for (const grant of await tx.findByIndex<OAuth2PermissionGrant>(KIND.grant, key, { limit: 1000 }))
        await tx.delete(KIND.grant, grant.id);
    for (const key of ['principal:' + spId, 'resource:' + spId])
      for (const assignment of await tx.findByIndex<AppRoleAssignment>(KIND.assignment, key, { limit: 1000 }))
        await tx.delete(KIND.assignment, assignment.id);
    await tx.delete(KIND.servicePrincipal, spId);
  }

  async function deleteServicePrincipal(tenantId: string, id: string): Promise<void> {
    const sp = await requireServicePrincipal(tenantId, id);
    await store.transaction((tx) => deleteServicePrincipalIn(tx, sp.id));
  }

  function listServicePrincipals(tenantId: string, request: PageRequest<ServicePrincipal> = {}) {
    return scanPage<ServicePrincipal>(store, KIND.servicePrincipal, tenantId, request);
  }

  return {
    createServicePrincipal,
    getServicePrincipal,
    requireServicePrincipal,
    getServicePrincipalByAppId,
    resolveServicePrincipal,
    updateServicePrincipal,
    deleteServicePrincipal,
    deleteServicePrincipalIn,
    listServicePrincipals,
  };
}
