import { MICROSOFT_GRAPH_APP_ID, MICROSOFT_GRAPH_RESOURCE } from '../../directory/model.ts';
import type { GraphCaller, VerifyBearer } from './caller.ts';

/** What the token service offers (its `verifyAccessToken`), narrowed to what the management API needs. */
export interface AccessTokenVerifier {
  verifyAccessToken(
    token: string,
    expect: { audiences?: readonly string[] },
  ): Promise<{ ok: true; claims: Record<string, unknown> } | { ok: false }>;
}

/** Both v1 (`https://graph.microsoft.com`) and appId audiences, as Graph accepts both. */
export const GRAPH_AUDIENCES = [
  MICROSOFT_GRAPH_RESOURCE,
  MICROSOFT_GRAPH_RESOURCE + '/',
  MICROSOFT_GRAPH_APP_ID,
] as const;

export function graphCallerFromClaims(claims: Record<string, unknown>): GraphCaller | undefined {
  const tid = claims.tid;
  const appId = claims.appid ?? claims.azp;
  if (typeof tid !== 'string' || typeof appId !== 'string') return undefined;
  const roles = Array.isArray(claims.roles)
    ? claims.roles.filter((r): r is string => typeof r === 'string')
    : [];
  const scopes = typeof claims.scp === 'string' ? claims.scp.split(' ').filter((s) => s !== '') : [];
  const oid = typeof claims.oid === 'string' && scopes.length > 0 ? claims.oid : undefined;
  // A delegated token carries scp; an app-only one carries roles and no scp: never mix the two.
  return { tenantId: tid, appId, roles: scopes.length > 0 ? [] : roles, scopes, ...(oid ? { oid } : {}) };
}

export interface DelegatedRights {
  /** Whether a user administers a tenant: what bounds a delegated caller's writes. */
  isAdministrator(tenantId: string, userId: string): Promise<boolean>;
}

export function graphBearerVerifier(tokens: AccessTokenVerifier, rights?: DelegatedRights): VerifyBearer {
  return async (token) => {
    const check = await tokens.verifyAccessToken(token, { audiences: GRAPH_AUDIENCES });
    const caller = check.ok ? graphCallerFromClaims(check.claims) : undefined;
    if (caller?.oid === undefined) return caller;
    const userIsAdministrator = (await rights?.isAdministrator(caller.tenantId, caller.oid)) ?? false;
    return { ...caller, userIsAdministrator };
  };
}
