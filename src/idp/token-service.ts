import type { Clock } from '../core/clock.ts';
import type { Random } from '../core/ids.ts';
import type { Tenant } from '../directory/model.ts';
import type { RecordStore } from '../storage/record-store.ts';
import type { FederationKeySource } from './client-auth/federation-keys.ts';
import { cachedDirectory } from './directory-cache.ts';
import type { DirectoryChanges } from './directory-changes.ts';
import type { IdpDirectory } from './directory-port.ts';
import { discoveryDocument, instanceDiscovery, keySet } from './endpoints/discovery.ts';
import type { TokenEndpointRequest } from './endpoints/token.ts';
import { handleTokenRequest } from './endpoints/token.ts';
import { entraError } from './errors/entra-error.ts';
import type { Grant, GrantDeps } from './grants/index.ts';
import { GRANTS } from './grants/index.ts';
import { createIssuance } from './issuance.ts';
import type { JwtTools, TokenSigner } from './jwt-port.ts';
import type { OwnTokenCheck } from './own-tokens.ts';
import { checkOwnToken } from './own-tokens.ts';
import { resolveScopes } from './scopes.ts';
import type { AuthorizationCodeGrant } from './stores/authorization-codes.ts';
import { createAuthorizationCodeStore } from './stores/authorization-codes.ts';
import { createRefreshTokenStore } from './stores/refresh-tokens.ts';
import type { TokenVersion } from './urls.ts';
import { isMultiTenantSegment } from './urls.ts';

export interface TokenServiceOptions {
  readonly directory: IdpDirectory;
  readonly store: RecordStore;
  readonly clock: Clock;
  readonly random: Random;
  readonly signer: TokenSigner;
  readonly jwt: JwtTools;
  readonly federation: FederationKeySource;
  /** The public base URL, read lazily (known once the server listens). */
  readonly baseUrl: () => string;
  /** Keys the pairwise `sub` claim. */
  readonly subjectKey: Buffer;
  readonly lifetimes: {
    readonly accessToken: number;
    readonly idToken: number;
    readonly refreshToken: number;
    readonly authorizationCode: number;
    /** Seconds an already-rotated refresh token is still accepted (concurrent clients). */
    readonly refreshReuseGrace: number;
  };
  /** More grant types (the device code grant of the interactive flows). */
  readonly extraGrants?: Readonly<Record<string, Grant>>;
  /** Staleness allowed for directory reads (directory-cache.ts; default 1 s, 0 = off). */
  readonly directoryCacheMs?: number;
  /** The directory writes of this process (directory-changes.ts): they drop the cache at once. */
  readonly directoryChanges?: DirectoryChanges;
}

/**
 * The Entra-compatible token service: the composition of directory port, stores, issuance, client
 * authentication and grants. The HTTP binding (src/http/idp) and the interactive flows (authorize,
 * device code) both build on what this returns.
 */
export function createTokenService(options: TokenServiceOptions) {
  const { store, clock, random, signer, baseUrl } = options;
  const directory = cachedDirectory(options.directory, {
    clock,
    ...(options.directoryCacheMs !== undefined ? { ttlMs: options.directoryCacheMs } : {}),
    ...(options.directoryChanges ? { changes: options.directoryChanges } : {}),
  });
  const refreshTokens = createRefreshTokenStore({
    store,
    clock,
    random,
    lifetimeSeconds: options.lifetimes.refreshToken,
    reuseGraceSeconds: options.lifetimes.refreshReuseGrace,
  });
  const codes = createAuthorizationCodeStore({
    store,
    clock,
    random,
    lifetimeSeconds: options.lifetimes.authorizationCode,
  });
  const issuance = createIssuance({
    signer,
    directory,
    refreshTokens,
    clock,
    random,
    baseUrl,
    subjectKey: options.subjectKey,
    lifetimes: { accessToken: options.lifetimes.accessToken, idToken: options.lifetimes.idToken },
  });
  const grants = { ...GRANTS, ...options.extraGrants };
  const grantDeps: GrantDeps = { directory, issuance, signer, codes, refreshTokens, clock, random, baseUrl };
  const clientAuth = { directory, store, clock, jwt: options.jwt, federation: options.federation };
  const endpointDeps = { ...grantDeps, clientAuth, grants };

  /** A tenant path segment: a GUID or verified domain → the tenant; common/organizations → undefined. */
  async function tenantOfSegment(segment: string): Promise<Tenant | undefined> {
    if (isMultiTenantSegment(segment)) return undefined;
    const tenant = await directory.getTenant(segment);
    if (!tenant) throw entraError(90002, { tenant: segment }, { error: 'invalid_tenant' });
    return tenant;
  }

  return {
    token: (request: TokenEndpointRequest) => handleTokenRequest(endpointDeps, request),

    async discovery(segment: string, version: TokenVersion) {
      return discoveryDocument(baseUrl(), segment, await tenantOfSegment(segment), version);
    },

    async keys(segment: string, version: TokenVersion) {
      const tenant = await tenantOfSegment(segment);
      const published = (await signer.publishedKeys()) as unknown as Record<string, unknown>[];
      return keySet(published, baseUrl(), tenant, version);
    },

    instanceDiscovery(authorizationEndpoint: string | undefined) {
      const answer = instanceDiscovery(baseUrl(), authorizationEndpoint);
      if (!answer) throw entraError(50049, { instance: authorizationEndpoint ?? '' });
      return answer;
    },

    /** Mints a single-use authorization code (for /authorize, issue 4; and for tests). */
    issueAuthorizationCode: (grant: AuthorizationCodeGrant) => codes.issue(grant),

    /** Scope string → one resource and its permissions, with Entra's errors (AADSTS700022/70011/500011). */
    resolveScopes: (tenantId: string, scope: string, resolveOptions: { clientAppId?: string } = {}) =>
      resolveScopes(directory, tenantId, scope, resolveOptions),

    /** Access/refresh/ID-token issuance for delegated flows (device code, hybrid…). */
    issueUserTokens: issuance.issueUserTokens,
    issueAppToken: issuance.issueAppToken,
    refreshTokens,

    /**
     * The bearer check of the management API (and anything else that accepts Behalf's own tokens):
     * signature by a published key, issuer of the token's tenant, time, and optionally audience/tenant.
     */
    verifyAccessToken(
      token: string,
      expect: { tenantId?: string; audiences?: readonly string[] } = {},
    ): Promise<OwnTokenCheck> {
      return checkOwnToken({ signer, clock, baseUrl }, token, expect);
    },
  };
}

export type TokenService = ReturnType<typeof createTokenService>;
