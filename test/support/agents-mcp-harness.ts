import type { AddressInfo } from 'node:net';
import { createAgentRepository } from '../../src/agents/agent-repository.ts';
import type { Caller, InvokeTool, ToolInvocation } from '../../src/agents/ports.ts';
import { createRunHistory } from '../../src/agents/run-history.ts';
import type { RunHistory } from '../../src/agents/run-history.ts';
import { createToolRunner } from '../../src/agents/tool-runner.ts';
import { systemClock } from '../../src/core/clock.ts';
import { cryptoRandom } from '../../src/core/ids.ts';
import { silentLogger } from '../../src/core/logger.ts';
import { createMcpBearerVerifier } from '../../src/http/agents/mcp-bearer.ts';
import { createMcpRoutes } from '../../src/http/agents/mcp-routes.ts';
import { createHttpServer } from '../../src/http/server.ts';
import type { FastifyInstance } from 'fastify';
import { contosoMail, createMemoryStore } from './agents-fixtures.ts';
import type { TestIssuer } from './easyauth-test-issuer.ts';

/**
 * The MCP endpoint alone over real HTTP (Fastify + the SDK's Streamable HTTP transport), with tokens
 * from the Entra-shaped test issuer and the connector call behind the InvokeTool port: a recorder that
 * answers like the Contoso Mail API would (Alice's mail, Bob's 403, consent for anyone not connected).
 * Once the gateway's invoke is committed, the full-stack test runs against startBehalf instead.
 */
export interface McpHarness {
  readonly url: string;
  readonly http: FastifyInstance;
  readonly history: RunHistory;
  readonly calls: { caller: Caller; invocation: ToolInvocation }[];
  readonly connected: Set<string>;
  close(): Promise<void>;
}

export async function startMcpHarness(issuer: TestIssuer): Promise<McpHarness> {
  const store = createMemoryStore();
  const clock = systemClock;
  const mail = contosoMail();
  const agents = createAgentRepository({
    store,
    clock,
    loadConnector: async (_t, id) => (id === 'mail' ? mail : undefined),
  });
  const history = createRunHistory({ store, clock, random: cryptoRandom });
  const calls: { caller: Caller; invocation: ToolInvocation }[] = [];
  const connected = new Set<string>();
  const invoke: InvokeTool = async (caller, invocation) => {
    calls.push({ caller, invocation });
    if (!connected.has(caller.userObjectId))
      return {
        kind: 'consent-required',
        card: {
          connectorId: 'mail',
          connectorName: 'Contoso Mail',
          url: `${issuer.url}/consent/mail?user=${caller.userObjectId}`,
          message: 'Connect Contoso Mail to continue.',
        },
      };
    if (caller.userPrincipalName?.startsWith('bob@'))
      return {
        kind: 'failed',
        status: 403,
        code: 'ErrorAccessDenied',
        message: 'Access is denied.',
        connectionId: 'conn-bob',
      };
    return {
      kind: 'ok',
      status: 200,
      body: { value: [{ subject: 'Quarterly numbers', isRead: false }] },
      connectionId: `conn-${caller.userObjectId}`,
    };
  };
  const runTool = createToolRunner({ invoke, history, clock });
  await agents.create(issuer.tenantId, {
    displayName: 'Admin agent',
    instructions: 'Help the signed-in person with their mail.',
    tools: [
      {
        connectorId: 'mail',
        operationId: 'GetEmails',
        title: 'Get 10 latest emails',
        description: 'Gets the 10 most recent emails from the Inbox for the signed-in user.',
        fixedValues: { folder: 'inbox', $filter: 'isRead eq false', $top: 10 },
        resourceNoun: 'this mailbox',
      },
      {
        name: 'send-email',
        connectorId: 'mail',
        operationId: 'SendEmail',
        identity: 'app-only',
        connectionId: 'shared-mail',
      },
    ],
  });
  let base = '';
  const http = await createHttpServer({
    logger: silentLogger,
    routes: [
      createMcpRoutes({
        agents,
        runTool,
        verifyBearer: createMcpBearerVerifier({ authority: () => issuer.url }),
        authorizationServer: (agent) => `${issuer.url}/${agent.tenantId}/v2.0`,
        publicUrl: () => base,
        random: cryptoRandom,
        logger: silentLogger,
      }),
    ],
  });
  await http.listen({ port: 0, host: '127.0.0.1' });
  base = `http://127.0.0.1:${(http.server.address() as AddressInfo).port}`;
  return { url: base, http, history, calls, connected, close: () => http.close() };
}
