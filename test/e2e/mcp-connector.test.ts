import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { createServer } from 'node:net';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { after, before, test } from 'node:test';
import type { Client } from '@modelcontextprotocol/sdk/client/index.js';
import type { Browser } from 'playwright-core';
import { request } from 'undici';
import { BEHALF_CONNECTIONS_APP_ID } from '../../src/cli/demo/demo-tenant.ts';
import { launchBrowser } from '../support/browser.ts';
import type { GatewayDemo, Json } from '../support/gateway-demo.ts';
import { startGatewayDemo } from '../support/gateway-demo.ts';
import {
  registerToolsApps,
  TOOLS_API_APP_ID,
  TOOLS_IDENTIFIER_URI,
  TOOLS_SCOPE,
} from '../support/mcp-external-apps.ts';
import type { ExternalMcpServer } from '../support/mcp-external-server.ts';
import { startExternalMcpServer } from '../support/mcp-external-server.ts';
import { signedInMcpClient } from '../support/mcp-external-signin.ts';

/**
 * Issue 8's done-when for MCP servers as connectors: an external MCP server (written here with the SDK,
 * protected by Behalf) is onboarded as a connector and its tools are callable through /mcp/{agent} with
 * per-user tokens: Alice's call reaches the server with a token for the server, issued for Alice; Bob's
 * with Bob's; the server never sees a token for Behalf or for the agent. Also: servers without
 * authentication and with an API key, generic OAuth with dynamic client registration, the consent card,
 * the gateway's remediation texts, the audit, the chat's direct mode, the CLI, and precise errors.
 */
const BIN = fileURLToPath(new URL('../../bin/behalf.js', import.meta.url));
const REDIRECT = 'http://localhost:53691/callback';
const API_KEY = 'k-3f9a1c2e7b';
const PATH = '/v1.0/behalf/connectors/mcp';

let env: GatewayDemo;
let server: ExternalMcpServer;
let browser: Browser;
let manage: string;
let connector: { clientId: string; secret: string };
const ids: Record<'oauth' | 'open' | 'keyed' | 'generic', string> = {
  oauth: '',
  open: '',
  keyed: '',
  generic: '',
};
const clients: Partial<Record<'alice' | 'bob', Client>> = {};

const account = (user: string) => env.demo.users.find((u) => u.username.startsWith(`${user}@`))!;
const api = (method: string, path: string, body?: unknown) => env.call(method, path, manage, body);
const textOf = (result: unknown) =>
  (((result as { content?: unknown }).content ?? []) as { text?: string }[])
    .map((c) => c.text ?? '')
    .join('\n');

before(async () => {
  env = await startGatewayDemo();
  const { connectorClientId, connectorSecret } = await registerToolsApps(env.behalf, env.demo.tenantId);
  connector = { clientId: connectorClientId, secret: connectorSecret };
  const tls = join(env.dataDir, 'tls');
  server = await startExternalMcpServer({
    tls: {
      cert: readFileSync(join(tls, 'server.pem'), 'utf8'),
      key: readFileSync(join(tls, 'server.key'), 'utf8'),
    },
    ca: readFileSync(env.behalf.caCertificatePath!, 'utf8'),
    authority: `${env.behalf.url}/${env.demo.tenantId}`,
    audiences: [TOOLS_API_APP_ID, TOOLS_IDENTIFIER_URI],
    scopes: [TOOLS_SCOPE],
    apiKey: API_KEY,
  });
  const admin = env.behalf.adminCredential;
  const token = await request(`${env.behalf.url}/${env.demo.tenantId}/oauth2/v2.0/token`, {
    method: 'POST',
    dispatcher: env.dispatcher,
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({
      grant_type: 'client_credentials',
      client_id: admin.clientId,
      client_secret: admin.clientSecret,
      scope: 'https://graph.microsoft.com/.default',
    }).toString(),
  });
  manage = ((await token.body.json()) as { access_token: string }).access_token;
  browser = await launchBrowser();
});

after(async () => {
  for (const client of Object.values(clients)) await client?.close();
  await browser?.close();
  await server?.close();
  await env?.close();
});

