/**
 * RFC 8414 authorization server metadata for MCP clients, served at
 * `/.well-known/oauth-authorization-server/{tenant}/v2.0` (RFC 8414 §3.1: the well-known segment is
 * inserted before the issuer's path). The MCP SDK tries this URL first when the protected resource
 * metadata names `{base}/{tenant}/v2.0` as authorization server (its `buildDiscoveryUrls`), so Entra's own
 * OpenID configuration document stays exactly as Entra serves it, while MCP clients find what the MCP
 * authorization specification (2025-11-25) needs and Entra does not advertise: PKCE S256
 * (`code_challenge_methods_supported`, which clients MUST check), client ID metadata documents
 * (draft-ietf-oauth-client-id-metadata-document, the registration MCP clients prefer), dynamic client
 * registration (RFC 7591) as their fallback, and RFC 8707 `resource` support on the authorization and
 * token endpoints.
 */
export interface McpAuthorizationServerUrls {
  /** `{base}/{tenantId}/v2.0`: the issuer the protected resource metadata lists. */
  readonly issuer: string;
  /** The MCP-facing endpoints (`resource` aware), under `{base}/mcp-oauth/{tenantId}`. */
  readonly endpoints: string;
  /** The tenant's v1 key set: MCP access tokens are v1 tokens (their `aud` is the resource URL). */
  readonly jwksUri: string;
  /** The tenant's discovery root, for the standard sign-out endpoint. */
  readonly tenantRoot: string;
}

export function mcpAuthorizationServerMetadata(
  urls: McpAuthorizationServerUrls,
  features: { readonly clientIdMetadataDocuments: boolean },
) {
  return {
    issuer: urls.issuer,
    authorization_endpoint: `${urls.endpoints}/authorize`,
    token_endpoint: `${urls.endpoints}/token`,
    registration_endpoint: `${urls.endpoints}/register`,
    jwks_uri: urls.jwksUri,
    response_types_supported: ['code'],
    response_modes_supported: ['query'],
    grant_types_supported: ['authorization_code', 'refresh_token'],
    // Registered MCP clients are public clients: PKCE is what binds the code to them (RFC 9700 §2.1.1).
    token_endpoint_auth_methods_supported: ['none'],
    code_challenge_methods_supported: ['S256'],
    scopes_supported: ['openid', 'profile', 'offline_access'],
    // RFC 8707: the MCP client names the MCP server it wants a token for; the token's `aud` is that URL.
    resource_indicators_supported: true,
    // MCP 2025-11-25, "Client ID Metadata Documents": a client may use the https URL of its metadata
    // document as client_id at /authorize and /token, with no registration request (draft §6).
    client_id_metadata_document_supported: features.clientIdMetadataDocuments,
    end_session_endpoint: `${urls.tenantRoot}/oauth2/v2.0/logout`,
  };
}
