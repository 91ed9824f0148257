import type { AppRole, Application, PermissionScope, ServicePrincipal } from '../../directory/model.ts';
import { grantedDelegatedScopes } from '../consent.ts';
import type { IdpDirectory } from '../directory-port.ts';
import { EntraError } from '../errors/entra-error.ts';
import type { Resource } from '../resources.ts';
import { enabledRoles, enabledScopes, findResource } from '../resources.ts';
import { OIDC_SCOPES, resolveScopes } from '../scopes.ts';
import { interactiveError } from './authorize-errors.ts';
import type { AuthorizeRequest } from './authorize-request.ts';

/**
 * What an authorization request asks the user (or administrator) to allow, per resource. Unlike the
 * token endpoint, /authorize may name several resources at once (ED:v2-oauth2-auth-code-flow.md:
 * "scope ... may span several resources"); `.default` and v1 `resource` mean the client's statically
 * configured `requiredResourceAccess` (ED:scopes-oidc.md "The .default scope").
 */
export interface RequestedAccess {
  readonly resource: Resource;
  readonly scopes: readonly PermissionScope[];
  /** Application permissions: only the admin consent endpoint grants them. */
  readonly roles: readonly AppRole[];
}

function identifierOf(scope: string): string {
  const slash = scope.lastIndexOf('/');
  return slash <= 0 ? '' : scope.slice(0, slash);
}

/** The client's static permissions on one resource (`requiredResourceAccess`). */
function staticAccess(client: Application, resource: Resource): RequestedAccess {
  const entry = client.requiredResourceAccess.find((r) => r.resourceAppId === resource.sp.appId);
  const ids = new Set(entry?.resourceAccess.map((a) => a.id) ?? []);
  return {
    resource,
    scopes: enabledScopes(resource).filter((s) => ids.has(s.id)),
    roles: enabledRoles(resource, 'Application').filter((r) => ids.has(r.id)),
  };
}

export async function requestedAccess(
  directory: IdpDirectory,
  tenantId: string,
  client: Application,
  request: Pick<AuthorizeRequest, 'version' | 'scopes' | 'resource'>,
): Promise<RequestedAccess[]> {
  if (request.version === 'v1') {
    if (!request.resource) return [];
    const resource = await findResource(directory, tenantId, request.resource);
    if (!resource) throw interactiveError(500011, { name: request.resource, tenant: tenantId });
    return [staticAccess(client, resource)];
  }
  const oidc = new Set<string>(OIDC_SCOPES);
  const groups = new Map<string, string[]>();
  for (const scope of request.scopes) {
    if (oidc.has(scope.toLowerCase())) continue;
    const key = identifierOf(scope).replace(/\/$/, '').toLowerCase();
    groups.set(key, [...(groups.get(key) ?? []), scope]);
  }
  const out: RequestedAccess[] = [];
  for (const scopes of groups.values()) {
    let resolved;
    try {
      resolved = await resolveScopes(directory, tenantId, scopes.join(' '), { clientAppId: client.appId });
    } catch (error) {
      if (error instanceof EntraError && error.code === 500011) throw interactiveError(500011, error.params);
      if (error instanceof EntraError) throw interactiveError(70011, { scope: scopes.join(' ') });
      throw error;
    }
    if (resolved.isDefault) {
      out.push(staticAccess(client, resolved.resource));
      continue;
    }
    const wanted = new Set(resolved.permissions);
    out.push({
      resource: resolved.resource,
      scopes: enabledScopes(resolved.resource).filter((s) => wanted.has(s.value)),
      roles: [],
    });
  }
  return out;
}

/** The part of `requested` this user has not been granted yet (pre-authorization counts as granted). */
export async function missingAccess(
  directory: IdpDirectory,
  tenantId: string,
  clientSp: ServicePrincipal | undefined,
  requested: readonly RequestedAccess[],
  userId: string,
): Promise<RequestedAccess[]> {
  const out: RequestedAccess[] = [];
  for (const access of requested) {
    const granted = clientSp
      ? await grantedDelegatedScopes(directory, tenantId, clientSp, access.resource, userId)
      : new Set<string>();
    const scopes = access.scopes.filter((s) => !granted.has(s.value));
    if (scopes.length > 0) out.push({ ...access, scopes, roles: [] });
  }
  return out;
}