async function closedPort(): Promise<number> {
  const probe = createServer();
  await new Promise<void>((resolve) => probe.listen(0, '127.0.0.1', resolve));
  const { port } = probe.address() as AddressInfo;
  await new Promise((resolve) => probe.close(resolve));
  return port;
}

test('bad registrations get precise answers and leave no connector behind', async () => {
  const before = (await api('GET', '/v1.0/behalf/connectors')).body.value.length as number;
  const cases: [unknown, number, string, RegExp][] = [
    [{ url: 'not a url' }, 400, 'InvalidMcpServerUrl', /is not an absolute URL/],
    [{ url: 'ftp://tools.contoso.test/mcp' }, 400, 'InvalidMcpServerUrl', /must be https/],
    [{ url: 'http://tools.contoso.test/mcp' }, 400, 'InvalidMcpServerUrl', /only accepted for localhost/],
    [{ url: `${server.url}/mcp?tenant=1` }, 400, 'InvalidMcpServerUrl', /query or a fragment/],
    [{ url: `${server.url}/mcp`, auth: { type: 'basic' } }, 400, 'InvalidMcpServer', /\/auth/],
    [{ url: `${server.url}/nothing-here` }, 422, 'NotAnMcpServer', /HTTP 404/],
    [{ url: `${server.url}/mcp` }, 400, 'McpServerRequiresAuthentication', /401/],
    [
      { url: `${server.url}/keyed/mcp`, auth: { type: 'apiKey', value: 'wrong-key' } },
      400,
      'ApiKeyRefused',
      /refused the API key \(HTTP 401\)/,
    ],
    [
      { url: `${server.url}/mcp`, auth: { type: 'oauth' } },
      400,
      'ClientIdRequired',
      /Entra-shaped identity provider/,
    ],
  ];
  for (const [body, status, code, message] of cases) {
    const answer = await api('POST', PATH, body);
    assert.equal(answer.status, status, `${JSON.stringify(body)}: ${answer.text}`);
    assert.equal(answer.body.error.code, code, answer.text);
    assert.match(answer.body.error.message, message);
  }
  const port = await closedPort();
  const down = await api('POST', PATH, { url: `https://127.0.0.1:${port}/mcp` });
  assert.equal(down.status, 502, down.text);
  assert.equal(down.body.error.code, 'McpServerUnreachable');
  assert.match(down.body.error.message, new RegExp(`127\\.0\\.0\\.1:${port}`));
  const anonymous = await env.call('POST', PATH, undefined, { url: `${server.url}/open/mcp` });
  assert.equal(anonymous.status, 401);
  const chatToken = await env.userToken('alice');
  assert.equal((await env.call('POST', PATH, chatToken, { url: `${server.url}/open/mcp` })).status, 401);
  assert.equal((await api('GET', '/v1.0/behalf/connectors')).body.value.length, before);
});

test('the Behalf-protected server: OAuth discovery finds Behalf, the connector is Entra ID with on-behalf-of', async () => {
  const created = await api('POST', PATH, {
    url: `${server.url}/mcp`,
    displayName: 'Contoso Tools',
    description: 'Team tools: who am I, payroll.',
    auth: { type: 'oauth', clientId: connector.clientId, clientSecret: connector.secret },
  });
  assert.equal(created.status, 201, created.text);
  ids.oauth = created.body.id;
  assert.equal(created.body.hasClientSecret, true);
  assert.ok(!created.text.includes(connector.secret));
  assert.deepEqual(created.body.mcp.auth, {
    type: 'oauth',
    identityProvider: 'aad',
    clientId: connector.clientId,
    dynamicClientRegistration: false,
    scopes: [TOOLS_SCOPE],
    authorizationServer: `${env.behalf.url}/${env.demo.tenantId}/v2.0`,
  });
  assert.equal(created.body.mcp.tools, undefined, 'tools are listed per person');
  const pkg = await api('GET', `/v1.0/behalf/connectors/${ids.oauth}/package`);
  const definition = JSON.parse(pkg.body.apiDefinition) as Json;
  const post = definition.paths['/mcp'].post;
  assert.equal(post['x-ms-agentic-protocol'], 'mcp-streamable-1.0');
  assert.equal(post.operationId, 'InvokeMCP');
  assert.equal(definition.host, new URL(server.url).host);
  const settings = JSON.parse(pkg.body.apiProperties).properties.connectionParameters.token.oAuthSettings;
  assert.equal(settings.identityProvider, 'aad');
  assert.equal(settings.customParameters.enableOnbehalfOfLogin.value, 'true');
  assert.equal(settings.customParameters.resourceUri.value, TOOLS_IDENTIFIER_URI);
});

