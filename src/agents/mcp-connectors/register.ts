import type { FetchLike } from '@modelcontextprotocol/sdk/shared/transport.js';
import type { PackageFiles } from '../../connectors/package.ts';
import type { OAuthDiscovery, Probe } from './discovery.ts';
import { discoverOAuth, probe, registerDynamicClient } from './discovery.ts';
import { McpRegistrationError, registrationErrors } from './errors.ts';
import type { McpConnectorAuth } from './package-builder.ts';
import { API_KEY_PARAMETER, mcpConnectorPackage } from './package-builder.ts';
import type { RemoteTool } from './ports.ts';
import type { RemoteSession } from './remote-client.ts';
import { causeCode, McpRemoteError } from './remote-client.ts';
import type { McpAuthInput, McpRegistration } from './registration.ts';
import { parseRegistration } from './registration.ts';

/**
 * Registering an external MCP server as a connector (Copilot Studio's MCP onboarding wizard): check the
 * server answers MCP, work out its authentication, create the connector package, and for servers
 * everyone reaches with the same credential (none, or an API key given here) the shared connection.
 * Anything created is removed again when a later step fails, so a failed registration leaves nothing.
 */
export interface ConnectorCreated {
  readonly id: string;
  readonly redirectUrl: string;
}

export interface RegistrationPorts {
  readonly fetch: FetchLike;
  /** Whether a login URI is an Entra-shaped identity provider (Behalf's own, or Entra ID). */
  isEntraAuthority(loginUri: string): boolean;
  createConnector(tenantId: string, files: PackageFiles, secret?: string): Promise<ConnectorCreated>;
  updateConnector(tenantId: string, id: string, files: PackageFiles, secret?: string): Promise<unknown>;
  deleteConnector(tenantId: string, id: string): Promise<void>;
  /** A shared (app-only) connection holding the API key, or nothing for a server without auth. */
  createSharedConnection(input: {
    tenantId: string;
    connectorId: string;
    displayName: string;
    createdBy: string;
    secureParameters: Readonly<Record<string, string>>;
  }): Promise<string>;
  /** A session on the server with the given credential (headers or query). */
  session<T>(
    url: URL,
    credential: { headers: Record<string, string>; query: Record<string, string> },
    work: (session: RemoteSession) => Promise<T>,
  ): Promise<T>;
}

export interface McpRegistrationResult {
  readonly connectorId: string;
  readonly displayName: string;
  readonly url: string;
  readonly auth: {
    readonly type: McpAuthInput['type'];
    readonly identityProvider?: 'aad' | 'oauth2';
    readonly clientId?: string;
    readonly dynamicClientRegistration?: boolean;
    readonly authorizationServer?: string;
    readonly scopes?: readonly string[];
    readonly in?: 'header' | 'query';
    readonly name?: string;
  };
  /** The shared connection created with the connector (auth none, or an API key given). */
  readonly connectionId?: string;
  /** The server's tools, when Behalf could list them at registration (a shared credential). */
  readonly tools?: readonly RemoteTool[];
}

// Entra ID's sign-in hosts (public, US government, China); Behalf's own is added by the composition root.
const ENTRA_HOSTS = new Set([
  'login.microsoftonline.com',
  'login.windows.net',
  'login.microsoftonline.us',
  'login.chinacloudapi.cn',
  'login.partner.microsoftonline.cn',
]);

