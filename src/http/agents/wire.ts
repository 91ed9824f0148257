import { createAgentRepository } from '../../agents/agent-repository.ts';
import type { AgentRepository } from '../../agents/agent-repository.ts';
import type { Caller, InvokeTool, LoadConnector } from '../../agents/ports.ts';
import { createRunHistory } from '../../agents/run-history.ts';
import type { RunHistory } from '../../agents/run-history.ts';
import { createToolRunner } from '../../agents/tool-runner.ts';
import type { ToolRunner } from '../../agents/tool-runner.ts';
import type { Clock } from '../../core/clock.ts';
import type { Random } from '../../core/ids.ts';
import type { Logger } from '../../core/logger.ts';
import type { Envelope } from '../../crypto/envelope.ts';
import type { Directory } from '../../directory/directory.ts';
import type { InvokeOperation } from '../../gateway/invoke-operation.ts';
import type { TokenService } from '../../idp/token-service.ts';
import type { RecordStore } from '../../storage/record-store.ts';
import type { ConnectorRegistry } from '../../connections/connector-registry.ts';
import { isWireError } from '../../core/errors.ts';
import { createMcpResourceApps } from '../idp-mcp/mcp-resource-app.ts';
import type { McpResourceApps } from '../idp-mcp/mcp-resource-app.ts';
import { mcpIdpRoutes } from '../idp-mcp/routes.ts';
import type { RouteModule } from '../server.ts';
import { createConnectionsTokenExchange, createInvokeAdapter } from './invoke-adapter.ts';
import { createMcpBearerVerifier } from './mcp-bearer.ts';
import { createMcpRoutes, resourceUrl } from './mcp-routes.ts';
import { createChatRuntime } from '../../agents/chat-runtime.ts';
import type { ChatRuntime } from '../../agents/chat-runtime.ts';
import type { LlmProvider } from '../../agents/llm/provider.ts';
import { noLlm } from '../../agents/llm/provider.ts';
import type { CallerVerifier } from '../../connections/caller-verifier.ts';
import type { VerifyBearer } from '../graph/caller.ts';
import { createAgentRoutes } from './agent-routes.ts';
import { makerAuthorizer, personFromToken, userAuthenticator } from './callers.ts';
import { createChatPage } from './chat-page.ts';
import { createGatewayAppSecret } from '../../connections/gateway-app-secret.ts';
import type { ConnectionServices } from '../../connections/services.ts';
import { createMcpConnectors } from './mcp-connectors-wire.ts';

/**
 * Agents in one call for main.ts: the agent store, run history, the tool runner over the gateway, the
 * MCP server per agent and the MCP-facing authorization endpoints (RFC 8414 metadata, RFC 7591
 * registration, RFC 8707 resource → audience).
 */
export interface AgentsFeatureOptions {
  readonly store: RecordStore;
  readonly clock: Clock;
  readonly random: Random;
  readonly logger: Logger;
  readonly directory: Directory;
  readonly tokens: TokenService;
  readonly envelope: Envelope;
  readonly publicUrl: () => string;
  readonly loadConnector: LoadConnector;
  /** The gateway's in-process entry; absent, tools answer that the gateway is not available. */
  readonly invokeOperation?: InvokeOperation;
  readonly behalfConnectionsAppId: () => string;
  /** Behalf's local CA (PEM): the MCP endpoint fetches its own IdP's keys over HTTPS. */
  readonly caCertificatePem?: string | undefined;
  /** Origins allowed to serve MCP client ID metadata documents from loopback/private addresses. */
  readonly clientMetadataAllowlist?: readonly string[];
  readonly isAdministrator?: (tenantId: string, objectId: string) => Promise<boolean>;
  /** The chat agent's model; without one the chat runs in direct mode (`/tool-name …`) only. */
  readonly llm?: LlmProvider;
  /**
   * Mounts the management, run-history and chat API: makers present a management (Graph) bearer,
   * people chatting a token for Behalf Connections (the gateway's own caller verifier).
   */
  readonly api?: { readonly verifyMaker: VerifyBearer; readonly userVerifier: CallerVerifier };
  /** The /chat page's client (Behalf Chat, as `behalf up --demo` registers it). */
  readonly chatAppId?: string;
  /**
   * External MCP servers as connectors (registration API, their tools listed and called with each
   * person's connection): the connector registry and the connection services they run on.
   */
  readonly mcpConnectors?: {
    readonly registry: ConnectorRegistry;
    readonly services: ConnectionServices;
  };
}