test('no authentication and an API key: a shared connection, and the tools listed at registration', async () => {
  const open = await api('POST', PATH, { url: `${server.url}/open/mcp` });
  assert.equal(open.status, 201, open.text);
  ids.open = open.body.id;
  assert.equal(open.body.displayName, 'Contoso open tools', 'the server’s own title');
  assert.deepEqual(
    (open.body.mcp.tools as { name: string }[]).map((t) => t.name),
    ['echo'],
  );
  assert.equal(typeof open.body.mcp.connectionId, 'string');

  const keyed = await api('POST', PATH, {
    url: `${server.url}/keyed/mcp`,
    displayName: 'Contoso Stamps',
    auth: { type: 'apiKey', name: 'x-api-key', value: API_KEY },
  });
  assert.equal(keyed.status, 201, keyed.text);
  ids.keyed = keyed.body.id;
  assert.ok(!keyed.text.includes(API_KEY), 'the key is write-only');
  assert.deepEqual(keyed.body.mcp.auth, { type: 'apiKey', in: 'header', name: 'x-api-key' });
  assert.deepEqual(
    (keyed.body.mcp.tools as { name: string }[]).map((t) => t.name),
    ['stamp'],
  );
  const store = readFileSync(join(env.dataDir, 'behalf.db'));
  assert.equal(store.includes(Buffer.from(API_KEY)), false, 'the key is sealed in the vault');
});

test('another OAuth server: discovery (RFC 9728, RFC 8414) and dynamic client registration (RFC 7591)', async () => {
  const created = await api('POST', PATH, {
    url: `${server.url}/generic/mcp`,
    displayName: 'Generic tools',
    auth: { type: 'oauth' },
  });
  assert.equal(created.status, 201, created.text);
  ids.generic = created.body.id;
  assert.equal(created.body.mcp.auth.identityProvider, 'oauth2');
  assert.equal(created.body.mcp.auth.clientId, 'dcr-client-1');
  assert.equal(created.body.mcp.auth.dynamicClientRegistration, true);
  assert.deepEqual(created.body.mcp.auth.scopes, ['tools.read']);
  assert.equal(created.body.hasClientSecret, true);
  assert.ok(!created.text.includes('dcr-secret-1'));
  const registration = server.registrations.at(-1)!;
  assert.deepEqual(registration['redirect_uris'], [created.body.redirectUrl]);
  assert.equal(registration['token_endpoint_auth_method'], 'client_secret_post');
  const pkg = await api('GET', `/v1.0/behalf/connectors/${ids.generic}/package`);
  const settings = JSON.parse(pkg.body.apiProperties).properties.connectionParameters.token.oAuthSettings;
  assert.equal(settings.clientId, 'dcr-client-1');
  assert.equal(settings.customParameters.tokenUrl.value, `${server.url}/as/token`);
  assert.equal(settings.customParameters.authorizationUrl.value, `${server.url}/as/authorize`);
});

test('an agent with the servers as tools: makers see each server as one stand-in', async () => {
  const created = await api('POST', '/v1.0/behalf/agents', {
    displayName: 'Tools agent',
    instructions: 'Use the team tools for the signed-in person.',
    tools: [
      // Each server's stand-in needs its own name (its tools keep the server's names).
      {
        connectorId: ids.oauth,
        operationId: 'InvokeMCP',
        name: 'contoso-tools',
        resourceNoun: 'the payroll',
      },
      { connectorId: ids.open, operationId: 'InvokeMCP', name: 'open-tools' },
      { connectorId: ids.keyed, operationId: 'InvokeMCP', name: 'stamp-it', mcpTool: 'stamp' },
      { connectorId: ids.generic, operationId: 'InvokeMCP', name: 'connect-generic' },
    ],
  });
  assert.equal(created.status, 201, JSON.stringify(created.body));
  const tools = await api('GET', '/v1.0/behalf/agents/tools-agent/tools');
  assert.equal(tools.status, 200);
  assert.deepEqual(
    (tools.body.value as { title: string }[]).map((t) => t.title),
    [
      'Connect to Contoso Tools',
      'Connect to Contoso open tools',
      'Connect to Contoso Stamps',
      'Connect to Generic tools',
    ],
  );
});

