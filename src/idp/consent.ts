import type { ServicePrincipal } from '../directory/model.ts';
import type { IdpDirectory } from './directory-port.ts';
import { entraError } from './errors/entra-error.ts';
import type { Resource } from './resources.ts';
import { enabledRoles, enabledScopes } from './resources.ts';
import type { ResolvedScopes } from './scopes.ts';

/**
 * The delegated permissions a client may use for a user on a resource: a Principal grant for that user,
 * an AllPrincipals (admin) grant, or the resource pre-authorizing the client (ED:v2-oauth2-on-behalf-of-flow.md,
 * "Gaining consent for the middle-tier application"; entra-protocol.md §4.6).
 */
export async function grantedDelegatedScopes(
  directory: IdpDirectory,
  tenantId: string,
  client: ServicePrincipal,
  resource: Resource,
  userId: string,
): Promise<Set<string>> {
  const granted = new Set<string>();
  for (const grant of await directory.listPermissionGrants(tenantId, client.id, resource.sp.id)) {
    if (grant.consentType === 'AllPrincipals' || grant.principalId === userId) {
      for (const value of grant.scope.split(/\s+/)) if (value !== '') granted.add(value);
    }
  }
  const preAuthorized = resource.app?.api.preAuthorizedApplications.find((p) => p.appId === client.appId);
  if (preAuthorized) {
    for (const scope of enabledScopes(resource)) {
      if (preAuthorized.delegatedPermissionIds.includes(scope.id)) granted.add(scope.value);
    }
  }
  return granted;
}

/**
 * The `scp` values for a delegated token, or AADSTS65001 with `suberror: consent_required` when the
 * request asks for something not granted (no UI can ask the user at the token endpoint).
 * `.default` means "everything granted", and is refused when nothing is.
 */
export async function consentedScopes(
  directory: IdpDirectory,
  tenantId: string,
  client: ServicePrincipal,
  resolved: ResolvedScopes,
  userId: string,
): Promise<string[]> {
  const granted = await grantedDelegatedScopes(directory, tenantId, client, resolved.resource, userId);
  const exposed = new Set(enabledScopes(resolved.resource).map((s) => s.value));
  const onlyOidc = !resolved.isDefault && resolved.permissions.length === 0;
  if (onlyOidc) return [];
  const wanted = resolved.isDefault ? [...granted].filter((v) => exposed.has(v)) : [...resolved.permissions];
  const missing = resolved.isDefault ? wanted.length === 0 : wanted.some((v) => !granted.has(v));
  if (missing) throw entraError(65001, { appId: client.appId, name: client.displayName });
  return wanted;
}

/** App roles (values) a principal holds on a resource, for `roles` (user or client SP). */
export async function assignedRoles(
  directory: IdpDirectory,
  tenantId: string,
  principalId: string,
  resource: Resource,
  memberType: 'User' | 'Application',
): Promise<string[]> {
  const roles = new Map(enabledRoles(resource, memberType).map((r) => [r.id, r.value]));
  const values = new Set<string>();
  for (const assignment of await directory.listAppRoleAssignments(tenantId, principalId, resource.sp.id)) {
    const value = roles.get(assignment.appRoleId);
    if (value) values.add(value);
  }
  return [...values];
}
