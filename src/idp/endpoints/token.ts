import type { Tenant } from '../../directory/model.ts';
import type { ClientAuthDeps, ClientCredentials } from '../client-auth/authenticate.ts';
import { authenticateClient } from '../client-auth/authenticate.ts';
import { entraError } from '../errors/entra-error.ts';
import type { Form, Grant, GrantDeps } from '../grants/index.ts';
import { tokenResponseBody } from '../token-response.ts';
import type { TokenVersion } from '../urls.ts';
import { isMultiTenantSegment, tokenEndpoint } from '../urls.ts';

export interface TokenEndpointRequest {
  readonly endpoint: TokenVersion;
  readonly tenantSegment: string;
  readonly form: Form;
  /** Decoded `Authorization: Basic` credentials (client_secret_basic), if any. */
  readonly basic?: { readonly clientId: string; readonly secret: string } | undefined;
}

export interface TokenEndpointDeps extends GrantDeps {
  readonly clientAuth: ClientAuthDeps;
  readonly grants: Readonly<Record<string, Grant>>;
}

/**
 * POST /{tenant}/oauth2/v2.0/token and /{tenant}/oauth2/token: a short pipeline of named checks, then
 * the grant module. Everything that fails throws an EntraError that the HTTP edge serialises.
 */
export async function handleTokenRequest(deps: TokenEndpointDeps, request: TokenEndpointRequest) {
  const grantType = requireGrantType(request.form);
  // Own members only: `toString` or `__proto__` is not a grant type.
  const grant = Object.hasOwn(deps.grants, grantType) ? deps.grants[grantType] : undefined;
  if (!grant) throw entraError(70003, { grantType });
  const tenant = await resolveTenant(deps, request, grant);
  const client = await authenticateClient(deps.clientAuth, tenant.id, credentialsOf(request), {
    grantType,
    tokenEndpoints: acceptedAssertionAudiences.bind(undefined, deps.baseUrl(), request.tenantSegment, tenant),
  });
  const tokens = await grant.handle({ endpoint: request.endpoint, tenant, form: request.form, client }, deps);
  return tokenResponseBody(tokens, request.endpoint);
}

function requireGrantType(form: Form): string {
  const grantType = form['grant_type'];
  if (grantType === undefined || grantType === '') throw entraError(900144, { name: 'grant_type' });
  return grantType;
}

async function resolveTenant(
  deps: TokenEndpointDeps,
  request: TokenEndpointRequest,
  grant: Grant,
): Promise<Tenant> {
  const segment = request.tenantSegment;
  if (isMultiTenantSegment(segment)) {
    if (grant.needsTenant) throw entraError(9001023);
    const hinted = await grant.tenantHint?.(request.form, deps);
    const tenant = hinted ? await deps.directory.getTenant(hinted) : undefined;
    if (!tenant) throw entraError(90002, { tenant: segment });
    return tenant;
  }
  const tenant = await deps.directory.getTenant(segment);
  if (!tenant) throw entraError(90002, { tenant: segment });
  return tenant;
}

function credentialsOf(request: TokenEndpointRequest): ClientCredentials {
  const { form, basic } = request;
  if (basic && form['client_id'] !== undefined && form['client_id'] !== basic.clientId) {
    throw entraError(9002313);
  }
  return {
    clientId: basic?.clientId ?? form['client_id'],
    secret: basic?.secret ?? form['client_secret'],
    assertion: form['client_assertion'],
    assertionType: form['client_assertion_type'],
  };
}

/**
 * A client assertion's `aud` must be this token endpoint (msal-node uses the discovered one, rewritten
 * to the authority's tenant segment, §7.1): accept both endpoint versions under the segment used, the
 * tenant GUID and every verified domain.
 */
function acceptedAssertionAudiences(base: string, segment: string, tenant: Tenant): string[] {
  const segments = new Set([segment, tenant.id, ...tenant.verifiedDomains.map((d) => d.name)]);
  return [...segments].flatMap((s) => [tokenEndpoint(base, s, 2), tokenEndpoint(base, s, 1)]);
}
