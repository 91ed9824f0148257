import type { User } from '../../directory/model.ts';
import type { JwtClaims } from '../jwt-port.ts';
import type { TokenVersion } from '../urls.ts';
import type { TokenTimes } from './access-token.ts';

export interface IdTokenInput {
  readonly version: TokenVersion;
  readonly issuer: string;
  readonly tenantId: string;
  readonly clientAppId: string;
  readonly user: User;
  /** Pairwise for the client (the ID token's recipient). */
  readonly sub: string;
  readonly times: TokenTimes;
  readonly uti: string;
  readonly nonce?: string | undefined;
  readonly authTime?: number | undefined;
  readonly sessionId?: string | undefined;
  readonly profile: boolean;
  readonly email: boolean;
  readonly authMethods: readonly string[];
}

/**
 * ID-token claims (ED:id-token-claims-reference.md): `aud` is the client, the version follows the
 * endpoint used. Entra's old v1 ID tokens from /oauth2/token were unsigned (`alg: none`); Behalf signs
 * them, which every validator accepts.
 */
export function idTokenClaims(input: IdTokenInput): JwtClaims {
  const { user } = input;
  const claims: JwtClaims = {
    aud: input.clientAppId,
    iss: input.issuer,
    iat: input.times.iat,
    nbf: input.times.iat,
    exp: input.times.exp,
  };
  if (input.version === 1) claims['amr'] = [...input.authMethods];
  if (input.authTime !== undefined) claims['auth_time'] = input.authTime;
  if (input.email && user.mail) claims['email'] = user.mail;
  if (input.version === 1) {
    if (user.surname) claims['family_name'] = user.surname;
    if (user.givenName) claims['given_name'] = user.givenName;
  }
  if (input.profile || input.version === 1) claims['name'] = user.displayName;
  if (input.nonce !== undefined) claims['nonce'] = input.nonce;
  claims['oid'] = user.id;
  if (input.version === 2 && input.profile) claims['preferred_username'] = user.userPrincipalName;
  if (input.sessionId !== undefined) claims['sid'] = input.sessionId;
  claims['sub'] = input.sub;
  claims['tid'] = input.tenantId;
  if (input.version === 1) {
    claims['unique_name'] = user.userPrincipalName;
    claims['upn'] = user.userPrincipalName;
  }
  claims['uti'] = input.uti;
  claims['ver'] = input.version === 2 ? '2.0' : '1.0';
  return claims;
}
