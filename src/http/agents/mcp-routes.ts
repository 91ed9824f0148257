import { randomUUID } from 'node:crypto';
import type { FastifyError, FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { Server } from '@modelcontextprotocol/sdk/server/index.js';
import { StreamableHTTPServerTransport } from '@modelcontextprotocol/sdk/server/streamableHttp.js';
import { isInitializeRequest } from '@modelcontextprotocol/sdk/types.js';
import type { AgentRepository } from '../../agents/agent-repository.ts';
import type { AgentView } from '../../agents/agent-model.ts';
import { createAgentMcpServer } from '../../agents/mcp/mcp-server.ts';
import type { Caller } from '../../agents/ports.ts';
import type { Tool } from '../../agents/tool-model.ts';
import type { ToolRunner } from '../../agents/tool-runner.ts';
import type { Random } from '../../core/ids.ts';
import { isWireError } from '../../core/errors.ts';
import type { Logger } from '../../core/logger.ts';
import type { RouteModule } from '../server.ts';
import type { McpBearerVerifier } from './mcp-bearer.ts';

/**
 * `/mcp/{agent}`: each agent as a Streamable HTTP MCP server (MCP 2025-11-25, basic/transports), and its
 * RFC 9728 protected resource metadata at `/.well-known/oauth-protected-resource/mcp/{agent}`.
 *
 * Sessions live in this process (the SDK's transport holds the SSE streams); each is bound to the person
 * who initialised it and every request re-presents and re-validates the bearer token, so a stolen
 * session id alone is worthless (MCP security best practices, "Session Hijacking").
 */
export interface McpRoutesOptions {
  readonly agents: AgentRepository;
  readonly runTool: ToolRunner;
  readonly verifyBearer: McpBearerVerifier;
  /** The issuer of the agent's tenant, listed as its authorization server. */
  readonly authorizationServer: (agent: AgentView) => string;
  readonly publicUrl: () => string;
  readonly random: Random;
  readonly logger: Logger;
  /** Whether this person may use the tool (connector shared with them, shared connection visible). */
  readonly mayUse?: (caller: Caller, tool: Tool) => Promise<boolean>;
  readonly version?: string;
  readonly sessionIdleMs?: number;
  readonly maxSessions?: number;
}

interface Session {
  readonly transport: StreamableHTTPServerTransport;
  readonly server: Server;
  readonly owner: string;
  readonly agent: string;
  lastUsed: number;
}

// JSON-RPC 2.0 §5.1 codes the transport layer needs before the SDK sees the message.
const PARSE_ERROR = -32700;
const INVALID_REQUEST = -32600;
const SERVER_ERROR = -32000;

const rpcError = (code: number, message: string) => ({ jsonrpc: '2.0', error: { code, message }, id: null });

export function resourceUrl(base: string, agent: string): string {
  return `${base.replace(/\/+$/, '')}/mcp/${encodeURIComponent(agent)}`;
}

export function metadataUrl(base: string, agent: string): string {
  return `${base.replace(/\/+$/, '')}/.well-known/oauth-protected-resource/mcp/${encodeURIComponent(agent)}`;
}

function quoted(value: string): string {
  return '"' + value.replace(/[^\x20-\x7e]|["\\]/g, "'") + '"';
}

export function createMcpRoutes(options: McpRoutesOptions): RouteModule {
  const sessions = new Map<string, Session>();
  const idleMs = options.sessionIdleMs ?? 30 * 60_000;
  const maxSessions = options.maxSessions ?? 10_000;
  const ownerOf = (caller: Caller) => `${caller.tenantId}:${caller.userObjectId}`;

  const sweep = setInterval(() => {
    const now = Date.now();
    for (const [id, session] of sessions)
      if (now - session.lastUsed > idleMs) {
        sessions.delete(id);
        void session.transport.close();
      }
  }, 60_000);
  sweep.unref();

  /** RFC 6750 §3 challenge plus RFC 9728 §5.1 `resource_metadata`, so clients can find the AS. */
  function challenge(reply: FastifyReply, agent: string, error?: { code: string; description: string }) {
    const params = [
      ...(error ? [`error=${quoted(error.code)}`, `error_description=${quoted(error.description)}`] : []),
      `resource_metadata=${quoted(metadataUrl(options.publicUrl(), agent))}`,
    ];
    return reply
      .code(401)
      .header('www-authenticate', `Bearer ${params.join(', ')}`)
      .send(
        error
          ? { error: error.code, error_description: error.description }
          : { error: 'unauthorized', error_description: 'A bearer token is required.' },
      );
  }

  async function authenticate(
    request: FastifyRequest,
    reply: FastifyReply,
    agent: AgentView,
  ): Promise<Caller | undefined> {
    const header = request.headers.authorization;
    const match = typeof header === 'string' ? /^Bearer ([^\s]+)$/i.exec(header) : null;
    if (!match) {
      await challenge(reply, agent.name);
      return undefined;
    }
    try {
      return await options.verifyBearer(match[1]!, agent, resourceUrl(options.publicUrl(), agent.name));
    } catch (error) {
      if (!isWireError(error) || error.status !== 401) throw error;
      const body = error.body() as { error_description?: string };
      await challenge(reply, agent.name, {
        code: 'invalid_token',
        description: body.error_description ?? error.message,
      });
      return undefined;
    }
  }

  async function visibleTools(agent: AgentView, caller: Caller): Promise<Tool[]> {
    const tools = await options.agents.tools(agent, caller);
    if (!options.mayUse) return tools;
    const allowed = await Promise.all(tools.map((t) => options.mayUse!(caller, t)));
    return tools.filter((_, i) => allowed[i]);
  }

  async function handle(request: FastifyRequest<{ Params: { agent: string } }>, reply: FastifyReply) {
    const agent = await options.agents.get(request.params.agent);
    if (!agent) return reply.code(404).send(rpcError(INVALID_REQUEST, `No agent "${request.params.agent}".`));
    const caller = await authenticate(request, reply, agent);
    if (!caller) return reply;
    const sessionId = request.headers['mcp-session-id'];
    let session: Session | undefined;
    if (typeof sessionId === 'string') {
      session = sessions.get(sessionId);
      // Another person's (or another agent's) session reads as absent: 404 tells the client to re-initialise.
      if (!session || session.owner !== ownerOf(caller) || session.agent !== agent.name)
        return reply.code(404).send(rpcError(SERVER_ERROR, 'Session not found.'));
    } else if (request.method === 'POST' && isInitializeRequest(request.body)) {
      if (sessions.size >= maxSessions)
        return reply.code(503).send(rpcError(SERVER_ERROR, 'Too many sessions; try again later.'));
      const server = createAgentMcpServer({
        agent,
        caller,
        tools: () => visibleTools(agent, caller),
        runTool: options.runTool,
        random: options.random,
        version: options.version ?? '0.1.0',
      });
      const transport: StreamableHTTPServerTransport = new StreamableHTTPServerTransport({
        sessionIdGenerator: () => randomUUID(),
        onsessioninitialized: (id) => {
          sessions.set(id, {
            transport,
            server,
            owner: ownerOf(caller),
            agent: agent.name,
            lastUsed: Date.now(),
          });
        },
        onsessionclosed: (id) => {
          sessions.delete(id);
        },
      });
      await server.connect(transport);
      session = { transport, server, owner: ownerOf(caller), agent: agent.name, lastUsed: Date.now() };
    } else {
      return reply
        .code(400)
        .send(rpcError(INVALID_REQUEST, 'Bad Request: initialize first, then send Mcp-Session-Id.'));
    }
    session.lastUsed = Date.now();
    reply.hijack();
    try {
      await session.transport.handleRequest(request.raw, reply.raw, request.body);
    } catch (error) {
      options.logger.error('MCP request failed', { agent: agent.name, error });
      if (!reply.raw.headersSent)
        reply.raw
          .writeHead(500, { 'content-type': 'application/json' })
          .end(JSON.stringify(rpcError(-32603, 'Internal error.')));
    }
    return reply;
  }

  return (app: FastifyInstance) => {
    app.addHook('onClose', async () => {
      clearInterval(sweep);
      await Promise.all([...sessions.values()].map((s) => s.transport.close()));
      sessions.clear();
    });
    void app.register(async (scope) => {
      // Framework faults (bad JSON, wrong media type, oversized body) answered as JSON-RPC errors.
      scope.setErrorHandler((error: FastifyError, request, reply) => {
        if (isWireError(error)) return reply.code(error.status).headers(error.headers()).send(error.body());
        if (error.statusCode !== undefined && error.statusCode < 500) {
          const parse =
            error.code === 'FST_ERR_CTP_INVALID_JSON_BODY' || error.code === 'FST_ERR_CTP_EMPTY_JSON_BODY';
          return reply
            .code(error.statusCode)
            .send(
              rpcError(
                parse ? PARSE_ERROR : INVALID_REQUEST,
                parse
                  ? 'Parse error: the body is not valid JSON.'
                  : (error.message.split('\n')[0] ?? 'Invalid request.'),
              ),
            );
        }
        options.logger.error('MCP route failed', { url: request.url.split('?')[0], error });
        return reply.code(500).send(rpcError(-32603, 'Internal error.'));
      });
      scope.get<{ Params: { agent: string } }>(
        '/.well-known/oauth-protected-resource/mcp/:agent',
        async (request, reply) => {
          const agent = await options.agents.get(request.params.agent);
          if (!agent)
            return reply
              .code(404)
              .send({ error: 'not_found', message: `No agent "${request.params.agent}".` });
          const base = options.publicUrl();
          // RFC 9728 §2 and §3.3: `resource` is exactly the URL the metadata was derived from.
          return reply.header('cache-control', 'max-age=300').send({
            resource: resourceUrl(base, agent.name),
            authorization_servers: [options.authorizationServer(agent)],
            bearer_methods_supported: ['header'],
            resource_name: agent.displayName,
            ...(agent.description
              ? { resource_documentation: `${base}/chat?agent=${encodeURIComponent(agent.name)}` }
              : {}),
          });
        },
      );
      scope.post('/mcp/:agent', handle);
      scope.get('/mcp/:agent', handle);
      scope.delete('/mcp/:agent', handle);
    });
  };
}
