import type { Agent } from 'undici';
import type { Behalf } from '../../src/main.ts';
import type { DemoDescription } from '../../src/cli/demo/setup.ts';
import type { DemoApis } from '../../examples/demo-apis.ts';
import { contosoMailPackage, startGatewayDemo } from './gateway-demo.ts';
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
  const env = await startGatewayDemo(
    llm ? { llmBaseUrl: llm.baseUrl, llmApiKey: llm.apiKey, llmModel: 'scripted-model' } : {},
  );
  const { behalf, demo } = env;
  const created = await behalf.connections.registry.create(
    demo.tenantId,
    contosoMailPackage(behalf.url, env.apis.urls.mailApi),
    demo.apps['Contoso Mail Connector']!.clientSecret!,
  );
  await behalf.agents.agents.create(demo.tenantId, {
    displayName: 'Admin agent',
    instructions: 'Help people with their mail.',
    tools: [{ connectorId: created.connector.id, ...GET_EMAILS_TOOL }],
  });
  return {
    ...env,
    connectorId: created.connector.id,
    password: (user) => demo.users.find((u) => u.username.startsWith(`${user}@`))!,
  };
}
