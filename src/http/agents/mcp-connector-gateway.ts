import { performance } from 'node:perf_hooks';
import type { FetchLike } from '@modelcontextprotocol/sdk/shared/transport.js';
import type { CallToolResult } from '@modelcontextprotocol/sdk/types.js';
import { ErrorCode } from '@modelcontextprotocol/sdk/types.js';
import type { McpConnectorPort, McpListOutcome, McpTarget } from '../../agents/mcp-connectors/ports.ts';
import { endpointOf } from '../../agents/mcp-connectors/package-builder.ts';
import type { RemoteSession } from '../../agents/mcp-connectors/remote-client.ts';
import { McpRemoteError, withRemoteServer } from '../../agents/mcp-connectors/remote-client.ts';
import type { Caller as AgentCaller, ToolOutcome } from '../../agents/ports.ts';
import type { Random } from '../../core/ids.ts';
import { timeOrderedUuid } from '../../core/ids.ts';
import { isWireError } from '../../core/errors.ts';
import type { Logger } from '../../core/logger.ts';
import type { AuditOutcome } from '../../connections/audit-log.ts';
import type { Caller } from '../../connections/caller-verifier.ts';
import type { ConnectionRecord } from '../../connections/connection-repository.ts';
import type { ConnectorSource, LoadedConnector } from '../../connections/connector-source.ts';
import type { InjectedCredential } from '../../connections/credentials.ts';
import { ConnectionError } from '../../connections/errors.ts';
import { UpstreamError } from '../../connections/outbound-http.ts';
import type { ConnectionServices } from '../../connections/services.ts';
import type { Operation } from '../../connectors/model.ts';
import { resolveConnection } from '../../gateway/connection-resolution.ts';
import { transportFailure, upstreamFailure } from '../../gateway/failures.ts';
import type { ConnectionsToken } from './invoke-adapter.ts';

/**
 * The MCP connectors' runtime over the connections machinery, the way the gateway runs an operation:
 * connector and sharing check → the person's connection (or the tool's shared one; SSO connections are
 * created on first use) → the credential for *that server* (on-behalf-of for Entra-shaped servers, the
 * stored tokens of an interactive sign-in, an API key) → Behalf as MCP client (the SDK's Client and
 * Streamable HTTP transport) → one renewal and retry on 401 → one audit entry per call, successful or
 * not, and the gateway's remediation texts for failures.
 *
 * The person's own token reaches only Behalf's token endpoint (as the on-behalf-of assertion), never the
 * server: "MCP servers MUST NOT pass through the token it received from the MCP client" (MCP
 * authorization 2025-11-25, "Token Passthrough"); here Behalf is the MCP client and sends a token the
 * server's authorization server issued for the server.
 */
export interface McpConnectorGatewayOptions {
  readonly services: ConnectionServices;
  readonly connectors: ConnectorSource;
  readonly connectionsToken: ConnectionsToken;
  readonly fetch: FetchLike;
  readonly random: Random;
  readonly logger: Logger;
  readonly timeoutMs?: number;
}

type Failure = Exclude<ToolOutcome, { kind: 'ok' }>;

class Stop extends Error {
  readonly outcome: Failure;
  constructor(outcome: Failure) {
    super(outcome.kind === 'failed' ? outcome.message : 'consent required');
    this.outcome = outcome;
  }
}

const TEXT_LIMIT = 2_000;

/** A tool result as the agent's body: structured content, the text, or the content items. */
function bodyOf(result: CallToolResult): unknown {
  if (result.structuredContent !== undefined) return result.structuredContent;
  const texts = result.content.filter((c) => c.type === 'text');
  if (texts.length === result.content.length && texts.length === 1) {
    const text = texts[0]!.text;
    try {
      return JSON.parse(text) as unknown;
    } catch {
      return text;
    }
  }
  return { content: result.content };
}

function errorText(result: CallToolResult): string {
  const text = result.content
    .map((c) => (c.type === 'text' ? c.text : ''))
    .join(' ')
    .trim();
  return text.length > TEXT_LIMIT ? `${text.slice(0, TEXT_LIMIT)}…` : text;
}

