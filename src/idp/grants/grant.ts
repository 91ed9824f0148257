import type { Clock } from '../../core/clock.ts';
import type { Random } from '../../core/ids.ts';
import type { Tenant } from '../../directory/model.ts';
import type { AuthenticatedClient } from '../client-auth/authenticate.ts';
import type { IdpDirectory } from '../directory-port.ts';
import { entraError } from '../errors/entra-error.ts';
import type { ClientIdentity, Issuance } from '../issuance.ts';
import type { TokenSigner } from '../jwt-port.ts';
import type { AuthorizationCodeStore } from '../stores/authorization-codes.ts';
import type { RefreshTokenStore } from '../stores/refresh-tokens.ts';
import type { IssuedTokens } from '../token-response.ts';
import type { TokenVersion } from '../urls.ts';

export type Form = Readonly<Record<string, string>>;

export interface GrantDeps {
  readonly directory: IdpDirectory;
  readonly issuance: Issuance;
  readonly signer: TokenSigner;
  readonly codes: AuthorizationCodeStore;
  readonly refreshTokens: RefreshTokenStore;
  readonly clock: Clock;
  readonly random: Random;
  readonly baseUrl: () => string;
}

export interface GrantRequest {
  readonly endpoint: TokenVersion;
  readonly tenant: Tenant;
  readonly form: Form;
  readonly client: AuthenticatedClient;
}

/** One OAuth grant type: a module registered in the grant map (grants/index.ts). */
export interface Grant {
  /** Refused on /common and /organizations (AADSTS9001023), e.g. client credentials. */
  readonly needsTenant: boolean;
  /** For /common and /organizations: which tenant the request is about (from the code, token, user…). */
  tenantHint?(form: Form, deps: GrantDeps): Promise<string | undefined>;
  handle(request: GrantRequest, deps: GrantDeps): Promise<IssuedTokens>;
}

export function requireParam(form: Form, name: string): string {
  const value = form[name];
  if (value === undefined || value === '') throw entraError(900144, { name });
  return value;
}

export function clientIdentity(client: AuthenticatedClient): ClientIdentity {
  return { appId: client.app.appId, sp: client.sp, displayName: client.app.displayName, auth: client.auth };
}

/**
 * The scope a user grant asks for. v2 takes `scope` and refuses `resource` (AADSTS901002); v1 takes
 * `resource` (its static permissions, i.e. `.default`) and always returns a refresh token, so it is
 * mapped to `{resource}/.default offline_access` plus whatever OIDC scopes came in `scope`.
 */
export function userScopeParameter(request: GrantRequest, fallback?: string): string {
  const { form } = request;
  if (request.endpoint === 2) {
    if (form['resource'] !== undefined) throw entraError(901002);
    const scope = form['scope'] ?? fallback;
    if (scope === undefined || scope.trim() === '') throw entraError(900144, { name: 'scope' });
    return scope;
  }
  const resource = form['resource'];
  if (resource === undefined || resource === '') {
    if (fallback !== undefined) return fallback;
    throw entraError(900144, { name: 'resource' });
  }
  const oidc = (form['scope'] ?? 'openid')
    .split(/\s+/)
    .filter((s) => s === 'openid' || s === 'profile' || s === 'email');
  return [defaultScopeOf(resource), 'offline_access', ...oidc].join(' ');
}

/** `{resource}/.default`; a resource ending in `/` keeps it (`https://management.azure.com//.default`). */
export function defaultScopeOf(resource: string): string {
  return `${resource}/.default`;
}
