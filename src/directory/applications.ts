import { DuplicateKeyError } from '../core/errors.ts';
import { isGuid } from '../core/ids.ts';
import type { RecordStore } from '../storage/record-store.ts';
import type { ApplicationInput } from './application-input.ts';
import { applyApplicationInput, emptyApplication } from './application-input.ts';
import type { DirectoryDeps } from './deps.ts';
import { KIND, isoNow } from './deps.ts';
import { DirectoryError, badRequest, concurrentChange, conflict, notFound } from './errors.ts';
import type { Application } from './model.ts';
import type { PageRequest } from './paging.ts';
import { scanPage } from './paging.ts';
import { checkApplication } from './rules/application.ts';
import { identifierKey } from './rules/identifier-uri.ts';
import type { tenantRepository } from './tenants.ts';
import { spAppIdKey, syncServicePrincipals } from './service-principal-sync.ts';

const MAX_ATTEMPTS = 5;

/** appId is unique across all tenants: it is the client_id a token request names without a tenant. */
export const appIdKey = (appId: string) => 'appId:' + appId.toLowerCase();
// identifierUris are unique per tenant (Graph: "Another object with the same value for property
// identifierUris already exists.").
const uriKey = (tenantId: string, uri: string) => `uri:${tenantId}:${identifierKey(uri)}`;

export function applicationKeys(app: Application) {
  return { uniqueKeys: [appIdKey(app.appId), ...app.identifierUris.map((u) => uriKey(app.tenantId, u))] };
}

export function duplicateApplicationKey(error: DuplicateKeyError) {
  return error.key.startsWith('uri:')
    ? conflict('Another object with the same value for property identifierUris already exists.')
    : conflict('Another object with the same value for property appId already exists.');
}

export function applicationRepository(deps: DirectoryDeps, tenants: ReturnType<typeof tenantRepository>) {
  const { store } = deps;

  /** `wellKnown` is for built-in applications only (Microsoft Graph, Behalf Admin), never from the API. */
  async function createApplication(
    tenantId: string,
    input: ApplicationInput,
    wellKnown: { appId?: string } = {},
  ): Promise<Application> {
    const tenant = await tenants.requireTenant(tenantId);
    if (input.displayName === undefined) throw badRequest("Property 'displayName' is required.");
    const base = emptyApplication({
      id: deps.random.uuid(),
      tenantId: tenant.id,
      appId: wellKnown.appId ?? deps.random.uuid(),
      createdDateTime: isoNow(deps),
    });
    base.publisherDomain = tenant.verifiedDomains.find((d) => d.isDefault)?.name ?? null;
    const app = applyApplicationInput(base, input, deps.random);
    checkApplication(app);
    try {
      await store.insert({
        kind: KIND.application,
        id: app.id,
        partition: tenant.id,
        data: app,
        ...applicationKeys(app),
      });
    } catch (error) {
      if (error instanceof DuplicateKeyError) throw duplicateApplicationKey(error);
      throw error;
    }
    return app;
  }

  async function getApplication(tenantId: string, id: string): Promise<Application | undefined> {
    if (!isGuid(id)) return undefined;
    const record = await store.get<Application>(KIND.application, id.toLowerCase());
    return record && record.partition === tenantId ? record.data : undefined;
  }

  /** Global: the token endpoint knows only the client_id (and, later, the tenant it was asked in). */
  async function getApplicationByAppId(appId: string): Promise<Application | undefined> {
    if (!isGuid(appId)) return undefined;
    return (await store.findByUniqueKey<Application>(KIND.application, appIdKey(appId)))?.data;
  }

  async function requireApplication(tenantId: string, id: string): Promise<Application> {
    const app = await getApplication(tenantId, id);
    if (!app) throw notFound(id);
    return app;
  }

  /**
   * Read-modify-write under compare-and-swap; every change to an application goes through here, so the
   * rules run on each and its service principals follow (servicePrincipalNames, scopes, roles).
   */
  async function changeApplication(
    tenantId: string,
    id: string,
    change: (app: Application) => Application,
  ): Promise<Application> {
    // Compare-and-swap can lose to a concurrent writer (two addPassword calls at once on PostgreSQL):
    // the change is a pure function of the current object, so it is simply re-applied.
    for (let attempt = 1; ; attempt++) {
      try {
        return await changeOnce(tenantId, id, change);
      } catch (error) {
        if (error instanceof DirectoryError && error.code === 'Request_Conflict' && attempt < MAX_ATTEMPTS)
          continue;
        throw error;
      }
    }
  }

  async function changeOnce(
    tenantId: string,
    id: string,
    change: (app: Application) => Application,
  ): Promise<Application> {
    try {
      return await store.transaction(async (tx) => {
        const record = await tx.get<Application>(KIND.application, id.toLowerCase());
        if (!record || record.partition !== tenantId) throw notFound(id);
        const next = change(record.data);
        checkApplication(next, record.data);
        const saved = await tx.update(
          KIND.application,
          record.id,
          record.version,
          next,
          applicationKeys(next),
        );
        if (!saved) throw concurrentChange();
        await syncServicePrincipals(tx, next);
        return next;
      });
    } catch (error) {
      if (error instanceof DuplicateKeyError) throw duplicateApplicationKey(error);
      throw error;
    }
  }

  function updateApplication(tenantId: string, id: string, input: ApplicationInput): Promise<Application> {
    return changeApplication(tenantId, id, (app) => applyApplicationInput(app, input, deps.random));
  }

  /** Deleting an application also removes its service principal in the home tenant, as Entra does. */
  async function deleteApplication(
    tenantId: string,
    id: string,
    onDeleteServicePrincipal: (tx: RecordStore, spId: string) => Promise<void>,
  ): Promise<void> {
    await store.transaction(async (tx) => {
      const record = await tx.get<Application>(KIND.application, id.toLowerCase());
      if (!record || record.partition !== tenantId) throw notFound(id);
      for (const sp of await tx.findByIndex<{ id: string }>(
        KIND.servicePrincipal,
        spAppIdKey(record.data.appId),
        {
          partition: tenantId,
        },
      ))
        await onDeleteServicePrincipal(tx, sp.id);
      await tx.delete(KIND.application, record.id);
    });
  }

  function listApplications(tenantId: string, request: PageRequest<Application> = {}) {
    return scanPage<Application>(store, KIND.application, tenantId, request);
  }

  return {
    createApplication,
    getApplication,
    getApplicationByAppId,
    requireApplication,
    changeApplication,
    updateApplication,
    deleteApplication,
    listApplications,
  };
}
