import type { Application, AppRole, PermissionScope, ServicePrincipal } from '../directory/model.ts';
import { MICROSOFT_GRAPH_APP_ID, MICROSOFT_GRAPH_RESOURCE } from '../directory/model.ts';
import type { IdpDirectory } from './directory-port.ts';

/** A resource (API) as the token service sees it: its SP in the tenant and its app registration. */
export interface Resource {
  readonly sp: ServicePrincipal;
  readonly app: Application | undefined;
  /** The identifier the client used (appId or identifier URI): v1 tokens echo it as `aud`. */
  readonly requestedAs: string;
}

export async function findResource(
  directory: IdpDirectory,
  tenantId: string,
  identifier: string,
): Promise<Resource | undefined> {
  const sp =
    (await directory.resolveServicePrincipal(tenantId, identifier)) ??
    // `https://management.azure.com//.default` names `https://management.azure.com/` (ED:scopes-oidc.md).
    (identifier.endsWith('/')
      ? await directory.resolveServicePrincipal(tenantId, identifier.slice(0, -1))
      : undefined);
  if (!sp) return undefined;
  const app = await directory.getApplicationByAppId(sp.appId);
  return { sp, app, requestedAs: identifier };
}

export function enabledScopes(resource: Resource): PermissionScope[] {
  return (resource.app?.api.oauth2PermissionScopes ?? []).filter((s) => s.isEnabled);
}

export function enabledRoles(resource: Resource, memberType: 'User' | 'Application'): AppRole[] {
  return (resource.app?.appRoles ?? []).filter(
    (r) => r.isEnabled && r.allowedMemberTypes.includes(memberType),
  );
}

export function isGraph(resource: Resource): boolean {
  return resource.sp.appId === MICROSOFT_GRAPH_APP_ID;
}

/** `api.requestedAccessTokenVersion` picks the format, whichever endpoint was used (ED:access-tokens.md). */
export function accessTokenVersion(resource: Resource): 1 | 2 {
  return resource.app?.api.requestedAccessTokenVersion === 2 ? 2 : 1;
}

/** How scopes are written back in a response: Graph's are short, others fully qualified (§2.7). */
export function qualifyScope(resource: Resource, value: string): string {
  if (isGraph(resource)) return value;
  const prefix = resource.requestedAs.endsWith('/') ? resource.requestedAs : resource.requestedAs + '/';
  return prefix + value;
}

export const GRAPH_IDENTIFIER = MICROSOFT_GRAPH_RESOURCE;
