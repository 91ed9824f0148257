import { DuplicateKeyError } from '../core/errors.ts';
import type { DirectoryDeps } from './deps.ts';
import { KIND } from './deps.ts';
import { badRequest, concurrentChange, conflict, notFound } from './errors.ts';
import type { OAuth2PermissionGrant } from './model.ts';
import type { PageRequest } from './paging.ts';
import { scanPage } from './paging.ts';
import { checkPermissionValue } from './rules/scope-value.ts';
import type { servicePrincipalRepository } from './service-principals.ts';
import type { userRepository } from './users.ts';

export interface NewGrant {
  clientId: string;
  consentType: 'AllPrincipals' | 'Principal';
  principalId?: string | null;
  resourceId: string;
  scope: string;
}

export interface GrantQuery {
  tenantId: string;
  clientId?: string;
  resourceId?: string;
  /** Only grants that apply to this user: AllPrincipals ones and this user's Principal ones. */
  principalId?: string;
  consentType?: 'AllPrincipals' | 'Principal';
}

// One grant per (client, resource, consent type, principal): Graph refuses a second with
// "Permission entry already exists."
const uniqueGrantKey = (g: Pick<OAuth2PermissionGrant, 'clientId' | 'resourceId' | 'principalId'>) =>
  `grant:${g.clientId}:${g.resourceId}:${g.principalId ?? 'AllPrincipals'}`;

function grantKeys(grant: OAuth2PermissionGrant) {
  return {
    uniqueKeys: [uniqueGrantKey(grant)],
    indexKeys: ['client:' + grant.clientId, 'resource:' + grant.resourceId],
  };
}

/** Normalises a space-separated scope list: single spaces, no duplicates, each value well-formed. */
function normaliseScope(scope: string): string {
  const values = [...new Set(scope.split(' ').filter((v) => v !== ''))];
  for (const value of values) checkPermissionValue(value, 'scope');
  return values.join(' ');
}

export function grantRepository(
  deps: DirectoryDeps,
  servicePrincipals: ReturnType<typeof servicePrincipalRepository>,
  users: ReturnType<typeof userRepository>,
) {
  const { store } = deps;

  async function createGrant(tenantId: string, input: NewGrant): Promise<OAuth2PermissionGrant> {
    await servicePrincipals.requireServicePrincipal(tenantId, input.clientId);
    await servicePrincipals.requireServicePrincipal(tenantId, input.resourceId);
    const principalId = input.principalId ?? null;
    if (input.consentType === 'AllPrincipals' && principalId !== null)
      throw badRequest("principalId must be null when consentType is 'AllPrincipals'.");
    if (input.consentType === 'Principal') {
      if (principalId === null) throw badRequest("principalId is required when consentType is 'Principal'.");
      if (!(await users.getUser(tenantId, principalId))) throw notFound(principalId);
    }
    const grant: OAuth2PermissionGrant = {
      // Graph's grant ids are opaque base64url strings, not GUIDs.
      id: deps.random.bytes(32).toString('base64url'),
      tenantId,
      clientId: input.clientId.toLowerCase(),
      consentType: input.consentType,
      principalId: principalId?.toLowerCase() ?? null,
      resourceId: input.resourceId.toLowerCase(),
      scope: normaliseScope(input.scope),
    };
    try {
      await store.insert({
        kind: KIND.grant,
        id: grant.id,
        partition: tenantId,
        data: grant,
        ...grantKeys(grant),
      });
    } catch (error) {
      if (error instanceof DuplicateKeyError) throw conflict('Permission entry already exists.');
      throw error;
    }
    return grant;
  }

  async function getGrant(tenantId: string, id: string): Promise<OAuth2PermissionGrant | undefined> {
    const record = await store.get<OAuth2PermissionGrant>(KIND.grant, id);
    return record && record.partition === tenantId ? record.data : undefined;
  }

  /** Only `scope` can change (Graph: PATCH oAuth2PermissionGrant). */
  async function updateGrant(tenantId: string, id: string, scope: string): Promise<OAuth2PermissionGrant> {
    const record = await store.get<OAuth2PermissionGrant>(KIND.grant, id);
    if (!record || record.partition !== tenantId) throw notFound(id);
    const next = { ...record.data, scope: normaliseScope(scope) };
    if (!(await store.update(KIND.grant, id, record.version, next, grantKeys(next))))
      throw concurrentChange();
    return next;
  }

  async function deleteGrant(tenantId: string, id: string): Promise<void> {
    const grant = await getGrant(tenantId, id);
    if (!grant) throw notFound(id);
    await store.delete(KIND.grant, id);
  }

  function matches(query: Omit<GrantQuery, 'tenantId'>) {
    return (g: OAuth2PermissionGrant) =>
      (query.clientId === undefined || g.clientId === query.clientId.toLowerCase()) &&
      (query.resourceId === undefined || g.resourceId === query.resourceId.toLowerCase()) &&
      (query.consentType === undefined || g.consentType === query.consentType) &&
      (query.principalId === undefined ||
        g.consentType === 'AllPrincipals' ||
        g.principalId === query.principalId.toLowerCase());
  }

  /** The token service's question: which delegated permissions may this client use on this resource? */
  async function listPermissionGrants(query: GrantQuery): Promise<OAuth2PermissionGrant[]> {
    const where = matches(query);
    const indexKey =
      query.clientId !== undefined
        ? 'client:' + query.clientId.toLowerCase()
        : query.resourceId !== undefined
          ? 'resource:' + query.resourceId.toLowerCase()
          : undefined;
    if (indexKey === undefined)
      return (await scanPage(store, KIND.grant, query.tenantId, { where, limit: 999 })).items;
    const found = await store.findByIndex<OAuth2PermissionGrant>(KIND.grant, indexKey, {
      partition: query.tenantId,
      limit: 1000,
    });
    return found.map((r) => r.data).filter(where);
  }

  function listGrants(tenantId: string, request: PageRequest<OAuth2PermissionGrant> = {}) {
    return scanPage<OAuth2PermissionGrant>(store, KIND.grant, tenantId, request);
  }

  return { createGrant, getGrant, updateGrant, deleteGrant, listPermissionGrants, listGrants };
}