test('Alice over MCP: the server’s tools, and whoami says Alice, with a token for the server', async () => {
  const alice = account('alice');
  const { client } = await signedInMcpClient({
    browser,
    dispatcher: env.dispatcher,
    mcpUrl: `${env.behalf.url}/mcp/tools-agent`,
    redirect: REDIRECT,
    username: alice.username,
    password: alice.password,
  });
  clients.alice = client;
  const listed = await client.listTools();
  assert.deepEqual(
    listed.tools.map((t) => t.name),
    ['whoami', 'payroll', 'echo', 'stamp-it', 'connect-generic'],
  );
  assert.equal(listed.tools.find((t) => t.name === 'whoami')!.annotations?.readOnlyHint, true);

  const whoami = await client.callTool({ name: 'whoami', arguments: {} });
  assert.notEqual(whoami.isError, true, textOf(whoami));
  const who = whoami.structuredContent as { upn: string; oid: string; aud: string };
  assert.equal(who.upn, alice.username);
  assert.equal(who.aud, TOOLS_API_APP_ID);

  const payroll = await client.callTool({ name: 'payroll', arguments: { month: '2026-01' } });
  assert.notEqual(payroll.isError, true, textOf(payroll));
  assert.deepEqual(payroll.structuredContent, { month: '2026-01', total: 42 });

  const invalid = await client.callTool({ name: 'payroll', arguments: { month: 'January' } });
  assert.equal(invalid.isError, true);
  assert.match(textOf(invalid), /month must match/);

  const echo = await client.callTool({ name: 'echo', arguments: { text: 'hello' } });
  assert.equal(textOf(echo), '"hello"');
  const stamped = await client.callTool({ name: 'stamp-it', arguments: { document: 'memo' } });
  assert.match(textOf(stamped), /stamped: memo/);
});

test('Bob over MCP: whoami says Bob; the server’s 403 becomes the permission message', async () => {
  const bob = account('bob');
  const { client } = await signedInMcpClient({
    browser,
    dispatcher: env.dispatcher,
    mcpUrl: `${env.behalf.url}/mcp/tools-agent`,
    redirect: REDIRECT,
    username: bob.username,
    password: bob.password,
  });
  clients.bob = client;
  const whoami = await client.callTool({ name: 'whoami', arguments: {} });
  assert.equal((whoami.structuredContent as { upn: string }).upn, bob.username);
  const payroll = await client.callTool({ name: 'payroll', arguments: {} });
  assert.equal(payroll.isError, true);
  assert.match(textOf(payroll), /You might not have access to the payroll\./);
});

test('a server whose people sign in themselves: the stand-in answers with the consent card', async () => {
  const result = await clients.alice!.callTool({ name: 'connect-generic', arguments: {} });
  assert.equal(result.isError, true);
  const card = (result.structuredContent as { consentRequired: { url: string; connector: string } })
    .consentRequired;
  assert.ok(card.url.startsWith(`${env.behalf.url}/consent/${ids.generic}?ticket=`), card.url);
  assert.match(textOf(result), /Open this link to connect/);
});

