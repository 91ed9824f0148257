import type { Clock } from '../core/clock.ts';
import type { Random } from '../core/ids.ts';
import type { ServicePrincipal, User } from '../directory/model.ts';
import type { ClientAuthLevel } from './claims/access-token.ts';
import { accessTokenClaims } from './claims/access-token.ts';
import { idTokenClaims } from './claims/id-token.ts';
import { clientInfo, pairwiseSubjects } from './claims/subject.ts';
import type { IdpDirectory } from './directory-port.ts';
import type { TokenSigner } from './jwt-port.ts';
import { accessTokenVersion, qualifyScope } from './resources.ts';
import type { ResolvedScopes } from './scopes.ts';
import { hasOidcScope } from './scopes.ts';
import { assignedRoles } from './consent.ts';
import type { FamilyChoice, RefreshTokenStore } from './stores/refresh-tokens.ts';
import type { IssuedTokens } from './token-response.ts';
import type { TokenVersion } from './urls.ts';
import { issuerFor } from './urls.ts';

export interface Lifetimes {
  readonly accessToken: number;
  readonly idToken: number;
}

export interface IssuanceDeps {
  readonly signer: TokenSigner;
  readonly directory: IdpDirectory;
  readonly refreshTokens: RefreshTokenStore;
  readonly clock: Clock;
  readonly random: Random;
  /** The public base URL (known once the server listens). */
  readonly baseUrl: () => string;
  readonly lifetimes: Lifetimes;
  /** Keys the pairwise `sub`. */
  readonly subjectKey: Buffer;
}

/** The authenticated client of a token request. */
export interface ClientIdentity {
  readonly appId: string;
  readonly sp: ServicePrincipal;
  readonly displayName: string;
  readonly auth: ClientAuthLevel;
}

export interface UserTokenRequest {
  /** Which endpoint was called: shapes the ID token and the response, not the access token. */
  readonly endpoint: TokenVersion;
  readonly tenantId: string;
  readonly client: ClientIdentity;
  readonly user: User;
  readonly resolved: ResolvedScopes;
  /** Consented delegated permission values (`scp`). */
  readonly scp: readonly string[];
  /** The scope string to remember for refreshes. */
  readonly requestedScope: string;
  readonly authTime: number;
  readonly authMethods: readonly string[];
  readonly wantClientInfo: boolean;
  readonly nonce?: string | undefined;
  readonly sessionId?: string | undefined;
  /** Continue a refresh-token family (rotation) or start one with a known id (code redemption). */
  readonly family?: FamilyChoice | undefined;
  /** OBO responses carry no ID token (entra-protocol.md §2.5, UNCONFIRMED; MSAL tolerates it). */
  readonly withIdToken?: boolean;
}

const UTI_BYTES = 16;
const UTIS_PER_DRAW = 256;

/**
 * `uti` values (16 random bytes, base64url) cut from a buffer drawn 256 at a time: one CSPRNG call
 * instead of one per token (what crypto.randomUUID does too); each byte is used once.
 */
function utiSource(random: Random): () => string {
  let pool: Buffer = Buffer.alloc(0);
  let offset = 0;
  return () => {
    if (offset + UTI_BYTES > pool.length) {
      pool = random.bytes(UTI_BYTES * UTIS_PER_DRAW);
      offset = 0;
    }
    offset += UTI_BYTES;
    return pool.toString('base64url', offset - UTI_BYTES, offset);
  };
}

