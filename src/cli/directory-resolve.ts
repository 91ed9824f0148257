import type { GraphClient } from './api-client.ts';
import { ApiError, UsageError } from './api-client.ts';

const GUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
const quote = (value: string) => `'${value.replace(/'/g, "''")}'`;

export type GraphObject = Record<string, unknown> & { id: string };

async function single(api: GraphClient, path: string, what: string, reference: string): Promise<GraphObject> {
  const found = await api.list<GraphObject>(path);
  if (found.length === 1) return found[0]!;
  if (found.length === 0)
    throw new ApiError(404, 'Request_ResourceNotFound', `No ${what} matches '${reference}'.`);
  throw new UsageError(`'${reference}' matches ${found.length} ${what}s; use its appId or object id.`);
}

/** An application by appId, object id, identifier URI or display name (in that order). */
export async function resolveApplication(api: GraphClient, reference: string): Promise<GraphObject> {
  if (GUID.test(reference)) {
    try {
      return await api.call<GraphObject>('GET', `/applications(appId=${quote(reference)})`);
    } catch (error) {
      if (!(error instanceof ApiError) || error.status !== 404) throw error;
      return api.call<GraphObject>('GET', `/applications/${reference}`);
    }
  }
  const filter = reference.includes(':')
    ? `identifierUris/any(x:x eq ${quote(reference)})`
    : `displayName eq ${quote(reference)}`;
  return single(api, `/applications?$filter=${encodeURIComponent(filter)}`, 'application', reference);
}

/** A service principal by appId, object id, servicePrincipalName or display name. */
export async function resolveServicePrincipal(api: GraphClient, reference: string): Promise<GraphObject> {
  if (GUID.test(reference)) {
    try {
      return await api.call<GraphObject>('GET', `/servicePrincipals(appId=${quote(reference)})`);
    } catch (error) {
      if (!(error instanceof ApiError) || error.status !== 404) throw error;
      return api.call<GraphObject>('GET', `/servicePrincipals/${reference}`);
    }
  }
  const filter = reference.includes(':')
    ? `servicePrincipalNames/any(x:x eq ${quote(reference)})`
    : `displayName eq ${quote(reference)}`;
  return single(
    api,
    `/servicePrincipals?$filter=${encodeURIComponent(filter)}`,
    'service principal',
    reference,
  );
}

/** A user by object id or userPrincipalName. */
export function resolveUser(api: GraphClient, reference: string): Promise<GraphObject> {
  return api.call<GraphObject>('GET', `/users/${encodeURIComponent(reference)}`);
}

export async function resolveGroup(api: GraphClient, reference: string): Promise<GraphObject> {
  if (GUID.test(reference)) return api.call<GraphObject>('GET', `/groups/${reference}`);
  return single(
    api,
    `/groups?$filter=${encodeURIComponent(`displayName eq ${quote(reference)}`)}`,
    'group',
    reference,
  );
}

export { GUID };