export function createMcpConnectorGateway(options: McpConnectorGatewayOptions): McpConnectorPort {
  const { services, connectors, logger } = options;

  async function who(caller: AgentCaller): Promise<Caller> {
    if (caller.assertion === undefined)
      throw new Stop({
        kind: 'failed',
        status: 401,
        code: 'NoSignIn',
        message: 'Sign in again to use this tool.',
      });
    try {
      const token = await options.connectionsToken(caller, caller.assertion);
      return await services.verifier.verify(`Bearer ${token}`);
    } catch (error) {
      if (!isWireError(error)) throw error;
      const body = error.body() as { error?: unknown; error_description?: string };
      const code = typeof body.error === 'string' ? body.error : 'TokenExchangeFailed';
      throw new Stop({
        kind: 'failed',
        status: 401,
        code,
        message: `Behalf could not use your sign-in: ${(body.error_description ?? error.message).split('\r\n')[0]}`,
      });
    }
  }

  function mcpOperation(connector: LoadedConnector): Operation {
    const operation = connector.model.operations.find((o) => o.agenticProtocol === 'mcp-streamable-1.0');
    if (!operation || !connector.model.baseUrl)
      throw new ConnectionError(
        400,
        'NotAnMcpConnector',
        `${connector.model.title} has no MCP endpoint (an operation marked x-ms-agentic-protocol: mcp-streamable-1.0).`,
      );
    return operation;
  }

  async function run<T>(
    agentCaller: AgentCaller,
    target: McpTarget,
    label: string,
    work: (session: RemoteSession) => Promise<T>,
  ): Promise<{ value: T; connectionId: string } | Failure> {
    const started = performance.now();
    const correlationId = timeOrderedUuid(Date.now(), options.random);
    let caller: Caller | undefined;
    let connection: ConnectionRecord | undefined;
    let credential: InjectedCredential | undefined;
    let upstreamStatus: number | undefined;
    let operationId = label;
    const audit = async (outcome: AuditOutcome, errorCode?: string) => {
      if (!caller) return;
      await services.audit.record({
        tenantId: caller.tenantId,
        callerObjectId: caller.objectId,
        ...(caller.upn !== undefined ? { callerUpn: caller.upn } : {}),
        ...(target.agent !== undefined
          ? { clientId: target.agent }
          : caller.clientId !== undefined
            ? { clientId: caller.clientId }
            : {}),
        connectorId: target.connectorId,
        operationId,
        ...(connection ? { connectionId: connection.id } : {}),
        ...(credential ? { mode: credential.mode, scopes: credential.scopes } : {}),
        outcome,
        ...(errorCode !== undefined ? { errorCode } : {}),
        ...(upstreamStatus !== undefined ? { upstreamStatus } : {}),
        durationMs: Math.round((performance.now() - started) * 1000) / 1000,
        correlationId,
      });
    };
    let title = target.connectorId;
    try {
      caller = await who(agentCaller);
      const connector = await connectors.load(caller.tenantId, target.connectorId);
      title = connector.model.title;
      const operation = mcpOperation(connector);
      operationId = `${operation.operationId}/${label}`;
      if (!(await services.sharing.allows(caller.tenantId, connector.id, caller)))
        throw new ConnectionError(403, 'ConnectorNotShared', `${title} is not shared with you.`, {
          remediation: `You might not have access to ${title}: ask its owner or an administrator to share the connector with you.`,
        });
      connection = await resolveConnection({
        caller,
        connector,
        connectionId: target.connectionId,
        connections: services.connections,
        credentials: services.credentials,
        consentCard: (c, loaded) => services.consent.card(c, loaded, 'interactive'),
      });
      credential = await services.credentials.resolve(caller, connection, connector);
      const url = endpointOf(connector.model.baseUrl!, operation.path);
      const session = (with_: InjectedCredential) =>
        withRemoteServer(
          { url, headers: with_.headers, query: with_.query },
          {
            fetch: options.fetch,
            ...(options.timeoutMs !== undefined ? { timeoutMs: options.timeoutMs } : {}),
          },
          work,
        );
      let value: T;
      try {
        value = await session(credential);
      } catch (error) {
        if (!(error instanceof McpRemoteError) || error.status !== 401) throw error;
        // As the gateway does: one renewal (refresh) and one retry; a second 401 is the person's to fix.
        const renewed = await credential.renew();
        if (!renewed) throw error;
        credential = renewed;
        value = await session(credential);
      }
      upstreamStatus = 200;
      await audit('success');
      return { value, connectionId: connection.id };
    } catch (error) {
      const failure = toFailure(error, { title, connectorId: target.connectorId, label, credential });
      if (error instanceof McpRemoteError && error.status !== undefined) upstreamStatus = error.status;
      const outcome: AuditOutcome =
        failure.kind === 'consent-required'
          ? 'consent-required'
          : error instanceof McpRemoteError
            ? 'upstream-error'
            : failure.status === 401 || failure.status === 403 || failure.status === 404
              ? 'denied'
              : failure.status === 400
                ? 'invalid-request'
                : 'failure';
      await audit(outcome, failure.kind === 'failed' ? failure.code : undefined);
      if (
        outcome === 'failure' &&
        !(error instanceof McpRemoteError) &&
        !isWireError(error) &&
        !(error instanceof Stop)
      )
        logger.error('MCP connector call crashed', { correlationId, connectorId: target.connectorId, error });
      else
        logger.info('MCP connector call failed', {
          correlationId,
          connectorId: target.connectorId,
          operationId,
          outcome,
          ...(failure.kind === 'failed' ? { code: failure.code } : {}),
        });
      return failure;
    }
  }

  return {
    async listTools(caller, target): Promise<McpListOutcome> {
      const result = await run(caller, target, 'tools/list', (session) => session.listTools());
      if ('kind' in result) return result;
      return { kind: 'ok', tools: result.value, connectionId: result.connectionId };
    },
    async callTool(caller, target, tool, args): Promise<ToolOutcome> {
      const result = await run(caller, target, `tools/call/${tool}`, (session) =>
        session.callTool(tool, args),
      );
      if ('kind' in result) return result;
      const called = result.value;
      // A tool execution error (MCP 2025-11-25 server/tools, "Error Handling"): the server ran and said no.
      if (called.isError === true)
        return {
          kind: 'failed',
          code: 'McpToolError',
          message: errorText(called) || `The tool "${tool}" failed.`,
          connectionId: result.connectionId,
        };
      return { kind: 'ok', status: 200, body: bodyOf(called), connectionId: result.connectionId };
    },
  };
}

