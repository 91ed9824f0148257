import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { UnauthorizedError } from '@modelcontextprotocol/sdk/client/auth.js';
import type { Browser } from 'playwright-core';
import { Agent, fetch as undiciFetch } from 'undici';
import type { DemoDescription } from '../../src/cli/demo/setup.ts';
import type { Behalf } from '../../src/main.ts';
import { acceptConsent, captureRedirect, launchBrowser, newContext, signIn } from '../support/browser.ts';
import { InMemoryOAuthProvider } from '../support/agents-mcp-oauth.ts';
import { startMcpAgentsBehalf } from '../support/agents-mcp-behalf.ts';

/**
 * The done-when of issue 8, as far as the authorization goes: the official MCP SDK client, unmodified,
 * with its OAuth client provider, discovers Behalf from the 401 (RFC 9728), finds the authorization
 * server metadata (RFC 8414), registers itself (RFC 7591), sends the person through Behalf's sign-in
 * and consent pages in Chromium with PKCE and `resource` (RFC 8707), and gets a token whose audience is
 * exactly the agent's MCP URL; then lists and calls tools as that person.
 */
let behalf: Behalf;
let demo: DemoDescription;
let dataDir: string;
let browser: Browser;
let dispatcher: Agent;
let mcpUrl: string;
/** The text of the last consent page `authorize` accepted. */
let lastConsentPage = '';

const REDIRECT = 'http://localhost:53682/callback';

function password(user: string): string {
  const found = demo.users.find((u) => u.username.startsWith(`${user}@`));
  assert.ok(found, `demo user ${user}`);
  return found.password;
}

const claims = (token: string) =>
  JSON.parse(Buffer.from(token.split('.')[1]!, 'base64url').toString('utf8')) as Record<string, unknown>;

before(async () => {
  dataDir = mkdtempSync(join(tmpdir(), 'behalf-mcp-oauth-'));
  ({ behalf, demo } = await startMcpAgentsBehalf(dataDir, ['Admin agent', 'Other agent']));
  mcpUrl = `${behalf.url}/mcp/admin-agent`;
  dispatcher = new Agent({ connect: { ca: readFileSync(join(dataDir, 'tls', 'ca.pem'), 'utf8') } });
  browser = await launchBrowser();
});

after(async () => {
  await browser?.close();
  await dispatcher?.close();
  await behalf?.close();
  rmSync(dataDir, { recursive: true, force: true });
});

// The SDK takes a fetch; this one trusts Behalf's local CA (the SDK itself is unchanged).
const tlsFetch = ((url: string | URL, init?: RequestInit) =>
  undiciFetch(url, { ...(init as object), dispatcher })) as unknown as typeof fetch;

async function authorize(user: string): Promise<InMemoryOAuthProvider> {
  const provider = new InMemoryOAuthProvider(REDIRECT);
  const first = new StreamableHTTPClientTransport(new URL(mcpUrl), {
    authProvider: provider,
    fetch: tlsFetch,
  });
  await assert.rejects(
    new Client({ name: 'test-host', version: '1.0.0' }).connect(first),
    (error: unknown) => error instanceof UnauthorizedError,
  );
  const url = provider.authorizationUrl;
  assert.ok(url, 'the SDK asked to open an authorization URL');
  assert.equal(url.searchParams.get('resource'), mcpUrl);
  assert.equal(url.searchParams.get('code_challenge_method'), 'S256');
  const context = await newContext(browser);
  const page = await context.newPage();
  const back = await captureRedirect(page, REDIRECT, async () => {
    await page.goto(url.toString());
    await signIn(page, `${user}@${demo.users[0]!.username.split('@')[1]}`, password(user));
    if (await page.getByRole('button', { name: 'Accept' }).count()) {
      lastConsentPage = await page.locator('body').innerText();
      await acceptConsent(page);
    }
  });
  await context.close();
  const code = back.searchParams.get('code');
  assert.ok(code, `a code came back (${back.searchParams.get('error_description') ?? ''})`);
  await first.finishAuth(code);
  return provider;
}

async function connect(provider: InMemoryOAuthProvider, url = mcpUrl): Promise<Client> {
  const client = new Client({ name: 'test-host', version: '1.0.0' });
  await client.connect(
    new StreamableHTTPClientTransport(new URL(url), { authProvider: provider, fetch: tlsFetch }),
  );
  return client;
}

let alice: InMemoryOAuthProvider;