test('the server saw only tokens issued for it, each for the person calling; keyed and open servers no token', () => {
  const protectedCalls = server.seen.filter((s) => s.path === '/mcp' && s.hadAuthorization);
  assert.ok(protectedCalls.length >= 4);
  for (const seen of protectedCalls) {
    assert.equal(seen.aud, TOOLS_API_APP_ID, JSON.stringify(seen));
    assert.notEqual(seen.aud, BEHALF_CONNECTIONS_APP_ID);
    assert.ok(!String(seen.aud).includes('/mcp/'), 'never the agent’s own audience');
  }
  const whoamis = protectedCalls.filter((s) => s.tool === 'whoami').map((s) => s.upn);
  assert.deepEqual(whoamis, [account('alice').username, account('bob').username]);
  for (const seen of server.seen.filter((s) => s.path === '/open/mcp' || s.path === '/keyed/mcp'))
    assert.equal(seen.hadAuthorization, false, JSON.stringify(seen));
  assert.ok(
    server.seen
      .filter((s) => s.path === '/keyed/mcp' && s.tool === 'stamp')
      .every((s) => s.apiKey === API_KEY),
  );
});

test('every call is audited like a gateway invocation, with the person and the delegated scope', async () => {
  const { entries } = await env.behalf.connections.services.audit.query({
    tenantId: env.demo.tenantId,
    connectorId: ids.oauth,
  });
  const calls = entries.filter((e) => e.operationId.startsWith('InvokeMCP/tools/call/'));
  const alice = calls.find(
    (e) => e.callerUpn === account('alice').username && e.operationId.endsWith('/whoami'),
  );
  assert.equal(alice?.outcome, 'success');
  assert.equal(alice?.mode, 'delegated');
  assert.deepEqual(alice?.scopes, ['Tools.Read']);
  const bob = calls.find(
    (e) => e.callerUpn === account('bob').username && e.operationId.endsWith('/payroll'),
  );
  assert.equal(bob?.outcome, 'upstream-error');
  assert.equal(bob?.upstreamStatus, 403);
  assert.ok(entries.every((e) => e.connectionId !== undefined));
  const runs = await env.behalf.agents.history.list(
    { tenantId: env.demo.tenantId, userObjectId: 'admin', isAdministrator: true },
    { agent: 'tools-agent' },
  );
  assert.ok(
    runs.some(
      (r) => r.tool === 'whoami' && r.userName === account('alice').username && r.outcome === 'succeeded',
    ),
  );
  assert.ok(
    runs.some(
      (r) => r.tool === 'payroll' && r.userName === account('bob').username && r.outcome === 'forbidden',
    ),
  );
});

test('the chat runtime shows and runs the server’s tools as the person chatting (direct mode)', async () => {
  const token = await env.userToken('bob');
  const reply = await env.call('POST', '/chat/api/conversations', token, {
    agent: 'tools-agent',
    text: '/whoami',
  });
  assert.equal(reply.status, 200, reply.text);
  const said = JSON.stringify(reply.body);
  assert.match(said, new RegExp(account('bob').username.replace('.', '\\.')));
  assert.doesNotMatch(said, new RegExp(account('alice').username.replace('.', '\\.')));
});

test('behalf connector add-mcp registers a server from the command line', async () => {
  const clean = Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith('BEHALF_')));
  const cli = (...args: string[]) =>
    new Promise<{ code: number; stdout: string; stderr: string }>((resolve) =>
      execFile(
        process.execPath,
        [BIN, 'connector', 'add-mcp', ...args, '--data-dir', env.dataDir, '--tenant', env.demo.tenantId],
        { env: { ...clean, BEHALF_MCP_API_KEY: API_KEY }, timeout: 60_000 },
        (error, stdout, stderr) =>
          resolve({ code: error ? (typeof error.code === 'number' ? error.code : 99) : 0, stdout, stderr }),
      ),
    );
  const added = await cli(
    `${server.url}/keyed/mcp`,
    '--auth',
    'apikey',
    '--key-name',
    'x-api-key',
    '--name',
    'Stamps (CLI)',
  );
  assert.equal(added.code, 0, added.stderr);
  assert.match(added.stdout, /Stamps \(CLI\)/);
  assert.match(added.stdout, /stamp/);
  assert.ok(!added.stdout.includes(API_KEY));
  const refused = await cli(`${server.url}/mcp`, '--auth', 'oauth');
  assert.equal(refused.code, 1);
  assert.match(refused.stderr, /ClientIdRequired/);
  const usage = await cli(`${server.url}/open/mcp`, '--auth', 'magic');
  assert.equal(usage.code, 2);
  assert.match(usage.stderr, /--auth must be one of none, apikey, oauth/);
});
