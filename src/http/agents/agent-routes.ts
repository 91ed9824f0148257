import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { AgentRepository } from '../../agents/agent-repository.ts';
import type { ChatRuntime } from '../../agents/chat-runtime.ts';
import type { Caller } from '../../agents/ports.ts';
import type { RunHistory } from '../../agents/run-history.ts';
import { WireError } from '../../core/errors.ts';
import type { RouteModule } from '../server.ts';

/**
 * The agents management API (makers: `behalf agent …`), run history (each person their own runs,
 * administrators everyone's) and the chat API the /chat page and other clients use. Who is calling
 * comes from injected verifiers: the management bearer for makers, the signed-in person for chat.
 */
export interface AgentRoutesOptions {
  readonly agents: AgentRepository;
  readonly history: RunHistory;
  readonly chat: ChatRuntime;
  /** A maker or administrator of the tenant (management bearer); throws a 401/403 WireError otherwise. */
  readonly authorizeMaker: (request: FastifyRequest) => Promise<{ tenantId: string }>;
  /** The signed-in person (Easy Auth session or bearer); throws a 401 WireError otherwise. */
  readonly authenticateUser: (request: FastifyRequest) => Promise<Caller>;
}

export const AGENTS_PATH = '/v1.0/behalf/agents';
export const RUNS_PATH = '/v1.0/behalf/runs';
export const CHAT_API_PATH = '/chat/api/conversations';

class BadRequest extends WireError {
  readonly status = 400;
  body() {
    return { error: { code: 'BadRequest', message: this.message } };
  }
}

const DECISIONS = ['confirm', 'cancel', 'retry'] as const;

function field(body: unknown, name: string): unknown {
  return typeof body === 'object' && body !== null ? (body as Record<string, unknown>)[name] : undefined;
}

function text(body: unknown, name: string, max = 20_000): string {
  const value = field(body, name);
  if (typeof value !== 'string' || value.trim() === '' || value.length > max)
    throw new BadRequest(`"${name}" must be a non-empty string of at most ${max} characters.`);
  return value;
}

export function createAgentRoutes(options: AgentRoutesOptions): RouteModule {
  const { agents, history, chat } = options;
  return (app: FastifyInstance) => {
    app.get(AGENTS_PATH, async (request) => {
      const { tenantId } = await options.authorizeMaker(request);
      return { value: await agents.list(tenantId) };
    });
    app.post(AGENTS_PATH, async (request, reply) => {
      const { tenantId } = await options.authorizeMaker(request);
      const agent = await agents.create(tenantId, request.body);
      return reply.code(201).header('location', `${AGENTS_PATH}/${agent.name}`).send(agent);
    });
    app.get<{ Params: { name: string } }>(`${AGENTS_PATH}/:name`, async (request, reply) => {
      const { tenantId } = await options.authorizeMaker(request);
      const agent = await agents.getInTenant(tenantId, request.params.name);
      return reply.header('etag', `"${agent.version}"`).send(agent);
    });
    app.put<{ Params: { name: string } }>(`${AGENTS_PATH}/:name`, async (request) => {
      const { tenantId } = await options.authorizeMaker(request);
      const ifMatch = /^"(\d+)"$/.exec(request.headers['if-match'] ?? '')?.[1];
      return agents.replace(
        tenantId,
        request.params.name,
        request.body,
        ifMatch !== undefined ? Number(ifMatch) : undefined,
      );
    });
    app.delete<{ Params: { name: string } }>(`${AGENTS_PATH}/:name`, async (request, reply) => {
      const { tenantId } = await options.authorizeMaker(request);
      await agents.delete(tenantId, request.params.name);
      return reply.code(204).send();
    });
    app.get<{ Params: { name: string } }>(`${AGENTS_PATH}/:name/tools`, async (request) => {
      const { tenantId } = await options.authorizeMaker(request);
      const tools = await agents.tools(await agents.getInTenant(tenantId, request.params.name));
      // The resolved view: what an MCP client or the model sees, plus how each tool runs.
      return {
        value: tools.map(({ operation: _operation, ...tool }) => tool),
      };
    });

    app.get<{ Querystring: { agent?: string; before?: string; top?: string } }>(
      RUNS_PATH,
      async (request) => {
        const viewer = await options.authenticateUser(request);
        const top = request.query.top !== undefined ? Number(request.query.top) : undefined;
        if (top !== undefined && !(Number.isInteger(top) && top > 0 && top <= 500))
          throw new BadRequest('"top" must be an integer from 1 to 500.');
        return {
          value: await history.list(viewer, {
            ...(request.query.agent !== undefined ? { agent: request.query.agent } : {}),
            ...(request.query.before !== undefined ? { before: request.query.before } : {}),
            ...(top !== undefined ? { limit: top } : {}),
          }),
        };
      },
    );

    app.post(CHAT_API_PATH, async (request) => {
      const caller = await options.authenticateUser(request);
      const conversationId = field(request.body, 'conversationId');
      if (conversationId !== undefined && typeof conversationId !== 'string')
        throw new BadRequest('"conversationId" must be a string.');
      return chat.send(caller, {
        agent: text(request.body, 'agent', 63),
        text: text(request.body, 'text'),
        ...(conversationId !== undefined ? { conversationId } : {}),
      });
    });
    app.get<{ Params: { id: string } }>(`${CHAT_API_PATH}/:id`, async (request) =>
      chat.get(await options.authenticateUser(request), request.params.id),
    );
    app.post<{ Params: { id: string } }>(`${CHAT_API_PATH}/:id/decisions`, async (request) => {
      const caller = await options.authenticateUser(request);
      const decision = field(request.body, 'decision');
      if (!DECISIONS.includes(decision as (typeof DECISIONS)[number]))
        throw new BadRequest(`"decision" must be one of ${DECISIONS.join(', ')}.`);
      return chat.decide(caller, {
        conversationId: request.params.id,
        pendingId: text(request.body, 'pendingId', 100),
        decision: decision as (typeof DECISIONS)[number],
      });
    });
  };
}