/** `https://login/{tenant}/v2.0` → login URI and tenant, when the issuer has Entra's v2 shape. */
export function entraIssuer(
  issuer: string,
  isEntraAuthority: (loginUri: string) => boolean,
): { loginUri: string; tenantId: string } | undefined {
  const match = /^(https:\/\/[^/?#]+(?:\/[^/?#]+)*?)\/([^/?#]+)\/v2\.0\/?$/.exec(issuer);
  if (!match) return undefined;
  const loginUri = match[1]!;
  const known = ENTRA_HOSTS.has(new URL(loginUri).host) || isEntraAuthority(loginUri);
  return known ? { loginUri, tenantId: match[2]! } : undefined;
}

/** The resource of Entra scopes (`api://tools/Tools.Read` → `api://tools`), when they share one. */
function resourceOf(scopes: readonly string[]): string | undefined {
  const resources = new Set(scopes.filter((s) => s.includes('/')).map((s) => s.slice(0, s.lastIndexOf('/'))));
  return resources.size === 1 ? [...resources][0] : undefined;
}

function scopesFrom(input: readonly string[] | undefined, discovery: OAuthDiscovery, found: Probe): string[] {
  if (input && input.length > 0) return [...input];
  const published = discovery.resource?.scopes_supported;
  if (published && published.length > 0) return [...published];
  if (found.kind === 'auth-required' && found.scope) return found.scope.split(' ').filter(Boolean);
  return [];
}

interface Plan {
  readonly auth: McpConnectorAuth;
  readonly secret?: string;
  readonly discovery?: OAuthDiscovery;
  readonly dynamic: boolean;
}

async function oauthPlan(
  registration: McpRegistration,
  auth: Extract<McpAuthInput, { type: 'oauth' }>,
  found: Probe,
  ports: RegistrationPorts,
): Promise<Plan> {
  const secret = auth.clientSecret !== undefined ? { secret: auth.clientSecret } : {};
  if (auth.authorizationUrl !== undefined && auth.tokenUrl !== undefined) {
    if (auth.clientId === undefined)
      throw registrationErrors.invalid([
        {
          path: '/auth/clientId',
          message:
            'is required with manual authorizationUrl and tokenUrl (dynamic registration needs discovery)',
        },
      ]);
    return {
      auth: {
        kind: 'oauth2',
        clientId: auth.clientId,
        authorizationUrl: auth.authorizationUrl,
        tokenUrl: auth.tokenUrl,
        refreshUrl: auth.refreshUrl ?? auth.tokenUrl,
        scopes: auth.scopes ?? [],
      },
      ...secret,
      dynamic: false,
    };
  }
  const discovery = await discoverOAuth(registration.url, found, ports.fetch);
  const issuer = discovery.metadata.issuer || discovery.authorizationServer;
  const scopes = scopesFrom(auth.scopes, discovery, found);
  const entra = entraIssuer(issuer, (uri) => ports.isEntraAuthority(uri));
  if (entra) {
    if (auth.clientId === undefined)
      throw new McpRegistrationError(
        400,
        'ClientIdRequired',
        `${registration.url.host} is protected by an Entra-shaped identity provider (${issuer}): per-user tokens come by on-behalf-of through a connector app registration, which dynamic registration cannot create. Register an app that pre-authorizes Behalf Connections and holds a delegated permission on the server's API, and give its clientId and clientSecret.`,
        [{ path: '/auth/clientId', message: 'is required for an Entra-shaped identity provider' }],
      );
    const resourceUri = resourceOf(scopes) ?? discovery.resource?.resource ?? registration.url.toString();
    return {
      auth: {
        kind: 'aad',
        clientId: auth.clientId,
        loginUri: entra.loginUri,
        tenantId: entra.tenantId,
        resourceUri,
        scopes: scopes.length > 0 ? scopes : [`${resourceUri.replace(/\/+$/, '')}/.default`],
      },
      ...secret,
      discovery,
      dynamic: false,
    };
  }
  const endpoints = {
    authorizationUrl: discovery.metadata.authorization_endpoint,
    tokenUrl: discovery.metadata.token_endpoint,
    refreshUrl: discovery.metadata.token_endpoint,
  };
  return {
    auth: {
      kind: 'oauth2',
      // Filled in by dynamic registration once the connector (and so its redirect URL) exists.
      clientId: auth.clientId ?? 'dynamic-registration-pending',
      ...endpoints,
      scopes,
    },
    ...secret,
    discovery,
    dynamic: auth.clientId === undefined,
  };
}

const noCredential = { headers: {}, query: {} };

export async function registerMcpServer(
  input: { readonly tenantId: string; readonly createdBy: string; readonly body: unknown },
  ports: RegistrationPorts,
): Promise<McpRegistrationResult> {
  const registration = parseRegistration(input.body);
  const { url, auth } = registration;
  const found = await probe(url, ports.fetch);

  let plan: Plan;
  let listed: { tools: RemoteTool[]; name?: string } | undefined;
  const list = async (credential: { headers: Record<string, string>; query: Record<string, string> }) => {
    try {
      return await ports.session(url, credential, async (session) => ({
        tools: await session.listTools(),
        ...(session.server ? { name: session.server.title ?? session.server.name } : {}),
      }));
    } catch (error) {
      if (!(error instanceof McpRemoteError)) throw error;
      if (auth.type === 'apiKey' && (error.status === 401 || error.status === 403))
        throw registrationErrors.keyRefused(url.host, error.status);
      if (error.failure === 'unreachable')
        throw registrationErrors.unreachable(url.host, causeCode(error) ?? 'no answer');
      if (error.failure === 'timeout') throw registrationErrors.timeout(url.host);
      throw new McpRegistrationError(502, 'McpServerError', `${error.message} Could not list its tools.`);
    }
  };
  switch (auth.type) {
    case 'none':
      if (found.kind !== 'open') throw registrationErrors.needsAuth(url.host, found.status);
      listed = await list(noCredential);
      plan = { auth: { kind: 'none' }, dynamic: false };
      break;
    case 'apiKey':
      if (auth.value !== undefined)
        listed = await list({
          headers: auth.in === 'header' ? { [auth.name]: auth.value } : {},
          query: auth.in === 'query' ? { [auth.name]: auth.value } : {},
        });
      plan = { auth: { kind: 'apiKey', in: auth.in, name: auth.name }, dynamic: false };
      break;
    case 'oauth':
      plan = await oauthPlan(registration, auth, found, ports);
      break;
  }

  const displayName = registration.displayName ?? listed?.name ?? url.host;
  const files = (connectorAuth: McpConnectorAuth) =>
    mcpConnectorPackage({ url, displayName, description: registration.description, auth: connectorAuth });
  const created = await ports.createConnector(input.tenantId, files(plan.auth), plan.secret);
  let connectionId: string | undefined;
  let connectorAuth = plan.auth;
  try {
    if (plan.dynamic && plan.discovery && connectorAuth.kind === 'oauth2') {
      const client = await registerDynamicClient({
        discovery: plan.discovery,
        clientName: `Behalf: ${displayName}`,
        redirectUrl: created.redirectUrl,
        scopes: connectorAuth.scopes,
        fetch: ports.fetch,
      });
      connectorAuth = { ...connectorAuth, clientId: client.clientId };
      await ports.updateConnector(input.tenantId, created.id, files(connectorAuth), client.clientSecret);
    }
    if (auth.type === 'none' || (auth.type === 'apiKey' && auth.value !== undefined))
      connectionId = await ports.createSharedConnection({
        tenantId: input.tenantId,
        connectorId: created.id,
        displayName: `${displayName} (shared)`,
        createdBy: input.createdBy,
        secureParameters:
          auth.type === 'apiKey' && auth.value !== undefined ? { [API_KEY_PARAMETER]: auth.value } : {},
      });
  } catch (error) {
    await ports.deleteConnector(input.tenantId, created.id).catch(() => undefined);
    throw error;
  }
  return {
    connectorId: created.id,
    displayName,
    url: url.toString(),
    auth: {
      type: auth.type,
      ...(auth.type === 'apiKey' ? { in: auth.in, name: auth.name } : {}),
      ...(connectorAuth.kind === 'aad' || connectorAuth.kind === 'oauth2'
        ? {
            identityProvider: connectorAuth.kind,
            clientId: connectorAuth.clientId,
            dynamicClientRegistration: plan.dynamic,
            scopes: connectorAuth.scopes,
            ...(plan.discovery ? { authorizationServer: plan.discovery.authorizationServer } : {}),
          }
        : {}),
    },
    ...(connectionId !== undefined ? { connectionId } : {}),
    ...(listed ? { tools: listed.tools } : {}),
  };
}