test('the SDK discovers, registers, signs Alice in with PKCE and resource, and gets a token for exactly this agent', async () => {
  alice = await authorize('alice');
  const token = alice.tokens()?.access_token;
  assert.ok(token);
  const c = claims(token);
  assert.equal(c.aud, mcpUrl);
  assert.equal(c.tid, demo.tenantId);
  assert.equal(c.upn, demo.users.find((u) => u.username.startsWith('alice@'))!.username);
  // Registered by RFC 7591: a public client, no secret handed out.
  const info = alice.clientInformation() as { client_id: string; client_secret?: string };
  assert.ok(info.client_id);
  assert.equal(info.client_secret, undefined);
  assert.ok(alice.tokens()?.refresh_token, 'offline_access: the host can renew silently');
  // A client that registered itself is shown as unverified, not as published by the tenant.
  assert.match(lastConsentPage, /Unverified publisher/);
  assert.doesNotMatch(lastConsentPage, /Publisher:/);
});

test('tools/list shows the agent tool with its maker-given name, description and schema', async () => {
  const client = await connect(alice);
  const { tools } = await client.listTools();
  assert.deepEqual(
    tools.map((t) => t.name),
    ['get-10-latest-emails'],
  );
  assert.equal(tools[0]!.title, 'Get 10 latest emails');
  assert.equal(
    tools[0]!.description,
    'Gets the 10 most recent emails from the Inbox for the signed-in user.',
  );
  assert.equal(tools[0]!.annotations?.readOnlyHint, true);
  await client.close();
});

test('strict audience: the same token is refused by another agent, a Graph token by this one', async () => {
  const token = alice.tokens()!.access_token;
  const other = await undiciFetch(`${behalf.url}/mcp/other-agent`, {
    method: 'POST',
    dispatcher,
    headers: {
      authorization: `Bearer ${token}`,
      'content-type': 'application/json',
      accept: 'application/json, text/event-stream',
    },
    body: JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'tools/list' }),
  });
  assert.equal(other.status, 401);
  const challenge = other.headers.get('www-authenticate') ?? '';
  assert.match(challenge, /error="invalid_token"/);
  assert.match(challenge, /resource_metadata=".*\/\.well-known\/oauth-protected-resource\/mcp\/other-agent"/);

  const admin = JSON.parse(readFileSync(join(dataDir, 'admin-credential.json'), 'utf8')) as {
    tenantId: string;
    clientId: string;
    clientSecret: string;
  };
  const graph = (await (
    await undiciFetch(`${behalf.url}/${admin.tenantId}/oauth2/v2.0/token`, {
      method: 'POST',
      dispatcher,
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({
        grant_type: 'client_credentials',
        client_id: admin.clientId,
        client_secret: admin.clientSecret,
        scope: 'https://graph.microsoft.com/.default',
      }).toString(),
    })
  ).json()) as { access_token: string };
  const refused = await undiciFetch(mcpUrl, {
    method: 'POST',
    dispatcher,
    headers: { authorization: `Bearer ${graph.access_token}`, 'content-type': 'application/json' },
    body: '{}',
  });
  assert.equal(refused.status, 401);
});

test('RFC 8707 at /token: a refresh token of one agent is not turned into a token for an agent never authorized', async () => {
  const refresh = alice.tokens()!.refresh_token!;
  const info = alice.clientInformation() as { client_id: string };
  const response = await undiciFetch(`${behalf.url}/mcp-oauth/${demo.tenantId}/token`, {
    method: 'POST',
    dispatcher,
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({
      grant_type: 'refresh_token',
      client_id: info.client_id,
      refresh_token: refresh,
      resource: `${behalf.url}/mcp/other-agent`,
    }).toString(),
  });
  const body = (await response.json()) as { error?: string; access_token?: string };
  assert.equal(response.status, 400);
  // The other agent's URL was never presented at /authorize, so it is no resource of this tenant yet.
  assert.equal(body.error, 'invalid_resource');
  assert.equal(body.access_token, undefined);
});

test('calling the tool as Alice runs through the gateway as Alice; the client never sees a downstream token', async () => {
  const client = await connect(alice);
  const result = await client.callTool({ name: 'get-10-latest-emails', arguments: {} });
  const text = JSON.stringify(result);
  const token = alice.tokens()!.access_token;
  assert.ok(!text.includes(token.slice(0, 40)), 'the MCP token is not echoed');
  assert.ok(!/eyJ[A-Za-z0-9_-]{20,}\.eyJ/.test(text), 'no JWT of any kind in the result');
  const runs = await behalf.agents.history.list(
    { tenantId: demo.tenantId, userObjectId: String(claims(token).oid), isAdministrator: false },
    {},
  );
  assert.equal(runs.length, 1);
  assert.equal(runs[0]!.channel, 'mcp');
  assert.equal(runs[0]!.tool, 'get-10-latest-emails');
  assert.equal(runs[0]!.identity, 'delegated');
  // The MCP token was exchanged on-behalf-of by Behalf MCP for a Behalf Connections token, which the
  // gateway exchanged again for the connector's app: here the connector's token endpoint (the package's
  // default host) is not running, and the person is told so in words, not with a token.
  assert.equal(result.isError, true);
  assert.match(text, /on-behalf-of exchange \(Behalf Connections/);
  assert.equal(runs[0]!.outcome, 'failed');
  await client.close();
});
