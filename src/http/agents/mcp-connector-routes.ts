import type { FastifyInstance } from 'fastify';
import type { RegistrationPorts } from '../../agents/mcp-connectors/register.ts';
import { registerMcpServer } from '../../agents/mcp-connectors/register.ts';
import { CONNECTORS_PATH } from '../connectors/routes.ts';
import type { VerifyBearer } from '../graph/caller.ts';
import { bearerToken, requireAccess } from '../graph/caller.ts';
import { graphError } from '../graph/errors.ts';
import type { RouteModule } from '../server.ts';

/**
 * `POST /v1.0/behalf/connectors/mcp`: registers an external Streamable HTTP MCP server as a connector
 * (`behalf connector add-mcp`), beside the connector management API and with its bearer and
 * permissions: creating a connector writes an app definition (Application.ReadWrite.All).
 */
export const MCP_CONNECTORS_PATH = `${CONNECTORS_PATH}/mcp`;

export interface McpConnectorRoutesOptions {
  readonly verifyBearer: VerifyBearer;
  readonly ports: RegistrationPorts;
  /** The connector as the connector API shows it (GET /v1.0/behalf/connectors/{id}). */
  readonly connector: (tenantId: string, id: string) => Promise<unknown>;
}

export function createMcpConnectorRoutes(options: McpConnectorRoutesOptions): RouteModule {
  return (app: FastifyInstance) => {
    app.post(MCP_CONNECTORS_PATH, async (request, reply) => {
      const caller = await options.verifyBearer(bearerToken(request.headers.authorization));
      if (!caller) throw graphError.invalidToken();
      requireAccess(caller, 'applications.write');
      const result = await registerMcpServer(
        { tenantId: caller.tenantId, createdBy: caller.oid ?? caller.appId, body: request.body },
        options.ports,
      );
      const connector = (await options.connector(caller.tenantId, result.connectorId)) as Record<
        string,
        unknown
      >;
      return reply
        .code(201)
        .header('location', `${CONNECTORS_PATH}/${encodeURIComponent(result.connectorId)}`)
        .send({ ...connector, mcp: result });
    });
  };
}