export function createIssuance(deps: IssuanceDeps) {
  const { signer, clock, random } = deps;
  const now = () => Math.floor(clock.now() / 1000);
  const uti = utiSource(random);
  const pairwiseSubject = pairwiseSubjects(deps.subjectKey);

  async function signAccessToken(version: TokenVersion, claims: Record<string, unknown>): Promise<string> {
    return signer.sign(claims, { x5t: version === 1 });
  }

  /** Client credentials: an app-only token with `roles`, never `scp`. */
  async function issueAppToken(request: {
    tenantId: string;
    client: ClientIdentity;
    resolved: ResolvedScopes;
    roles: readonly string[];
  }): Promise<IssuedTokens> {
    const { resource } = request.resolved;
    const version = accessTokenVersion(resource);
    const iat = now();
    const exp = iat + deps.lifetimes.accessToken;
    const claims = accessTokenClaims({
      version,
      issuer: issuerFor(deps.baseUrl(), request.tenantId, version),
      tenantId: request.tenantId,
      audience: version === 2 ? resource.sp.appId : resource.requestedAs,
      clientAppId: request.client.appId,
      clientAuth: request.client.auth,
      times: { iat, exp },
      uti: uti(),
      roles: request.roles,
      subject: { kind: 'app', sp: request.client.sp },
    });
    return { accessToken: await signAccessToken(version, claims), iat, exp, resource: resource.requestedAs };
  }

  /** Delegated tokens (code, refresh, ROPC, OBO): access token, and per the scopes a refresh and ID token. */
  async function issueUserTokens(request: UserTokenRequest): Promise<IssuedTokens & { familyId?: string }> {
    const { resolved, user, client, tenantId } = request;
    const { resource } = resolved;
    const version = accessTokenVersion(resource);
    const iat = now();
    const exp = iat + deps.lifetimes.accessToken;
    const roles = await assignedRoles(deps.directory, tenantId, user.id, resource, 'User');
    const claims = accessTokenClaims({
      version,
      issuer: issuerFor(deps.baseUrl(), tenantId, version),
      tenantId,
      audience: version === 2 ? resource.sp.appId : resource.requestedAs,
      clientAppId: client.appId,
      clientAuth: client.auth,
      times: { iat, exp },
      uti: uti(),
      roles,
      subject: {
        kind: 'user',
        user,
        sub: pairwiseSubject(tenantId, resource.sp.appId, user.id),
        scp: request.scp,
        authMethods: request.authMethods,
      },
    });
    const accessToken = await signAccessToken(version, claims);

    const granted = request.scp.map((value) => qualifyScope(resource, value));
    if (resolved.isDefault) granted.push(qualifyScope(resource, '.default'));
    const scope = [...granted, ...resolved.oidc.map((s) => s.toLowerCase())].join(' ');

    let refreshToken: string | undefined;
    let familyId: string | undefined;
    if (hasOidcScope(resolved, 'offline_access')) {
      const issued = await deps.refreshTokens.issue(
        {
          tenantId,
          clientId: client.appId,
          userId: user.id,
          scopes: request.requestedScope,
          authTime: request.authTime,
          authMethods: request.authMethods,
          sessionId: request.sessionId,
        },
        request.family,
      );
      refreshToken = issued.token;
      familyId = issued.familyId;
    }

    let idToken: string | undefined;
    if (request.withIdToken !== false && hasOidcScope(resolved, 'openid')) {
      const idIat = iat;
      idToken = await signer.sign(
        idTokenClaims({
          version: request.endpoint,
          issuer: issuerFor(deps.baseUrl(), tenantId, request.endpoint),
          tenantId,
          clientAppId: client.appId,
          user,
          sub: pairwiseSubject(tenantId, client.appId, user.id),
          times: { iat: idIat, exp: idIat + deps.lifetimes.idToken },
          uti: uti(),
          nonce: request.nonce,
          authTime: request.authTime,
          sessionId: request.sessionId,
          profile: hasOidcScope(resolved, 'profile'),
          email: hasOidcScope(resolved, 'email'),
          authMethods: request.authMethods,
        }),
        { x5t: request.endpoint === 1 },
      );
    }

    return {
      accessToken,
      iat,
      exp,
      scope,
      resource: resource.requestedAs,
      ...(refreshToken !== undefined ? { refreshToken } : {}),
      ...(familyId !== undefined ? { familyId } : {}),
      ...(idToken !== undefined ? { idToken } : {}),
      ...(request.wantClientInfo && request.withIdToken !== false
        ? { clientInfo: clientInfo(user.id, tenantId) }
        : {}),
    };
  }

  return { issueAppToken, issueUserTokens };
}

export type Issuance = ReturnType<typeof createIssuance>;