export const BEHALF_CHAT_APP_ID = 'be4a1f00-c4a7-4a00-8000-000000000003';

export interface AgentsFeature {
  readonly agents: AgentRepository;
  readonly history: RunHistory;
  readonly runTool: ToolRunner;
  readonly chat: ChatRuntime;
  readonly resourceApps: McpResourceApps;
  readonly routes: readonly RouteModule[];
}

const noGateway: InvokeTool = async () => ({
  kind: 'failed',
  status: 503,
  code: 'GatewayUnavailable',
  message: 'The gateway is not configured in this Behalf, so tools cannot run.',
});

export function createAgentsFeature(options: AgentsFeatureOptions): AgentsFeature {
  const { store, clock, random, logger, publicUrl } = options;
  const history = createRunHistory({ store, clock, random });
  const resourceApps = createMcpResourceApps({
    directory: options.directory,
    store,
    envelope: options.envelope,
    behalfConnectionsAppId: options.behalfConnectionsAppId,
  });
  const connectionsToken = createConnectionsTokenExchange({
    tokens: options.tokens,
    resourceApps,
    behalfConnectionsAppId: options.behalfConnectionsAppId,
    clock,
  });
  const gatewayInvoke = options.invokeOperation
    ? createInvokeAdapter({
        invokeOperation: options.invokeOperation,
        tokens: options.tokens,
        resourceApps,
        behalfConnectionsAppId: options.behalfConnectionsAppId,
        clock,
        logger,
        connectionsToken,
      })
    : noGateway;
  const mcp = options.mcpConnectors
    ? createMcpConnectors({
        ...options.mcpConnectors,
        connectionsToken,
        fallback: gatewayInvoke,
        caCertificatePem: options.caCertificatePem,
        publicUrl,
        clock,
        random,
        logger,
        ...(options.api ? { verifyMaker: options.api.verifyMaker } : {}),
      })
    : undefined;
  const invoke = mcp?.invoke ?? gatewayInvoke;
  const agents = createAgentRepository({
    store,
    clock,
    loadConnector: options.loadConnector,
    ...(mcp ? { expandMcpTool: mcp.expandMcpTool } : {}),
  });
  const runTool = createToolRunner({ invoke, history, clock });
  const chat = createChatRuntime({ store, agents, runTool, llm: options.llm ?? noLlm, clock, random });

  async function isAgentResource(tenantId: string, resource: string): Promise<boolean> {
    const prefix = `${publicUrl()}/mcp/`;
    if (!resource.startsWith(prefix)) return false;
    let name: string;
    try {
      name = decodeURIComponent(resource.slice(prefix.length));
    } catch {
      return false;
    }
    const agent = await agents.get(name);
    return agent !== undefined && agent.tenantId === tenantId && resourceUrl(publicUrl(), name) === resource;
  }

  const routes: RouteModule[] = [
    createMcpRoutes({
      agents,
      runTool,
      verifyBearer: createMcpBearerVerifier({
        authority: publicUrl,
        validator: { ...(options.caCertificatePem ? { ca: options.caCertificatePem } : {}), clock },
        ...(options.isAdministrator ? { isAdministrator: options.isAdministrator } : {}),
      }),
      authorizationServer: (agent) => `${publicUrl()}/${agent.tenantId}/v2.0`,
      publicUrl,
      random,
      logger,
    }),
    mcpIdpRoutes({
      directory: options.directory,
      tokens: options.tokens,
      resourceApps,
      isAgentResource,
      publicUrl,
      clock,
      logger,
      clientMetadata: {
        store,
        allowedPrivateOrigins: options.clientMetadataAllowlist ?? [],
        caCertificatePem: options.caCertificatePem,
      },
    }),
  ];
  if (mcp) routes.push(...mcp.routes);
  if (options.api) {
    const isAdministrator = options.isAdministrator ?? (async () => false);
    routes.push(
      createAgentRoutes({
        agents,
        history,
        chat,
        authorizeMaker: makerAuthorizer(options.api.verifyMaker),
        authenticateUser: userAuthenticator(options.api.userVerifier, isAdministrator),
      }),
      chatPage(options, { agents, chat }, personFromToken(options.api.userVerifier, isAdministrator)),
    );
  }
  return { agents, history, runTool, chat, resourceApps, routes };
}

