import { rootCertificates } from 'node:tls';
import type { FastifyInstance } from 'fastify';
import type { FetchLike } from '@modelcontextprotocol/sdk/shared/transport.js';
import { Agent, fetch as undiciFetch } from 'undici';
import type { ExpandMcpTool } from '../../agents/mcp-connectors/expand.ts';
import { createMcpToolExpander } from '../../agents/mcp-connectors/expand.ts';
import { createMcpAwareInvoke } from '../../agents/mcp-connectors/invoke.ts';
import type { RegistrationPorts } from '../../agents/mcp-connectors/register.ts';
import { withRemoteServer } from '../../agents/mcp-connectors/remote-client.ts';
import type { InvokeTool } from '../../agents/ports.ts';
import type { Clock } from '../../core/clock.ts';
import type { Random } from '../../core/ids.ts';
import type { Logger } from '../../core/logger.ts';
import type { ConnectorRegistry } from '../../connections/connector-registry.ts';
import { registryConnectorSource } from '../../connections/connector-source.ts';
import type { Sealed } from '../../connections/model.ts';
import type { ConnectionServices } from '../../connections/services.ts';
import type { VerifyBearer } from '../graph/caller.ts';
import type { RouteModule } from '../server.ts';
import type { ConnectionsToken } from './invoke-adapter.ts';
import { createMcpConnectorGateway } from './mcp-connector-gateway.ts';
import { createMcpConnectorRoutes } from './mcp-connector-routes.ts';

/**
 * External MCP servers as connectors, wired for the agents feature: Behalf's MCP client (undici fetch
 * trusting the public roots and Behalf's local CA), the runtime over the connections machinery, the
 * per-person tool lists, the invoke port that sends MCP tools there, and the registration API.
 */
export interface McpConnectorsOptions {
  readonly registry: ConnectorRegistry;
  readonly services: ConnectionServices;
  readonly connectionsToken: ConnectionsToken;
  /** Where every tool that is not an MCP server's goes (the gateway). */
  readonly fallback: InvokeTool;
  readonly caCertificatePem: string | undefined;
  readonly publicUrl: () => string;
  readonly clock: Clock;
  readonly random: Random;
  readonly logger: Logger;
  /** Mounts the registration API with the management bearer. */
  readonly verifyMaker?: VerifyBearer;
  readonly timeoutMs?: number;
}

export interface McpConnectors {
  readonly invoke: InvokeTool;
  readonly expandMcpTool: ExpandMcpTool;
  readonly routes: readonly RouteModule[];
}

export function createMcpConnectors(options: McpConnectorsOptions): McpConnectors {
  const { registry, services, clock, logger } = options;
  // The public roots plus Behalf's own CA (its demo APIs and test servers use certificates it issued).
  const dispatcher = new Agent({
    connect: { ca: [...rootCertificates, ...(options.caCertificatePem ? [options.caCertificatePem] : [])] },
  });
  const fetch: FetchLike = (url, init) =>
    undiciFetch(url, { ...(init as object), dispatcher }) as unknown as Promise<Response>;
  const port = createMcpConnectorGateway({
    services,
    connectors: registryConnectorSource(registry, clock),
    connectionsToken: options.connectionsToken,
    fetch,
    random: options.random,
    logger,
    ...(options.timeoutMs !== undefined ? { timeoutMs: options.timeoutMs } : {}),
  });
  const expander = createMcpToolExpander({
    port,
    clock,
    onListFailed: (connectorId, code) => logger.info('MCP connector tools not listed', { connectorId, code }),
  });
  const trim = (url: string) => url.replace(/\/+$/, '');
  const ports: RegistrationPorts = {
    fetch,
    isEntraAuthority: (loginUri) => trim(loginUri) === trim(options.publicUrl()),
    async createConnector(tenantId, files, secret) {
      const { connector } = await registry.create(tenantId, files, secret);
      return { id: connector.id, redirectUrl: connector.redirectUrl };
    },
    updateConnector: (tenantId, id, files, secret) => registry.update(tenantId, id, files, secret),
    deleteConnector: (tenantId, id) => registry.delete(tenantId, id),
    async createSharedConnection(input) {
      const id = services.connections.newId();
      const sealed: Record<string, Sealed> = {};
      for (const [name, value] of Object.entries(input.secureParameters))
        sealed[name] = await services.vault.seal(id, `param:${name}`, value);
      const record = await services.connections.create({
        id,
        tenantId: input.tenantId,
        connectorId: input.connectorId,
        displayName: input.displayName,
        mode: 'shared',
        createdBy: input.createdBy,
        secureParameters: sealed,
        state: 'connected',
      });
      return record.id;
    },
    session: (url, credential, work) =>
      withRemoteServer(
        { url, ...credential },
        { fetch, ...(options.timeoutMs !== undefined ? { timeoutMs: options.timeoutMs } : {}) },
        work,
      ),
  };
  const routes: RouteModule[] = [
    (app: FastifyInstance) => {
      app.addHook('onClose', () => dispatcher.close());
    },
  ];
  if (options.verifyMaker)
    routes.push(
      createMcpConnectorRoutes({
        verifyBearer: options.verifyMaker,
        ports,
        connector: (tenantId, id) => registry.get(tenantId, id),
      }),
    );
  return {
    invoke: createMcpAwareInvoke({ port, fallback: options.fallback, expander }),
    expandMcpTool: expander.expand,
    routes,
  };
}
