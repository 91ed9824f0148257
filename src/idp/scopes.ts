import type { IdpDirectory } from './directory-port.ts';
import { entraError } from './errors/entra-error.ts';
import type { Resource } from './resources.ts';
import { enabledScopes, findResource, GRAPH_IDENTIFIER } from './resources.ts';

/** Scopes that are about the sign-in itself, not a resource (ED:scopes-oidc.md). */
export const OIDC_SCOPES = ['openid', 'profile', 'email', 'offline_access'] as const;

export interface ResolvedScopes {
  /** The OIDC scopes requested (openid, profile, email, offline_access). */
  readonly oidc: readonly string[];
  readonly resource: Resource;
  /** `{resource}/.default`: every permission already granted (ED:scopes-oidc.md "The .default scope"). */
  readonly isDefault: boolean;
  /** Permission values asked for explicitly (empty with .default or when only OIDC scopes were asked). */
  readonly permissions: readonly string[];
}

interface ParsedScope {
  readonly raw: string;
  readonly identifier: string;
  readonly value: string;
}

/** `api://x/read` → (api://x, read); `https://m.azure.com//.default` → (https://m.azure.com/, .default); `User.Read` → Graph. */
function parseScope(raw: string): ParsedScope {
  const slash = raw.lastIndexOf('/');
  if (slash <= 0) return { raw, identifier: GRAPH_IDENTIFIER, value: raw };
  return { raw, identifier: raw.slice(0, slash), value: raw.slice(slash + 1) };
}

function sameIdentifier(a: string, b: string): boolean {
  return a.replace(/\/$/, '').toLowerCase() === b.replace(/\/$/, '').toLowerCase();
}

/**
 * Resolves a space-separated scope parameter to one resource and its permissions, the way Entra's
 * token endpoint does: a token is for exactly one resource (AADSTS700022), `.default` cannot be mixed
 * with explicit permissions of the same resource (AADSTS70011), unknown resources are AADSTS500011 and
 * unknown permissions AADSTS70011. A scope list with only OIDC scopes gets a Microsoft Graph token.
 */
export async function resolveScopes(
  directory: IdpDirectory,
  tenantId: string,
  scope: string,
  options: { readonly clientAppId?: string } = {},
): Promise<ResolvedScopes> {
  const requested = scope.split(/\s+/).filter((s) => s !== '');
  if (requested.length === 0) throw entraError(70011, { scope: "''" });
  const oidc = requested.filter((s) => (OIDC_SCOPES as readonly string[]).includes(s.toLowerCase()));
  const parsed = requested.filter((s) => !oidc.includes(s)).map(parseScope);

  const first = parsed[0];
  const identifier = first?.identifier ?? GRAPH_IDENTIFIER;
  for (const other of parsed) {
    if (!sameIdentifier(other.identifier, identifier))
      throw entraError(700022, { scope: requested.join(' ') });
  }
  const isDefault = parsed.some((p) => p.value === '.default');
  if (isDefault && parsed.length > 1) throw entraError(70011, { scope: requested.join(' ') });

  const resource = await findResource(directory, tenantId, identifier);
  if (!resource) throw entraError(500011, { name: identifier, tenant: tenantId });
  // A client asking for itself must name itself by GUID (ED:scopes-oidc.md; AADSTS90009).
  if (
    options.clientAppId &&
    resource.sp.appId === options.clientAppId &&
    identifier !== options.clientAppId
  ) {
    throw entraError(90009, { appId: options.clientAppId, name: resource.sp.displayName });
  }
  const permissions = isDefault ? [] : parsed.map((p) => p.value);
  const known = new Set(enabledScopes(resource).map((s) => s.value));
  for (const p of parsed) {
    if (!isDefault && !known.has(p.value)) throw entraError(70011, { scope: p.raw });
  }
  return { oidc, resource, isDefault, permissions };
}

export function hasOidcScope(resolved: ResolvedScopes, name: (typeof OIDC_SCOPES)[number]): boolean {
  return resolved.oidc.some((s) => s.toLowerCase() === name);
}