/** The agents' view of a registered connector: its model and its API definition (for `$ref`s). */
export function registryLoadConnector(registry: ConnectorRegistry): LoadConnector {
  return async (tenantId, connectorId) => {
    try {
      const [details, model, pkg] = await Promise.all([
        registry.get(tenantId, connectorId),
        registry.model(tenantId, connectorId),
        registry.download(tenantId, connectorId),
      ]);
      let document: unknown = {};
      try {
        document = JSON.parse(pkg.apiDefinition.text) as unknown;
      } catch {
        // YAML or OpenAPI 3 text: the model already carries the resolved operations.
      }
      return { displayName: details.displayName, model, document };
    } catch (error) {
      if (isWireError(error) && error.status === 404) return undefined;
      throw error;
    }
  };
}

function chatPage(
  options: AgentsFeatureOptions,
  feature: { agents: AgentRepository; chat: ChatRuntime },
  person: (authorization: string) => Promise<Caller>,
): RouteModule {
  const { directory, store, envelope, tokens } = options;
  const appId = options.chatAppId ?? BEHALF_CHAT_APP_ID;
  // Behalf Chat's client secret is provisioned by Behalf itself, envelope-encrypted in the store.
  const secret = createGatewayAppSecret({
    appId,
    store,
    envelope,
    directory: {
      async issueSecret(id) {
        const app = await directory.getApplicationByAppId(id);
        if (!app) return undefined;
        return (await directory.addPassword(app.tenantId, app.id, { displayName: 'Behalf chat page' }))
          .secretText;
      },
      isValid: async (id, text) => (await directory.verifyClientSecret(id, text)).status === 'valid',
    },
  });
  return createChatPage({
    ...feature,
    envelope,
    clock: options.clock,
    random: options.random,
    logger: options.logger,
    publicUrl: options.publicUrl,
    scope: () => `api://${options.behalfConnectionsAppId()}/user_impersonation openid profile`,
    async chatApp() {
      const app = await directory.getApplicationByAppId(appId);
      return app ? { appId, tenantId: app.tenantId } : undefined;
    },
    async redeem({ tenantId, code, verifier, redirectUri }) {
      const body = (await tokens.token({
        endpoint: 2,
        tenantSegment: tenantId,
        form: {
          grant_type: 'authorization_code',
          client_id: appId,
          client_secret: await secret.get(),
          code,
          code_verifier: verifier,
          redirect_uri: redirectUri,
          scope: `api://${options.behalfConnectionsAppId()}/user_impersonation`,
        },
      })) as { access_token?: unknown; expires_in?: unknown };
      if (typeof body.access_token !== 'string') throw new Error('the token response has no access token');
      return { accessToken: body.access_token, expiresIn: Number(body.expires_in ?? 0) };
    },
    callerFromToken: (token) => person(`Bearer ${token}`),
  });
}
