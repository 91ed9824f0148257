import {
  discoverAuthorizationServerMetadata,
  discoverOAuthProtectedResourceMetadata,
  extractWWWAuthenticateParams,
  registerClient,
} from '@modelcontextprotocol/sdk/client/auth.js';
import type {
  AuthorizationServerMetadata,
  OAuthProtectedResourceMetadata,
} from '@modelcontextprotocol/sdk/shared/auth.js';
import { checkResourceAllowed } from '@modelcontextprotocol/sdk/shared/auth-utils.js';
import type { FetchLike } from '@modelcontextprotocol/sdk/shared/transport.js';
import { LATEST_PROTOCOL_VERSION } from '@modelcontextprotocol/sdk/types.js';
import { registrationErrors } from './errors.ts';
import { causeCode, classify } from './remote-client.ts';

/**
 * Finding out what an MCP server needs before registering it: an unauthenticated initialize (is it an
 * MCP server, is it reachable, does it want credentials), then, for OAuth, the discovery the MCP
 * authorization specification (2025-11-25, "Authorization Server Discovery") prescribes: the
 * `resource_metadata` of the 401's `WWW-Authenticate` or the well-known RFC 9728 document, and the
 * authorization server's RFC 8414 (or OpenID Connect) metadata. All through the SDK's own functions.
 */
export type Probe =
  | { readonly kind: 'open' }
  | {
      readonly kind: 'auth-required';
      readonly status: number;
      readonly resourceMetadataUrl?: URL;
      readonly scope?: string;
    };

export async function probe(url: URL, fetch: FetchLike, timeoutMs = 15_000): Promise<Probe> {
  let response: Response;
  try {
    response = await fetch(url, {
      method: 'POST',
      headers: { 'content-type': 'application/json', accept: 'application/json, text/event-stream' },
      body: JSON.stringify({
        jsonrpc: '2.0',
        id: 0,
        method: 'initialize',
        params: {
          protocolVersion: LATEST_PROTOCOL_VERSION,
          capabilities: {},
          clientInfo: { name: 'behalf', version: '0.1.0' },
        },
      }),
      redirect: 'manual',
      signal: AbortSignal.timeout(timeoutMs),
    });
  } catch (error) {
    const failure = classify(error, url.host);
    if (failure.failure === 'timeout') throw registrationErrors.timeout(url.host);
    throw registrationErrors.unreachable(url.host, causeCode(error) ?? 'no answer');
  }
  await response.body?.cancel().catch(() => undefined);
  const session = response.headers.get('mcp-session-id');
  if (response.ok && session)
    // The probe's session is not used again: end it (servers may answer 405, which is fine).
    await fetch(url, { method: 'DELETE', headers: { 'mcp-session-id': session } })
      .then((r) => r.body?.cancel())
      .catch(() => undefined);
  if (response.ok) return { kind: 'open' };
  if (response.status === 401 || response.status === 403) {
    const params = extractWWWAuthenticateParams(response);
    return {
      kind: 'auth-required',
      status: response.status,
      ...(params.resourceMetadataUrl ? { resourceMetadataUrl: params.resourceMetadataUrl } : {}),
      ...(params.scope !== undefined ? { scope: params.scope } : {}),
    };
  }
  if (response.status >= 500) throw registrationErrors.serverFailed(url.host, response.status);
  throw registrationErrors.notMcp(url.toString(), response.status);
}

export interface OAuthDiscovery {
  readonly resource?: OAuthProtectedResourceMetadata;
  /** The authorization server's issuer (from the protected resource metadata). */
  readonly authorizationServer: string;
  readonly metadata: AuthorizationServerMetadata;
}

export async function discoverOAuth(url: URL, found: Probe, fetch: FetchLike): Promise<OAuthDiscovery> {
  let resource: OAuthProtectedResourceMetadata | undefined;
  try {
    resource = await discoverOAuthProtectedResourceMetadata(
      url,
      found.kind === 'auth-required' && found.resourceMetadataUrl
        ? { resourceMetadataUrl: found.resourceMetadataUrl }
        : {},
      fetch,
    );
  } catch (error) {
    throw registrationErrors.oauth(
      `${url.host} publishes no OAuth protected resource metadata (RFC 9728): ${(error as Error).message.split('\n')[0]} Give the authorization and token URLs instead.`,
    );
  }
  // RFC 9728 §3.3: the metadata must be about this server, or a client could be steered to another AS.
  if (!checkResourceAllowed({ requestedResource: url, configuredResource: resource.resource }))
    throw registrationErrors.oauth(
      `The protected resource metadata of ${url.host} names the resource ${resource.resource}, which is not ${url.toString()} (RFC 9728 §3.3).`,
    );
  const authorizationServer = resource.authorization_servers?.[0];
  if (!authorizationServer)
    throw registrationErrors.oauth(
      `The protected resource metadata of ${url.host} names no authorization server.`,
    );
  let metadata: AuthorizationServerMetadata | undefined;
  try {
    metadata = await discoverAuthorizationServerMetadata(authorizationServer, { fetchFn: fetch });
  } catch (error) {
    throw registrationErrors.oauth(
      `The authorization server ${authorizationServer} has no usable metadata (RFC 8414): ${(error as Error).message.split('\n')[0]}`,
    );
  }
  if (!metadata)
    throw registrationErrors.oauth(
      `The authorization server ${authorizationServer} publishes no RFC 8414 or OpenID Connect metadata.`,
    );
  return { resource, authorizationServer, metadata };
}

/**
 * RFC 7591 registration of Behalf as a confidential client of the server's authorization server, with
 * the connector's own redirect URL. A public client would do: Behalf keeps the tokens server-side and
 * redeems codes with a secret, as it does for every connector app.
 */
export async function registerDynamicClient(input: {
  readonly discovery: OAuthDiscovery;
  readonly clientName: string;
  readonly redirectUrl: string;
  readonly scopes: readonly string[];
  readonly fetch: FetchLike;
}): Promise<{ clientId: string; clientSecret: string }> {
  const { discovery } = input;
  if (!discovery.metadata.registration_endpoint)
    throw registrationErrors.oauth(
      `The authorization server ${discovery.authorizationServer} does not offer dynamic client registration (RFC 7591): register a client there and give its clientId and clientSecret.`,
      400,
    );
  let registered;
  try {
    registered = await registerClient(discovery.authorizationServer, {
      metadata: discovery.metadata,
      clientMetadata: {
        client_name: input.clientName,
        redirect_uris: [input.redirectUrl],
        grant_types: ['authorization_code', 'refresh_token'],
        response_types: ['code'],
        token_endpoint_auth_method: 'client_secret_post',
      },
      ...(input.scopes.length > 0 ? { scope: input.scopes.join(' ') } : {}),
      fetchFn: input.fetch,
    });
  } catch (error) {
    throw registrationErrors.oauth(
      `The authorization server ${discovery.authorizationServer} refused the client registration: ${(error as Error).message.split('\n')[0]}`,
      502,
    );
  }
  if (!registered.client_secret)
    throw registrationErrors.oauth(
      `The authorization server ${discovery.authorizationServer} registered a public client (no client_secret); Behalf redeems codes as a confidential client. Register one there and give its clientId and clientSecret.`,
      422,
    );
  return { clientId: registered.client_id, clientSecret: registered.client_secret };
}
