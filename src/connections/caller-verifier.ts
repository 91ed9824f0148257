import type { Clock } from '../core/clock.ts';
import type { Jwk, KeyResolver } from '../crypto/jwt.ts';
import { decodeJwt, JwtError, keySetResolver, verifyJwt } from '../crypto/jwt.ts';
import { connectionErrors } from './errors.ts';
import type { OutboundHttp } from './outbound-http.ts';
import { tokenHash } from './vault.ts';

/**
 * Who is calling the gateway, from a bearer token issued for Behalf Connections by the configured
 * identity provider. The provider is reached only through its public documents (OIDC Discovery 1.0 §4
 * and its `jwks_uri`), so Behalf's own IdP, Entra ID or any compatible server is configuration.
 */
export interface Caller {
  readonly tenantId: string;
  readonly objectId: string;
  readonly upn?: string;
  readonly name?: string;
  /** The calling client (`azp` v2, `appid` v1). */
  readonly clientId?: string;
  readonly scopes: readonly string[];
  readonly roles: readonly string[];
  readonly groups: readonly string[];
  /** An app-only token (client credentials): it has no user to act for. */
  readonly appOnly: boolean;
  /** The presented token itself: the assertion of an on-behalf-of exchange. Never logged. */
  readonly token: string;
  /** tokenHash(token), computed once by the verifier: the key of per-token caches. */
  readonly tokenHash?: string;
  readonly expiresAt: number;
}

export interface CallerVerifier {
  /** Verifies an `Authorization` header value; throws a 401 ConnectionError with a challenge. */
  verify(authorization: string | undefined): Promise<Caller>;
}

export interface CallerVerifierOptions {
  readonly http: OutboundHttp;
  readonly clock: Clock;
  /** The identity provider's base URL (`https://login.microsoftonline.com`, Behalf's own URL). */
  readonly authority: () => string;
  /** Accepted `aud` values: Behalf Connections' appId and its identifier URIs. */
  readonly audiences: () => readonly string[];
  /** Only these tenants may call; undefined accepts any tenant of the authority. */
  readonly tenants?: () => readonly string[] | undefined;
  readonly clockToleranceSeconds?: number;
  /** A kid unknown to the cached JWKS triggers a refetch at most this often (key rotation). */
  readonly jwksRefreshMs?: number;
  readonly maxCachedTokens?: number;
}

interface TenantKeys {
  readonly issuer: string;
  readonly jwksUri: string;
  resolver: KeyResolver;
  kids: Set<string>;
  fetchedAt: number;
}

const GUIDISH = /^[0-9a-zA-Z-]{1,64}$/;

const claimText = (value: unknown): string | undefined => (typeof value === 'string' ? value : undefined);
const claimList = (value: unknown): string[] =>
  Array.isArray(value) ? value.filter((v): v is string => typeof v === 'string') : [];

