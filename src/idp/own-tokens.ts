import type { Clock } from '../core/clock.ts';
import type { JwtClaims, TokenSigner } from './jwt-port.ts';
import { issuerFor } from './urls.ts';

export type OwnTokenFailure =
  'malformed' | 'signature' | 'issuer' | 'expired' | 'not_yet_valid' | 'audience' | 'tenant';

export type OwnTokenCheck = { ok: true; claims: JwtClaims } | { ok: false; failure: OwnTokenFailure };

/** Tokens Behalf itself issued are checked with the same 5-minute skew Microsoft's validators allow. */
const SKEW_SECONDS = 300;

/**
 * Verifies a token this Behalf issued: signature by a published key, issuer of its own `tid` (v1 or v2
 * shape), time window, and optionally tenant and audience. The on-behalf-of grant and the management
 * API's bearer check both use it.
 */
export async function checkOwnToken(
  deps: { readonly signer: TokenSigner; readonly clock: Clock; readonly baseUrl: () => string },
  token: string,
  expect: { readonly tenantId?: string; readonly audiences?: readonly string[] } = {},
): Promise<OwnTokenCheck> {
  const verified = await deps.signer.verifyOwn(token);
  if (!verified.ok) {
    const passthrough: readonly string[] = ['malformed', 'expired', 'not_yet_valid'];
    const failure = passthrough.includes(verified.reason)
      ? (verified.reason as OwnTokenFailure)
      : 'signature';
    return { ok: false, failure };
  }
  const { claims } = verified.jwt;
  const tid = claims['tid'];
  if (typeof tid !== 'string') return { ok: false, failure: 'issuer' };
  const base = deps.baseUrl();
  if (claims['iss'] !== issuerFor(base, tid, 1) && claims['iss'] !== issuerFor(base, tid, 2)) {
    return { ok: false, failure: 'issuer' };
  }
  const now = Math.floor(deps.clock.now() / 1000);
  if (typeof claims['exp'] !== 'number' || claims['exp'] + SKEW_SECONDS < now)
    return { ok: false, failure: 'expired' };
  if (typeof claims['nbf'] === 'number' && claims['nbf'] - SKEW_SECONDS > now)
    return { ok: false, failure: 'not_yet_valid' };
  if (expect.tenantId !== undefined && tid.toLowerCase() !== expect.tenantId.toLowerCase()) {
    return { ok: false, failure: 'tenant' };
  }
  if (expect.audiences !== undefined && !expect.audiences.includes(String(claims['aud']))) {
    return { ok: false, failure: 'audience' };
  }
  return { ok: true, claims };
}

/** An ID token, not an access token: it names no client app (`azp`/`appid`) it was issued through. */
export function isIdToken(claims: JwtClaims): boolean {
  return claims['azp'] === undefined && claims['appid'] === undefined;
}

/** App-only tokens (client credentials) say so with `idtyp: app` (ED:access-token-claims-reference.md). */
export function isAppOnlyToken(claims: JwtClaims): boolean {
  return claims['idtyp'] === 'app' || claims['scp'] === undefined;
}
