import type { Clock } from '../core/clock.ts';
import { systemClock } from '../core/clock.ts';
import { isGuid } from '../core/ids.ts';
import type { Authority, SigningKey, TokenVersion } from './authority.ts';
import { createAuthority } from './authority.ts';
import { invalidToken } from './errors.ts';
import type { FetchLike } from './http-client.ts';
import { fetchTrusting } from './http-client.ts';
import {
  critProblem,
  decodeBase64url,
  decodeJsonObject,
  isSupportedAlgorithm,
  splitCompact,
  verifySignature,
} from './jws.ts';
import type { Principal } from './principal.ts';
import { principalFromClaims } from './principal.ts';

export interface ValidatorOptions {
  /** The authority the API trusts: a tenant (`…/{tenant-guid}`) or `common`/`organizations` (multi-tenant). */
  readonly authority: string;
  /** Accepted `aud` values: the API's appId and/or identifier URIs. */
  readonly audiences: readonly string[];
  /** `exact` (default) or `either`: treat `https://api/` and `https://api` as the same audience. */
  readonly audienceTrailingSlash?: 'exact' | 'either';
  /** With a multi-tenant authority: the tenants whose users may call (default: any tenant). */
  readonly allowedTenants?: readonly string[];
  /** Signature algorithms accepted (default RS256, Entra's only one). `none` and HS* are never accepted. */
  readonly algorithms?: readonly string[];
  /** Tolerance for `exp`/`nbf`, seconds (default 300, at most 600). */
  readonly clockSkewSeconds?: number;
  /** Token versions accepted (default both). */
  readonly versions?: readonly TokenVersion[];
  readonly fetch?: FetchLike;
  /** PEM of a private CA to trust for the authority's HTTPS (ignored when `fetch` is given). */
  readonly ca?: string;
  readonly clock?: Clock;
  readonly keyRefreshCooldownMs?: number;
  /**
   * Tokens already verified are remembered (by their exact text) for at most `tokenCacheSeconds`
   * (default 60) and never past `exp`, so a busy caller does not pay an RSA verification per request
   * (Envoy's jwt_authn cache does the same). 0 turns it off. Bounded to `tokenCacheSize` entries (1000).
   */
  readonly tokenCacheSeconds?: number;
  readonly tokenCacheSize?: number;
  readonly metadataUrls?: Partial<Record<TokenVersion, string>>;
}

export interface TokenValidator {
  /** Resolves to the caller, or rejects with a 401 `BearerError` saying precisely what is wrong. */
  validate(token: string): Promise<Principal>;
  readonly authority: Authority;
}

const MAX_SKEW_SECONDS = 600;
// Symmetric and unsigned algorithms: a public JWKS must never be usable as an HMAC secret.
const NEVER = /^(none|HS\d+)$/i;

