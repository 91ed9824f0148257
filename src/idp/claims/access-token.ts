import type { ServicePrincipal, User } from '../../directory/model.ts';
import type { JwtClaims } from '../jwt-port.ts';
import type { TokenVersion } from '../urls.ts';

/** How the client proved itself: `0` public, `1` secret, `2` certificate or federated credential (§3.2). */
export type ClientAuthLevel = '0' | '1' | '2';

export interface TokenTimes {
  readonly iat: number;
  readonly exp: number;
}

export interface AccessTokenInput {
  readonly version: TokenVersion;
  readonly issuer: string;
  readonly tenantId: string;
  /** v2: the resource's appId; v1: the identifier as requested (entra-protocol.md §3.2 `aud`). */
  readonly audience: string;
  readonly clientAppId: string;
  readonly clientAuth: ClientAuthLevel;
  readonly times: TokenTimes;
  readonly uti: string;
  readonly roles: readonly string[];
  readonly subject:
    | { readonly kind: 'app'; readonly sp: ServicePrincipal }
    | {
        readonly kind: 'user';
        readonly user: User;
        readonly sub: string;
        readonly scp: readonly string[];
        readonly authMethods: readonly string[];
      };
}

/**
 * Access-token claims in Entra's v1 or v2 shape (ED:access-token-claims-reference.md; entra-protocol.md
 * §3.2): v1 has appid/appidacr, unique_name/upn, amr, acr; v2 has azp/azpacr and preferred_username.
 * App-only tokens have `idtyp: app`, `sub == oid` (the client SP), `roles` and never `scp`.
 */
export function accessTokenClaims(input: AccessTokenInput): JwtClaims {
  const { version, subject } = input;
  const claims: JwtClaims = {
    aud: input.audience,
    iss: input.issuer,
    iat: input.times.iat,
    nbf: input.times.iat,
    exp: input.times.exp,
  };
  if (version === 1) {
    if (subject.kind === 'user') {
      claims['acr'] = '1';
      claims['amr'] = [...subject.authMethods];
    }
    claims['appid'] = input.clientAppId;
    claims['appidacr'] = input.clientAuth;
  } else {
    claims['azp'] = input.clientAppId;
    claims['azpacr'] = input.clientAuth;
  }
  if (subject.kind === 'user') {
    const user = subject.user;
    if (version === 1) {
      if (user.surname) claims['family_name'] = user.surname;
      if (user.givenName) claims['given_name'] = user.givenName;
    }
    claims['name'] = user.displayName;
    claims['oid'] = user.id;
    if (version === 2) claims['preferred_username'] = user.userPrincipalName;
    if (input.roles.length > 0) claims['roles'] = [...input.roles];
    claims['scp'] = subject.scp.join(' ');
    claims['sub'] = subject.sub;
    claims['tid'] = input.tenantId;
    if (version === 1) {
      claims['unique_name'] = user.userPrincipalName;
      claims['upn'] = user.userPrincipalName;
    }
  } else {
    if (version === 1) claims['idp'] = input.issuer;
    claims['idtyp'] = 'app';
    claims['oid'] = subject.sp.id;
    if (input.roles.length > 0) claims['roles'] = [...input.roles];
    claims['sub'] = subject.sp.id;
    claims['tid'] = input.tenantId;
  }
  claims['uti'] = input.uti;
  claims['ver'] = version === 2 ? '2.0' : '1.0';
  return claims;
}
