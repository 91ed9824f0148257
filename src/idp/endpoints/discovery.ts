import type { Tenant } from '../../directory/model.ts';
import type { TokenVersion } from '../urls.ts';
import { isMultiTenantSegment } from '../urls.ts';

const TEMPLATE = '{tenantid}';

/**
 * The OIDC discovery documents, field for field as Entra serves them (entra-protocol.md §1.3, §1.4).
 * A tenant by domain gets GUID-based endpoints and issuer (MSAL relies on it); `common` and
 * `organizations` keep their segment in endpoint URLs and publish the `{tenantid}` issuer template.
 * Entra does not advertise `code_challenge_methods_supported` or `grant_types_supported`; neither do we.
 */
export function discoveryDocument(
  base: string,
  segment: string,
  tenant: Tenant | undefined,
  version: TokenVersion,
) {
  const multi = tenant === undefined && isMultiTenantSegment(segment);
  const path = multi ? segment.toLowerCase() : tenant!.id;
  const issuerTenant = multi ? TEMPLATE : tenant!.id;
  const at = `${base}/${path}`;
  if (version === 2) {
    return {
      token_endpoint: `${at}/oauth2/v2.0/token`,
      token_endpoint_auth_methods_supported: ['client_secret_post', 'private_key_jwt', 'client_secret_basic'],
      jwks_uri: `${at}/discovery/v2.0/keys`,
      response_modes_supported: ['query', 'fragment', 'form_post'],
      subject_types_supported: ['pairwise'],
      id_token_signing_alg_values_supported: ['RS256'],
      response_types_supported: ['code', 'id_token', 'code id_token', 'id_token token'],
      scopes_supported: ['openid', 'profile', 'email', 'offline_access'],
      issuer: `${base}/${issuerTenant}/v2.0`,
      request_uri_parameter_supported: false,
      userinfo_endpoint: `${base}/oidc/userinfo`,
      authorization_endpoint: `${at}/oauth2/v2.0/authorize`,
      device_authorization_endpoint: `${at}/oauth2/v2.0/devicecode`,
      http_logout_supported: true,
      frontchannel_logout_supported: true,
      end_session_endpoint: `${at}/oauth2/v2.0/logout`,
      claims_supported: [
        'sub',
        'iss',
        'cloud_instance_name',
        'cloud_instance_host_name',
        'cloud_graph_host_name',
        'msgraph_host',
        'aud',
        'exp',
        'iat',
        'auth_time',
        'acr',
        'nonce',
        'preferred_username',
        'name',
        'tid',
        'ver',
        'at_hash',
        'c_hash',
        'email',
      ],
      kerberos_endpoint: `${at}/kerberos`,
      tenant_region_scope: multi ? null : 'WW',
      cloud_instance_name: 'microsoftonline.com',
      cloud_graph_host_name: 'graph.windows.net',
      msgraph_host: 'graph.microsoft.com',
      rbac_url: 'https://pas.windows.net',
    };
  }
  return {
    token_endpoint: `${at}/oauth2/token`,
    token_endpoint_auth_methods_supported: ['client_secret_post', 'private_key_jwt', 'client_secret_basic'],
    jwks_uri: `${at}/discovery/keys`,
    response_modes_supported: ['query', 'fragment', 'form_post'],
    subject_types_supported: ['pairwise'],
    id_token_signing_alg_values_supported: ['RS256'],
    response_types_supported: ['code', 'id_token', 'code id_token', 'token id_token', 'token'],
    scopes_supported: ['openid'],
    issuer: `${base}/${issuerTenant}/`,
    microsoft_multi_refresh_token: true,
    authorization_endpoint: `${at}/oauth2/authorize`,
    device_authorization_endpoint: `${at}/oauth2/devicecode`,
    http_logout_supported: true,
    frontchannel_logout_supported: true,
    end_session_endpoint: `${at}/oauth2/logout`,
    claims_supported: [
      'sub',
      'iss',
      'cloud_instance_name',
      'cloud_instance_host_name',
      'cloud_graph_host_name',
      'msgraph_host',
      'aud',
      'exp',
      'iat',
      'auth_time',
      'acr',
      'amr',
      'nonce',
      'email',
      'given_name',
      'family_name',
      'nickname',
    ],
    check_session_iframe: `${at}/oauth2/checksession`,
    userinfo_endpoint: `${at}/openid/userinfo`,
    kerberos_endpoint: `${at}/kerberos`,
    tenant_region_scope: multi ? null : 'WW',
    cloud_instance_name: 'microsoftonline.com',
    cloud_graph_host_name: 'graph.windows.net',
    msgraph_host: 'graph.microsoft.com',
    rbac_url: 'https://pas.windows.net',
  };
}

/**
 * JWKS: v2 keys carry the `issuer` they sign for (the tenant's, or the `{tenantid}` template for
 * common/organizations), which Microsoft.IdentityModel's signing-key issuer validation checks
 * (entra-protocol.md §3.5); v1 keys carry none.
 */
export function keySet(
  keys: readonly Record<string, unknown>[],
  base: string,
  tenant: Tenant | undefined,
  version: TokenVersion,
) {
  if (version === 1) return { keys: keys.map((k) => ({ ...k })) };
  const issuer = `${base}/${tenant ? tenant.id : TEMPLATE}/v2.0`;
  return { keys: keys.map((k) => ({ ...k, issuer })) };
}

/**
 * Instance discovery (`/common/discovery/instance`), which MSAL calls for unknown hosts unless
 * `knownAuthorities` is set: Behalf answers for its own host only (entra-protocol.md §1.6).
 */
export function instanceDiscovery(base: string, authorizationEndpoint: string | undefined) {
  const host = new URL(base).host;
  if (authorizationEndpoint !== undefined) {
    let requested: string | undefined;
    try {
      requested = new URL(authorizationEndpoint).host;
    } catch {
      requested = undefined;
    }
    if (requested?.toLowerCase() !== host.toLowerCase()) return undefined;
  }
  return {
    tenant_discovery_endpoint: `${base}/{tenant}/v2.0/.well-known/openid-configuration`,
    'api-version': '1.1',
    metadata: [{ preferred_network: host, preferred_cache: host, aliases: [host] }],
  };
}