export function createCallerVerifier(options: CallerVerifierOptions): CallerVerifier {
  const { http, clock } = options;
  const refreshMs = options.jwksRefreshMs ?? 60_000;
  const maxCached = options.maxCachedTokens ?? 10_000;
  const tenants = new Map<string, Promise<TenantKeys>>();
  // Verified callers by token hash, until the token expires: one RS256 verification per token, not per call.
  const verified = new Map<string, Caller>();

  const getJson = async (url: string): Promise<Record<string, unknown>> => {
    const response = await http.request({
      method: 'GET',
      url,
      timeoutMs: 10_000,
      maxResponseBytes: 512 * 1024,
    });
    if (response.status !== 200) throw new Error(`${url} answered ${response.status}`);
    return JSON.parse(response.body.toString('utf8')) as Record<string, unknown>;
  };

  const loadTenant = async (tenantId: string): Promise<TenantKeys> => {
    const base = options.authority().replace(/\/+$/, '');
    const discovery = await getJson(`${base}/${tenantId}/v2.0/.well-known/openid-configuration`);
    const issuer = claimText(discovery['issuer']);
    const jwksUri = claimText(discovery['jwks_uri']);
    if (!issuer || !jwksUri) throw new Error('the discovery document has no issuer or jwks_uri');
    const jwks = (await getJson(jwksUri)) as { keys?: Jwk[] };
    const keys = jwks.keys ?? [];
    return {
      issuer: issuer.replace('{tenantid}', tenantId),
      jwksUri,
      resolver: keySetResolver({ keys }),
      kids: new Set(keys.flatMap((k) => (k.kid ? [k.kid] : []))),
      fetchedAt: clock.now(),
    };
  };

  const keysFor = (tenantId: string): Promise<TenantKeys> => {
    let entry = tenants.get(tenantId);
    if (!entry) {
      entry = loadTenant(tenantId).catch((error: unknown) => {
        tenants.delete(tenantId);
        throw error;
      });
      tenants.set(tenantId, entry);
    }
    return entry;
  };

  /** A kid we do not know: the issuer may have rotated; refetch, but not more than once a minute. */
  const refreshKeys = async (tenantId: string, current: TenantKeys): Promise<TenantKeys> => {
    if (clock.now() - current.fetchedAt < refreshMs) return current;
    tenants.delete(tenantId);
    return keysFor(tenantId);
  };

  const fail = (message: string) => connectionErrors.unauthenticated(message);

  return {
    async verify(authorization) {
      const match = /^Bearer\s+(\S+)\s*$/i.exec(authorization ?? '');
      if (!match) throw connectionErrors.unauthenticated('A bearer token is required.', 'invalid_request');
      const token = match[1]!;
      const key = tokenHash(token);
      const known = verified.get(key);
      if (known) {
        if (known.expiresAt > clock.now()) return known;
        verified.delete(key);
      }
      let unverified;
      try {
        unverified = decodeJwt(token);
      } catch {
        throw fail('The bearer token is not a well-formed JWT.');
      }
      // The tenant only chooses which published keys to try; the signature and issuer decide trust.
      const tid = claimText(unverified.payload['tid']);
      if (!tid || !GUIDISH.test(tid)) throw fail('The token has no tenant (tid) claim.');
      const allowed = options.tenants?.();
      if (allowed && !allowed.includes(tid)) throw fail(`Tenant ${tid} may not use this gateway.`);
      let keys: TenantKeys;
      try {
        keys = await keysFor(tid);
        const kid = unverified.header.kid;
        if (kid !== undefined && !keys.kids.has(kid)) keys = await refreshKeys(tid, keys);
      } catch {
        throw fail(`The identity provider's keys for tenant ${tid} could not be read.`);
      }
      let payload;
      try {
        ({ payload } = await verifyJwt(token, {
          key: keys.resolver,
          algorithms: ['RS256'],
          clock,
          issuer: keys.issuer,
          audience: options.audiences(),
          clockToleranceSeconds: options.clockToleranceSeconds ?? 300,
          requiredClaims: ['exp', 'oid'],
        }));
      } catch (error) {
        if (error instanceof JwtError) {
          const reason: Partial<Record<JwtError['reason'], string>> = {
            audience: `The token is not for Behalf Connections (aud must be one of ${options.audiences().join(', ')}).`,
            issuer: `The token was not issued by ${keys.issuer}.`,
            expired: 'The token has expired.',
            signature: 'The token signature is invalid.',
            key_not_found: 'The token was signed with an unknown key.',
          };
          throw fail(reason[error.reason] ?? `The token was refused (${error.reason}).`);
        }
        throw error;
      }
      const scopes = (claimText(payload['scp']) ?? '').split(' ').filter(Boolean);
      const roles = claimList(payload['roles']);
      const upn = claimText(payload['preferred_username']) ?? claimText(payload['upn']);
      const name = claimText(payload['name']);
      const clientId = claimText(payload['azp']) ?? claimText(payload['appid']);
      const caller: Caller = {
        tenantId: tid,
        objectId: String(payload['oid']),
        ...(upn !== undefined ? { upn } : {}),
        ...(name !== undefined ? { name } : {}),
        ...(clientId !== undefined ? { clientId } : {}),
        scopes,
        roles,
        groups: claimList(payload['groups']),
        appOnly: payload['idtyp'] === 'app' || (scopes.length === 0 && roles.length > 0),
        token,
        tokenHash: key,
        expiresAt: Number(payload['exp']) * 1000,
      };
      verified.set(key, caller);
      while (verified.size > maxCached) verified.delete(verified.keys().next().value!);
      return caller;
    },
  };
}
