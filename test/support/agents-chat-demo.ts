import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Agent, request } from 'undici';
import { loadConfig } from '../../src/core/config.ts';
import { captureLogger } from '../../src/core/logger.ts';
import type { Behalf } from '../../src/main.ts';
import { startBehalf } from '../../src/main.ts';
import { BEHALF_CONNECTIONS_APP_ID } from '../../src/cli/demo/demo-tenant.ts';
import type { DemoDescription } from '../../src/cli/demo/setup.ts';
import { startDemoApis } from '../../examples/demo-apis.ts';
import type { DemoApis } from '../../examples/demo-apis.ts';
import { contosoMailPackage, prepareDemoTenant } from './gateway-demo.ts';
import type { Json } from './gateway-demo.ts';

/**
 * The demo tenant (as gateway-demo.ts builds it) with the chat agent's model pointed at a given
 * OpenAI-compatible server, the Contoso Mail connector imported and the seed's "Admin agent" created.
 */
export interface ChatDemo {
  readonly behalf: Behalf;
  readonly demo: DemoDescription;
  readonly apis: DemoApis;
  readonly dispatcher: Agent;
  readonly connectorId: string;
  readonly dataDir: string;
  readonly logs: () => string;
  password(user: 'alice' | 'bob' | 'admin'): { username: string; password: string };
  /** A token for Behalf Connections by ROPC with the Behalf Chat client. */
  userToken(user: 'alice' | 'bob' | 'admin'): Promise<string>;
  call(
    method: string,
    path: string,
    token: string | undefined,
    body?: unknown,
  ): Promise<{ status: number; body: Json }>;
  close(): Promise<void>;
}

export const GET_EMAILS_TOOL = {
  operationId: 'GetEmails',
  title: 'Get 10 latest emails',
  description: 'Gets the 10 most recent emails from the Inbox for the signed-in user.',
  fixedValues: { folder: 'inbox', $filter: 'isRead eq false', $top: 10 },
  resourceNoun: 'this mailbox',
};

export async function startChatDemo(llm: { baseUrl: string; apiKey: string } | undefined): Promise<ChatDemo> {
  const dataDir = mkdtempSync(join(tmpdir(), 'behalf-chat-demo-'));
  const capture = captureLogger();
  const behalf = await startBehalf({
    config: loadConfig(
      {
        dataDir,
        port: 0,
        host: '127.0.0.1',
        ...(llm ? { llmBaseUrl: llm.baseUrl, llmApiKey: llm.apiKey, llmModel: 'scripted-model' } : {}),
      },
      {},
    ),
    logger: capture,
  });
  const caPem = readFileSync(behalf.caCertificatePath!, 'utf8');
  const dispatcher = new Agent({ connect: { ca: caPem } });
  const demo = await prepareDemoTenant(behalf, dataDir, capture);
  const tls = join(dataDir, 'tls');
  const apis = await startDemoApis({
    issuerBaseUrl: behalf.url,
    tenantId: demo.tenantId,
    host: '127.0.0.1',
    ports: { mailApi: 0, resourceManagerApi: 0 },
    domain: 'contoso.test',
    tls: {
      cert: readFileSync(join(tls, 'server.pem'), 'utf8'),
      key: readFileSync(join(tls, 'server.key'), 'utf8'),
    },
    ca: caPem,
  });
  const created = await behalf.connections.registry.create(
    demo.tenantId,
    contosoMailPackage(behalf.url, apis.urls.mailApi),
    demo.apps['Contoso Mail Connector']!.clientSecret!,
  );
  await behalf.agents.agents.create(demo.tenantId, {
    displayName: 'Admin agent',
    instructions: 'Help people with their mail.',
    tools: [{ connectorId: created.connector.id, ...GET_EMAILS_TOOL }],
  });
  const chat = demo.apps['Behalf Chat']!;
  const account = (user: string) => demo.users.find((u) => u.username.startsWith(`${user}@`))!;
  return {
    behalf,
    demo,
    apis,
    dispatcher,
    connectorId: created.connector.id,
    dataDir,
    logs: () => capture.lines.join('\n'),
    password: (user) => account(user),
    async userToken(user) {
      const response = await request(`${behalf.url}/${demo.tenantId}/oauth2/v2.0/token`, {
        method: 'POST',
        dispatcher,
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
        body: new URLSearchParams({
          grant_type: 'password',
          client_id: chat.appId,
          client_secret: chat.clientSecret!,
          username: account(user).username,
          password: account(user).password,
          scope: `api://${BEHALF_CONNECTIONS_APP_ID}/user_impersonation`,
        }).toString(),
      });
      const body = (await response.body.json()) as Record<string, string>;
      if (response.statusCode !== 200 || !body['access_token'])
        throw new Error(`token request failed: ${JSON.stringify(body)}`);
      return body['access_token'];
    },
    async call(method, path, token, body) {
      const response = await request(`${behalf.url}${path}`, {
        method: method as 'GET',
        dispatcher,
        headers: {
          ...(token ? { authorization: `Bearer ${token}` } : {}),
          ...(body !== undefined ? { 'content-type': 'application/json' } : {}),
        },
        ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
      });
      const text = await response.body.text();
      let parsed: unknown;
      try {
        parsed = JSON.parse(text);
      } catch {
        parsed = { text };
      }
      return { status: response.statusCode, body: parsed as Json };
    },
    async close() {
      await apis.close();
      await dispatcher.close();
      await behalf.close();
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
}