export function createTokenValidator(options: ValidatorOptions): TokenValidator {
  const clock = options.clock ?? systemClock;
  const skew = options.clockSkewSeconds ?? 300;
  if (!(skew >= 0 && skew <= MAX_SKEW_SECONDS))
    throw new RangeError(`clockSkewSeconds must be 0..${MAX_SKEW_SECONDS}`);
  const algorithms = options.algorithms ?? ['RS256'];
  for (const alg of algorithms) {
    if (NEVER.test(alg)) throw new RangeError(`algorithm ${alg} cannot be allowed`);
    if (!isSupportedAlgorithm(alg)) throw new RangeError(`algorithm ${alg} is not supported`);
  }
  if (options.audiences.length === 0) throw new RangeError('at least one audience is required');
  const versions = options.versions ?? ['1.0', '2.0'];
  const either = options.audienceTrailingSlash === 'either';
  const normalise = (aud: string) => (either ? aud.replace(/\/+$/, '') : aud);
  const audiences = new Set(options.audiences.map(normalise));
  const allowedTenants = options.allowedTenants
    ? new Set(options.allowedTenants.map((t) => t.toLowerCase()))
    : undefined;
  const authority = createAuthority({
    authority: options.authority,
    fetch: options.fetch ?? fetchTrusting(options.ca),
    clock,
    ...(options.keyRefreshCooldownMs !== undefined
      ? { keyRefreshCooldownMs: options.keyRefreshCooldownMs }
      : {}),
    ...(options.metadataUrls ? { metadataUrls: options.metadataUrls } : {}),
  });

  const cacheMs = (options.tokenCacheSeconds ?? 60) * 1000;
  const cacheSize = options.tokenCacheSize ?? 1000;
  const verified = new Map<string, { principal: Principal; until: number }>();

  async function validate(token: string): Promise<Principal> {
    const hit = cacheMs > 0 ? verified.get(token) : undefined;
    if (hit) {
      if (hit.until > clock.now()) return hit.principal;
      verified.delete(token);
    }
    const principal = await verify(token);
    if (cacheMs > 0) {
      const exp = (principal.claims['exp'] as number) * 1000;
      verified.set(token, { principal, until: Math.min(exp, clock.now() + cacheMs) });
      // Map keeps insertion order: the oldest entry goes first.
      if (verified.size > cacheSize) verified.delete(verified.keys().next().value!);
    }
    return principal;
  }

  // Tokens from one issuer share a handful of header segments (alg, kid, typ): each distinct one is
  // decoded and checked once. Bounded, since the header is attacker-controlled until verified.
  const headers = new Map<string, { alg: string; kid: string }>();

  function checkHeader(segment: string): { alg: string; kid: string } {
    const known = headers.get(segment);
    if (known) return known;
    const header = decodeJsonObject(segment);
    if (!header) throw invalidToken('The token header is not valid base64url JSON.');
    const alg = header['alg'];
    if (typeof alg !== 'string' || !algorithms.includes(alg))
      throw invalidToken(
        `The token's signature algorithm '${String(alg)}' is not accepted; expected ${algorithms.join(', ')}.`,
      );
    const crit = critProblem(header);
    if (crit) throw invalidToken(crit);
    const kid = header['kid'];
    if (typeof kid !== 'string') throw invalidToken('The token header has no key id (kid).');
    const checked = { alg, kid };
    if (headers.size >= 64) headers.delete(headers.keys().next().value!);
    headers.set(segment, checked);
    return checked;
  }

  async function verify(token: string): Promise<Principal> {
    const jws = splitCompact(token);
    if (!jws) throw invalidToken('The token is not a signed JWT (JWS compact serialization).');
    const { alg, kid } = checkHeader(jws.header);
    // The version decides which metadata (issuer, keys) applies; it is re-checked after the signature.
    const claims = decodeJsonObject(jws.payload);
    if (!claims) throw invalidToken('The token payload is not valid base64url JSON.');
    const signature = decodeBase64url(jws.signature);
    if (!signature) throw invalidToken('The token signature is not valid base64url.');
    const version = versionOf(claims);
    if (!versions.includes(version)) throw invalidToken(`Version ${version} access tokens are not accepted.`);

    const key = await authority.key(version, kid);
    if (!key) throw invalidToken(`The token is signed by an unknown key (kid '${kid}').`);
    // The signature covers the payload text decoded above, so the claims are not parsed twice.
    if (!verifySignature(alg, key.publicKey, jws.signingInput, signature))
      throw invalidToken('The token signature is invalid.');
    await checkIssuer(claims, version, key);
    checkAudience(claims);
    checkLifetime(claims);
    return principalFromClaims(claims);
  }

  async function checkIssuer(claims: Record<string, unknown>, version: TokenVersion, key: SigningKey) {
    const iss = claims['iss'];
    const tid = claims['tid'];
    const { issuer: expected } = await authority.metadata(version);
    if (typeof iss !== 'string') throw invalidToken('The token has no issuer (iss).');
    if (expected.includes('{tenantid}')) {
      // entra-protocol.md §3.5: substitute the token's own tid into the template, then compare exactly.
      if (typeof tid !== 'string' || !isGuid(tid)) throw invalidToken('The token has no tenant id (tid).');
      if (allowedTenants && !allowedTenants.has(tid.toLowerCase()))
        throw invalidToken(`Tenant '${tid}' is not allowed to call this API.`);
      if (iss !== expected.replace('{tenantid}', tid))
        throw invalidToken(`The token issuer '${iss}' is not accepted.`);
    } else if (iss !== expected) {
      throw invalidToken(`The token issuer '${iss}' is not accepted; expected '${expected}'.`);
    }
    // IDX40005: a v2 key bound to an issuer may sign only for that issuer.
    if (key.issuer !== undefined && key.issuer.replace('{tenantid}', String(tid)) !== iss)
      throw invalidToken(`The signing key '${key.kid}' may not sign for issuer '${iss}'.`);
  }

  function checkAudience(claims: Record<string, unknown>) {
    const aud = claims['aud'];
    const list = Array.isArray(aud) ? aud : [aud];
    if (!list.some((a) => typeof a === 'string' && audiences.has(normalise(a))))
      throw invalidToken(`The token audience '${list.join(' ')}' is not accepted by this API.`);
  }

  function checkLifetime(claims: Record<string, unknown>) {
    const now = Math.floor(clock.now() / 1000);
    const exp = claims['exp'];
    const nbf = claims['nbf'];
    if (typeof exp !== 'number') throw invalidToken('The token has no expiry (exp).');
    // RFC 7519 §4.1.5-6: NumericDate values; jose refuses a token whose nbf or iat is anything else.
    for (const name of ['nbf', 'iat'])
      if (claims[name] !== undefined && typeof claims[name] !== 'number')
        throw invalidToken(`The token's ${name} claim is not a NumericDate.`);
    if (now - skew >= exp) throw invalidToken(`The token expired at ${new Date(exp * 1000).toISOString()}.`);
    if (typeof nbf === 'number' && nbf > now + skew)
      throw invalidToken(`The token is not valid before ${new Date(nbf * 1000).toISOString()}.`);
  }

  return { validate, authority };
}

/** Entra writes `ver`; without it a v2 issuer ends in `/v2.0` (AadIssuerValidator does the same). */
function versionOf(claims: Record<string, unknown>): TokenVersion {
  if (claims['ver'] === '2.0' || claims['ver'] === '1.0') return claims['ver'];
  return typeof claims['iss'] === 'string' && claims['iss'].endsWith('/v2.0') ? '2.0' : '1.0';
}
