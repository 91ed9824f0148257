import type { Clock } from '../core/clock.ts';
import { WireError } from '../core/errors.ts';
import type { FetchLike } from './http-client.ts';
import { importPublicJwk } from './jws.ts';
import type { PublicKey } from './jws.ts';

/** Token versions differ in issuer and (for Entra) in the metadata document that describes them. */
export type TokenVersion = '1.0' | '2.0';

export interface AuthorityMetadata {
  /** May hold the literal `{tenantid}` template (the `common`/`organizations` documents). */
  readonly issuer: string;
  readonly jwksUri: string;
  readonly authorizationEndpoint: string | undefined;
  readonly tokenEndpoint: string | undefined;
  readonly endSessionEndpoint: string | undefined;
}

export interface SigningKey {
  readonly kid: string;
  /** v2 Entra keys carry the issuer they may sign for (entra-protocol.md §1.5); v1 keys do not. */
  readonly issuer: string | undefined;
  /** Imported once when the key set is fetched; undefined when the JWK cannot be imported. */
  readonly publicKey: PublicKey | undefined;
}

export interface AuthorityOptions {
  /** `https://login.microsoftonline.com/{tenant}` or Behalf's `https://localhost:7443/{tenant}` (± `/v2.0`). */
  readonly authority: string;
  readonly fetch: FetchLike;
  readonly clock: Clock;
  /** An unknown `kid` refetches the JWKS at most once per this interval, so garbage cannot hammer the IdP. */
  readonly keyRefreshCooldownMs?: number;
  /** Keys and metadata older than this are refetched on the next use (Entra advises about a day). */
  readonly maxAgeMs?: number;
  /** Explicit discovery URLs for IdPs that do not follow Entra's layout. */
  readonly metadataUrls?: Partial<Record<TokenVersion, string>>;
}

export interface Authority {
  metadata(version: TokenVersion): Promise<AuthorityMetadata>;
  /** The key with `kid`, refetching the JWKS (rate-limited) when it is not known yet. */
  key(version: TokenVersion, kid: string): Promise<SigningKey | undefined>;
}

/** The authority cannot be reached: the caller is not at fault, so this is a 503, not a 401. */
export class AuthorityUnavailableError extends WireError {
  readonly status = 503;
  body(): unknown {
    return {
      error: 'temporarily_unavailable',
      error_description: 'The identity provider could not be reached.',
    };
  }
}

/**
 * Entra publishes v2 metadata under `{authority}/v2.0/.well-known/openid-configuration` and v1 metadata
 * under `{authority}/.well-known/openid-configuration`; a v1 token must be checked against the v1
 * document even when the API is configured with the v2 authority (entra-protocol.md §1.4, §3.5, after
 * Microsoft.IdentityModel's AadIssuerValidator). `organizations` has no v1 document: it falls back to `common`.
 */
export function discoveryUrls(authority: string): Record<TokenVersion, string> {
  const base = authority.replace(/\/+$/, '').replace(/\/v2\.0$/, '');
  const v1Base = base.replace(/\/organizations$/, '/common');
  return {
    '2.0': `${base}/v2.0/.well-known/openid-configuration`,
    '1.0': `${v1Base}/.well-known/openid-configuration`,
  };
}

interface KeySet {
  readonly keys: Map<string, SigningKey>;
  readonly fetchedAt: number;
}

export function createAuthority(options: AuthorityOptions): Authority {
  const urls = { ...discoveryUrls(options.authority), ...options.metadataUrls };
  const cooldown = options.keyRefreshCooldownMs ?? 30_000;
  const maxAge = options.maxAgeMs ?? 24 * 3600_000;
  const { clock } = options;
  const metadataCache = new Map<TokenVersion, { value: Promise<AuthorityMetadata>; fetchedAt: number }>();
  const keyCache = new Map<TokenVersion, { value: Promise<KeySet>; fetchedAt: number }>();

  async function getJson(url: string): Promise<Record<string, unknown>> {
    let response;
    try {
      response = await options.fetch(url, { headers: { accept: 'application/json' } });
    } catch (error) {
      throw new AuthorityUnavailableError(`GET ${url} failed`, { cause: error });
    }
    if (!response.ok) throw new AuthorityUnavailableError(`GET ${url} answered ${response.status}`);
    const body = await response.json();
    if (typeof body !== 'object' || body === null)
      throw new AuthorityUnavailableError(`GET ${url}: not a JSON object`);
    return body as Record<string, unknown>;
  }

  function cached<T>(
    cache: Map<TokenVersion, { value: Promise<T>; fetchedAt: number }>,
    version: TokenVersion,
    load: () => Promise<T>,
    force = false,
  ): Promise<T> {
    const entry = cache.get(version);
    const now = clock.now();
    if (entry && !force && now - entry.fetchedAt < maxAge) return entry.value;
    // Single flight: concurrent callers share one request; a failure is not cached.
    const value = load();
    cache.set(version, { value, fetchedAt: now });
    value.catch(() => {
      if (cache.get(version)?.value === value) cache.delete(version);
    });
    return value;
  }

  const metadata = (version: TokenVersion) =>
    cached(metadataCache, version, async () => {
      const doc = await getJson(urls[version]);
      if (typeof doc['issuer'] !== 'string' || typeof doc['jwks_uri'] !== 'string')
        throw new AuthorityUnavailableError(`${urls[version]} lacks issuer or jwks_uri`);
      return {
        issuer: doc['issuer'],
        jwksUri: doc['jwks_uri'],
        authorizationEndpoint: stringOr(doc['authorization_endpoint']),
        tokenEndpoint: stringOr(doc['token_endpoint']),
        endSessionEndpoint: stringOr(doc['end_session_endpoint']),
      };
    });

  const loadKeys = (version: TokenVersion) => async (): Promise<KeySet> => {
    const { jwksUri } = await metadata(version);
    const doc = await getJson(jwksUri);
    const keys = new Map<string, SigningKey>();
    for (const jwk of Array.isArray(doc['keys']) ? (doc['keys'] as unknown[]) : []) {
      if (typeof jwk !== 'object' || jwk === null) continue;
      const { kid, kty, use, key_ops: ops } = jwk as Record<string, unknown>;
      // Symmetric keys in a JWKS would let anyone holding the JWKS mint tokens (the HS256/RS256 confusion).
      if (typeof kid !== 'string' || kty === 'oct' || (use !== undefined && use !== 'sig')) continue;
      // RFC 7517 §4.3: a key whose operations are listed must list verify (jose's key sets skip it too).
      if (ops !== undefined && !(Array.isArray(ops) && ops.includes('verify'))) continue;
      keys.set(kid, signingKey(kid, jwk as Record<string, unknown>));
    }
    return { keys, fetchedAt: clock.now() };
  };

  return {
    metadata,
    async key(version, kid) {
      const set = await cached(keyCache, version, loadKeys(version));
      const found = set.keys.get(kid);
      if (found) return found;
      const entry = keyCache.get(version);
      if (entry && clock.now() - entry.fetchedAt < cooldown) return undefined;
      // An unknown kid after the cooldown: the IdP may have rotated (entra-protocol.md §1.5).
      const fresh = await cached(keyCache, version, loadKeys(version), true);
      return fresh.keys.get(kid);
    },
  };
}

function signingKey(kid: string, jwk: Record<string, unknown>): SigningKey {
  const issuer = jwk['issuer'];
  return {
    kid,
    issuer: typeof issuer === 'string' ? issuer : undefined,
    publicKey: importPublicJwk(jwk),
  };
}

function stringOr(value: unknown): string | undefined {
  return typeof value === 'string' ? value : undefined;
}
