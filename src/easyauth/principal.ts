/**
 * Who is calling, read from a validated access token (or a session's ID token). Field names follow
 * Entra's claims (entra-protocol.md §3.2); both token versions map onto the same shape.
 */
export interface Principal {
  /** The user's or the calling service principal's object id. */
  readonly oid: string;
  readonly tid: string;
  readonly sub: string;
  readonly name: string | undefined;
  /** `upn`/`unique_name` (v1) or `preferred_username` (v2). */
  readonly upn: string | undefined;
  /** Delegated permissions (`scp`), empty for app-only callers. */
  readonly scopes: readonly string[];
  /** App roles (`roles`): the user's for delegated tokens, the client's for app-only ones. */
  readonly roles: readonly string[];
  /** The client application (`appid` v1, `azp` v2). */
  readonly appId: string | undefined;
  readonly isAppOnly: boolean;
  readonly version: '1.0' | '2.0';
  readonly claims: Readonly<Record<string, unknown>>;
}

function str(claims: Record<string, unknown>, name: string): string | undefined {
  const value = claims[name];
  return typeof value === 'string' ? value : undefined;
}

export function principalFromClaims(claims: Record<string, unknown>): Principal {
  const scp = str(claims, 'scp');
  const roles = Array.isArray(claims['roles']) ? claims['roles'].filter((r) => typeof r === 'string') : [];
  const version = str(claims, 'ver') === '2.0' ? '2.0' : '1.0';
  return {
    oid: str(claims, 'oid') ?? str(claims, 'sub') ?? '',
    tid: str(claims, 'tid') ?? '',
    sub: str(claims, 'sub') ?? '',
    name: str(claims, 'name'),
    upn:
      version === '2.0'
        ? (str(claims, 'preferred_username') ?? str(claims, 'upn'))
        : (str(claims, 'upn') ?? str(claims, 'unique_name') ?? str(claims, 'preferred_username')),
    scopes: scp ? scp.split(' ').filter(Boolean) : [],
    roles,
    appId: str(claims, 'appid') ?? str(claims, 'azp'),
    isAppOnly: isAppOnlyToken(claims),
    version,
    claims,
  };
}

/**
 * Entra's own guidance (access-tokens.md, "Validate the user has permission"): `idtyp` says it when
 * the optional claim is on; otherwise an app-only token has no `scp`, and its `sub` equals its `oid`
 * (the client service principal), which is never true of a user token's pairwise `sub`.
 */
export function isAppOnlyToken(claims: Record<string, unknown>): boolean {
  if (claims['idtyp'] === 'app') return true;
  if (claims['idtyp'] === 'user') return false;
  if (typeof claims['scp'] === 'string' && claims['scp'] !== '') return false;
  return claims['oid'] !== undefined && claims['oid'] === claims['sub'];
}