/** Any failure as the agents' outcome, with the gateway's remediation texts (gateway/failures.ts). */
function toFailure(
  error: unknown,
  context: {
    title: string;
    connectorId: string;
    label: string;
    credential: InjectedCredential | undefined;
  },
): Failure {
  const { title, label, credential } = context;
  if (error instanceof Stop) return error.outcome;
  let connectionError: ConnectionError;
  if (error instanceof McpRemoteError) {
    if (error.failure === 'http' && error.status !== undefined)
      connectionError = upstreamFailure(error.status, {
        connectorTitle: title,
        operation: label,
        host: error.host,
        delegated: credential?.mode !== 'app-only',
      });
    else if (error.failure === 'unreachable' || error.failure === 'timeout')
      connectionError = transportFailure(
        new UpstreamError(error.failure === 'timeout' ? 'timeout' : 'unreachable', error.host),
        { connectorTitle: title },
      );
    else
      return {
        kind: 'failed',
        status: error.rpcCode === ErrorCode.InvalidParams ? 400 : 502,
        code: error.rpcCode === ErrorCode.InvalidParams ? 'McpInvalidParams' : 'McpProtocolError',
        message: `${title}: ${error.message}`,
      };
  } else if (error instanceof ConnectionError) connectionError = error;
  else if (isWireError(error)) {
    const body = error.body() as { error?: { code?: string; message?: string } };
    return {
      kind: 'failed',
      status: error.status,
      code: body.error?.code ?? 'Failed',
      message: body.error?.message ?? error.message,
    };
  } else
    return {
      kind: 'failed',
      status: 500,
      code: 'InternalError',
      message: 'Behalf failed to reach the MCP server; the details are in its log.',
    };
  const { consentCard, upstreamStatus } = connectionError.details;
  if (consentCard)
    return {
      kind: 'consent-required',
      card: {
        connectorId: context.connectorId,
        connectorName: title,
        url: consentCard.consentUrl,
        message: consentCard.text || connectionError.message,
      },
    };
  return {
    kind: 'failed',
    status: upstreamStatus ?? connectionError.status,
    code: connectionError.code,
    message: connectionError.message,
  };
}
