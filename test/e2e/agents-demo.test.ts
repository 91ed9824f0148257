import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { ensureDemoAgent } from '../../src/cli/demo/demo-agent.ts';
import { welcomeText } from '../../src/cli/demo/welcome.ts';
import type { GatewayDemo } from '../support/gateway-demo.ts';
import { startGatewayDemo } from '../support/gateway-demo.ts';

/**
 * What `behalf up --demo` adds for agents, on the demo tenant with the mail API running: Contoso Mail
 * imported, the "Admin agent" with "Get 10 latest emails", its MCP and chat URLs; and that it works:
 * Alice's direct-mode chat returns her unread mail. A second start changes nothing it should keep.
 */
let env: GatewayDemo;
let urls: { mcp: string; chat: string };

const setUp = () =>
  ensureDemoAgent({
    behalf: env.behalf,
    tenantId: env.demo.tenantId,
    mailApiUrl: env.apis.urls.mailApi,
    connectorSecret: env.demo.apps['Contoso Mail Connector']!.clientSecret,
  });

before(async () => {
  env = await startGatewayDemo();
  urls = await setUp();
});

after(() => env?.close());

test('the demo agent has the seed tool, delegated, Inbox / unread / top 10, and its URLs', async () => {
  assert.equal(urls.mcp, `${env.behalf.url}/mcp/admin-agent`);
  assert.equal(urls.chat, `${env.behalf.url}/chat`);
  const agent = (await env.behalf.agents.agents.get('admin-agent'))!;
  assert.equal(agent.displayName, 'Admin agent');
  const [tool] = await env.behalf.agents.agents.tools(agent);
  assert.equal(tool?.name, 'get-10-latest-emails');
  assert.equal(tool?.identity, 'delegated');
  assert.deepEqual(tool?.presetArguments, { folder: 'inbox', $filter: 'isRead eq false', $top: 10 });
  // The MCP endpoint answers as a protected resource (RFC 9728 challenge), the chat page sends to sign-in.
  const mcp = await env.call('POST', '/mcp/admin-agent', undefined, {});
  assert.equal(mcp.status, 401);
  assert.equal((await env.call('GET', '/chat', undefined)).status, 302);
});

test("Alice's direct-mode chat returns her unread mail through the imported connector", async () => {
  const response = await env.call('POST', '/chat/api/conversations', await env.userToken('alice'), {
    agent: 'admin-agent',
    text: '/get-10-latest-emails',
  });
  assert.equal(response.status, 200, response.text);
  const last = (response.body.entries as { text: string; problem?: unknown }[]).at(-1)!;
  assert.equal(last.problem, undefined, last.text);
  assert.match(last.text, /alice@contoso\.test/);
});

test('a second start keeps one connector and the agent as it was; the welcome names both URLs', async () => {
  const before = (await env.behalf.agents.agents.get('admin-agent'))!;
  await setUp();
  const connectors = await env.behalf.connections.registry.list(env.demo.tenantId);
  assert.equal(connectors.filter((c) => c.displayName === 'Contoso Mail').length, 1);
  assert.equal((await env.behalf.agents.agents.get('admin-agent'))!.version, before.version);
  const text = welcomeText({ ...env.demo, urls: { ...env.demo.urls, ...urls } }, 'demo.json');
  assert.match(
    text,
    new RegExp(`Chat with the Admin agent: ${urls.chat.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&')}`),
  );
  assert.ok(text.includes(`MCP server for any MCP client: ${urls.mcp}`));
});
