import type { PackageFiles } from '../../connectors/package.ts';

/**
 * The connector package Behalf creates for a registered MCP server: the same model as an imported
 * package, shaped as Copilot Studio's MCP connectors are (connector-format.md §6.2): one
 * `POST /mcp` operation marked `x-ms-agentic-protocol: mcp-streamable-1.0`, and the server's
 * authentication as connection parameters (apiProperties.json) and security definitions. Exported and
 * re-imported unchanged like any other connector.
 */
export const MCP_OPERATION_ID = 'InvokeMCP';
export const AGENTIC_PROTOCOL = 'mcp-streamable-1.0';
export const API_KEY_PARAMETER = 'api_key';

export type McpConnectorAuth =
  | { readonly kind: 'none' }
  | { readonly kind: 'apiKey'; readonly in: 'header' | 'query'; readonly name: string }
  /** Entra-shaped (Behalf's own IdP or Entra ID): SSO by on-behalf-of, per-user tokens. */
  | {
      readonly kind: 'aad';
      readonly clientId: string;
      readonly loginUri: string;
      readonly tenantId: string;
      readonly resourceUri: string;
      readonly scopes: readonly string[];
    }
  /** Any other OAuth 2.0 server: interactive sign-in per user (authorization code with PKCE). */
  | {
      readonly kind: 'oauth2';
      readonly clientId: string;
      readonly authorizationUrl: string;
      readonly tokenUrl: string;
      readonly refreshUrl: string;
      readonly scopes: readonly string[];
    };

export interface McpConnectorInput {
  readonly url: URL;
  readonly displayName: string;
  readonly description: string;
  readonly auth: McpConnectorAuth;
}

/** `https://h/a/b/mcp` → basePath `/a/b`, path `/mcp` (the connector's serviceUrl plus one operation). */
export function splitUrl(url: URL): { basePath: string; path: string } {
  const segments = url.pathname.split('/').filter((s) => s !== '');
  const last = segments.pop();
  return { basePath: '/' + segments.join('/'), path: '/' + (last ?? '') };
}

/** The MCP endpoint of a connector built here or imported: its serviceUrl plus the operation's path. */
export function endpointOf(baseUrl: string, operationPath: string): URL {
  return new URL(baseUrl.replace(/\/+$/, '') + operationPath);
}

function securityDefinitions(auth: McpConnectorAuth): Record<string, unknown> {
  switch (auth.kind) {
    case 'none':
      return {};
    case 'apiKey':
      return { [API_KEY_PARAMETER]: { type: 'apiKey', in: auth.in, name: auth.name } };
    case 'aad':
    case 'oauth2':
      return {
        oauth2_auth: {
          type: 'oauth2',
          flow: 'accessCode',
          authorizationUrl:
            auth.kind === 'aad' ? `${auth.loginUri}/common/oauth2/authorize` : auth.authorizationUrl,
          tokenUrl: auth.kind === 'aad' ? `${auth.loginUri}/common/oauth2/token` : auth.tokenUrl,
          scopes: Object.fromEntries(auth.scopes.map((s) => [s, s])),
        },
      };
  }
}

/** `server`: the MCP server's URL, the RFC 8707 resource an oauth2 sign-in names (MCP authorization). */
function connectionParameters(auth: McpConnectorAuth, server: URL): Record<string, unknown> {
  switch (auth.kind) {
    case 'none':
      return {};
    case 'apiKey':
      return {
        [API_KEY_PARAMETER]: {
          type: 'securestring',
          uiDefinition: {
            displayName: `API key (${auth.in} ${auth.name})`,
            description: `The API key of the MCP server, sent in the ${auth.in} ${auth.name}.`,
            tooltip: 'Provide your API key',
            constraints: { tabIndex: 2, clearText: false, required: 'true' },
          },
        },
      };
    case 'aad':
      // As an Entra ID connector with SSO (connector-format.md §0.5): per-user tokens by on-behalf-of.
      return {
        token: {
          type: 'oauthSetting',
          oAuthSettings: {
            identityProvider: 'aad',
            clientId: auth.clientId,
            scopes: [...auth.scopes],
            redirectMode: 'GlobalPerConnector',
            properties: {
              IsFirstParty: 'False',
              AzureActiveDirectoryResourceId: auth.resourceUri,
              IsOnbehalfofLoginSupported: true,
            },
            customParameters: {
              loginUri: { value: auth.loginUri },
              tenantId: { value: auth.tenantId },
              resourceUri: { value: auth.resourceUri },
              enableOnbehalfOfLogin: { value: 'true' },
            },
          },
          uiDefinition: {
            displayName: 'Sign in with your organizational account',
            description: 'Sign in with your organizational account',
            tooltip: 'Provide your credentials',
            constraints: { required: 'true' },
          },
        },
      };
    case 'oauth2':
      return {
        token: {
          type: 'oauthSetting',
          oAuthSettings: {
            identityProvider: 'oauth2',
            clientId: auth.clientId,
            scopes: [...auth.scopes],
            redirectMode: 'GlobalPerConnector',
            properties: { IsFirstParty: 'False' },
            customParameters: {
              authorizationUrl: { value: auth.authorizationUrl },
              tokenUrl: { value: auth.tokenUrl },
              refreshUrl: { value: auth.refreshUrl },
              resourceUri: { value: server.href },
            },
          },
          uiDefinition: {
            displayName: 'Sign in',
            description: 'Sign in to the MCP server',
            tooltip: 'Provide your credentials',
            constraints: { required: 'true' },
          },
        },
      };
  }
}

export function mcpConnectorPackage(input: McpConnectorInput): PackageFiles {
  const { url, auth } = input;
  const { basePath, path } = splitUrl(url);
  const security = securityDefinitions(auth);
  const definition = {
    swagger: '2.0',
    info: {
      title: input.displayName,
      description: input.description || `MCP server at ${url.host}`,
      version: '1.0.0',
    },
    host: url.host,
    basePath,
    schemes: [url.protocol.replace(':', '')],
    consumes: ['application/json'],
    produces: ['application/json', 'text/event-stream'],
    paths: {
      [path]: {
        post: {
          summary: input.displayName,
          description: input.description || `Streamable HTTP MCP endpoint of ${input.displayName}.`,
          operationId: MCP_OPERATION_ID,
          'x-ms-agentic-protocol': AGENTIC_PROTOCOL,
          responses: { '200': { description: 'Success' } },
        },
      },
    },
    definitions: {},
    parameters: {},
    responses: {},
    securityDefinitions: security,
    security: Object.keys(security).map((name) => ({ [name]: [] })),
    tags: [],
  };
  const properties = {
    properties: {
      capabilities: ['actions'],
      connectionParameters: connectionParameters(auth, url),
      iconBrandColor: '#007ee5',
      publisher: 'Behalf',
      stackOwner: url.host,
    },
  };
  return {
    apiDefinition: { name: 'apiDefinition.swagger.json', text: JSON.stringify(definition, null, 2) },
    apiProperties: { name: 'apiProperties.json', text: JSON.stringify(properties, null, 2) },
  };
}
