import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { UnauthorizedError } from '@modelcontextprotocol/sdk/client/auth.js';
import type { Browser } from 'playwright-core';
import { Agent, fetch as undiciFetch } from 'undici';
import type { DemoDescription } from '../../src/cli/demo/setup.ts';
import { systemClock } from '../../src/core/clock.ts';
import { ensureTlsMaterial } from '../../src/crypto/tls.ts';
import type { Application } from '../../src/directory/model.ts';
import type { Behalf } from '../../src/main.ts';
import { acceptConsent, captureRedirect, launchBrowser, newContext, signIn } from '../support/browser.ts';
import { startMcpAgentsBehalf } from '../support/agents-mcp-behalf.ts';
import type { ClientMetadataServer } from '../support/mcp-client-metadata-server.ts';
import {
  MetadataUrlOAuthProvider,
  startClientMetadataServer,
} from '../support/mcp-client-metadata-server.ts';

/**
 * Issue 8, "client ID metadata documents" (MCP authorization 2025-11-25; draft-ietf-oauth-client-id-
 * metadata-document): the official MCP SDK client, unmodified, whose OAuth provider has a
 * `clientMetadataUrl`, connects to /mcp/admin-agent with that URL as its client_id and never registers.
 * Behalf fetches the document (served over HTTPS on loopback by the test, an origin allowlisted by
 * configuration), checks it, maps it to one public-client application, and runs its standard sign-in and
 * consent pages; the consent page names the document's host. Documents that break the rules, and URLs
 * Behalf must not fetch, are refused with OAuth errors and never a redirect.
 */
let behalf: Behalf;
let demo: DemoDescription;
let dataDir: string;
let browser: Browser;
let dispatcher: Agent;
let docs: ClientMetadataServer;
let mcpUrl: string;
let frontDoor: string;

const REDIRECT = 'http://localhost:53684/callback';
const HOST_DOC = '/clients/test-host.json';

before(async () => {
  dataDir = mkdtempSync(join(tmpdir(), 'behalf-mcp-cimd-'));
  // The document server needs its certificate (from Behalf's local CA) and Behalf needs the server's
  // origin in its allowlist: create the CA first; Behalf reuses it.
  const tls = await ensureTlsMaterial({
    dir: join(dataDir, 'tls'),
    hostNames: ['localhost'],
    clock: systemClock,
  });
  docs = await startClientMetadataServer(tls);
  ({ behalf, demo } = await startMcpAgentsBehalf(dataDir, ['Admin agent'], {
    clientMetadataAllowlist: docs.origin,
  }));
  mcpUrl = `${behalf.url}/mcp/admin-agent`;
  frontDoor = `${behalf.url}/mcp-oauth/${demo.tenantId}`;
  dispatcher = new Agent({ connect: { ca: tls.caCertificatePem! } });
  browser = await launchBrowser();
});

after(async () => {
  await browser?.close();
  await dispatcher?.close();
  await behalf?.close();
  await docs?.close();
  rmSync(dataDir, { recursive: true, force: true });
});

/** Every URL the SDK fetched: the test asserts it never went near the registration endpoint. */
const sdkRequests: string[] = [];
const tlsFetch = ((url: string | URL, init?: RequestInit) => {
  sdkRequests.push(String(url));
  return undiciFetch(url, { ...(init as object), dispatcher });
}) as unknown as typeof fetch;

const claims = (token: string) =>
  JSON.parse(Buffer.from(token.split('.')[1]!, 'base64url').toString('utf8')) as Record<string, unknown>;

const account = (user: string) => demo.users.find((u) => u.username.startsWith(`${user}@`))!;

function hostDocument(overrides: Record<string, unknown> = {}) {
  return {
    client_id: docs.url(HOST_DOC),
    client_name: 'Test MCP host',
    redirect_uris: [REDIRECT],
    grant_types: ['authorization_code', 'refresh_token'],
    response_types: ['code'],
    token_endpoint_auth_method: 'none',
    ...overrides,
  };
}

async function tenantApps(where: (app: Application) => boolean): Promise<Application[]> {
  return (await behalf.directory.listApplications(demo.tenantId, { where, limit: 100 })).items;
}

/** GET the MCP front door's /authorize without following redirects. */
async function authorize(params: Record<string, string>) {
  const url = new URL(`${frontDoor}/authorize`);
  for (const [name, value] of Object.entries({
    response_type: 'code',
    redirect_uri: REDIRECT,
    resource: mcpUrl,
    code_challenge: 'E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM',
    code_challenge_method: 'S256',
    state: 'xyz',
    ...params,
  }))
    url.searchParams.set(name, value);
  const response = await undiciFetch(url, { dispatcher, redirect: 'manual' });
  const text = await response.text();
  let body: { error?: string; error_description?: string } = {};
  try {
    body = JSON.parse(text) as typeof body;
  } catch {
    // not JSON: the assertions on `error` say so
  }
  return { status: response.status, location: response.headers.get('location'), body };
}

let provider: MetadataUrlOAuthProvider;

test('the authorization server metadata advertises client ID metadata documents', async () => {
  const response = await undiciFetch(
    `${behalf.url}/.well-known/oauth-authorization-server/${demo.tenantId}/v2.0`,
    { dispatcher },
  );
  const metadata = (await response.json()) as Record<string, unknown>;
  assert.equal(metadata['client_id_metadata_document_supported'], true);
  // Dynamic registration stays available for clients without a document.
  assert.equal(metadata['registration_endpoint'], `${frontDoor}/register`);
});

test('the SDK uses its document URL as client_id: Alice signs in, consents to "Test MCP host (host)", lists tools; nothing is registered', async () => {
  docs.serveJson(HOST_DOC, hostDocument(), 'max-age=300');
  const dcrBefore = await tenantApps((a) => (a.description ?? '').startsWith('Registered by an MCP client'));
  provider = new MetadataUrlOAuthProvider(REDIRECT, docs.url(HOST_DOC));
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
  assert.equal(url.searchParams.get('client_id'), docs.url(HOST_DOC));
  assert.equal(url.searchParams.get('resource'), mcpUrl);

  const context = await newContext(browser);
  const page = await context.newPage();
  let consentHeading = '';
  const back = await captureRedirect(page, REDIRECT, async () => {
    await page.goto(url.toString());
    await signIn(page, account('alice').username, account('alice').password);
    consentHeading = await page.locator('body').innerText();
    await acceptConsent(page);
  });
  await context.close();
  // The consent page names the host serving the document: client_name alone could claim to be anyone.
  assert.ok(
    consentHeading.includes(`Test MCP host (127.0.0.1:${docs.port})`),
    `consent page shows the host: ${consentHeading.slice(0, 300)}`,
  );
  // Nobody vouched for a self-registered client: the tenant's domain is not shown as its publisher.
  assert.ok(
    consentHeading.includes('Unverified publisher') && !consentHeading.includes('Publisher:'),
    consentHeading.slice(0, 300),
  );
  const code = back.searchParams.get('code');
  assert.ok(code, `a code came back (${back.searchParams.get('error_description') ?? ''})`);
  assert.equal(back.searchParams.get('state'), url.searchParams.get('state'));
  await first.finishAuth(code);

  const client = new Client({ name: 'test-host', version: '1.0.0' });
  await client.connect(
    new StreamableHTTPClientTransport(new URL(mcpUrl), { authProvider: provider, fetch: tlsFetch }),
  );
  const { tools } = await client.listTools();
  assert.deepEqual(
    tools.map((t) => t.name),
    ['get-10-latest-emails'],
  );
  await client.close();

  // No registration: the SDK never called /register, and the directory has no new DCR client.
  assert.ok(sdkRequests.length > 0);
  assert.deepEqual(
    sdkRequests.filter((u) => u.includes('/register')),
    [],
  );
  const dcrAfter = await tenantApps((a) => (a.description ?? '').startsWith('Registered by an MCP client'));
  assert.equal(dcrAfter.length, dcrBefore.length);
  assert.equal((provider.clientInformation() as { client_id: string }).client_id, docs.url(HOST_DOC));

  // One public-client application stands for the document; the token was issued to it, for this agent.
  const mapped = await tenantApps((a) => a.tags.includes('clientIdMetadataDocument'));
  assert.equal(mapped.length, 1);
  assert.equal(mapped[0]!.displayName, `Test MCP host (127.0.0.1:${docs.port})`);
  assert.deepEqual(mapped[0]!.publicClient.redirectUris, [REDIRECT]);
  assert.equal(mapped[0]!.passwordCredentials.length, 0);
  const token = claims(provider.tokens()!.access_token);
  assert.equal(token['aud'], mcpUrl);
  assert.equal(token['appid'], mapped[0]!.appId);
  // Cached per its Cache-Control: /authorize and /token fetched the document once.
  assert.deepEqual(
    docs.hits.filter((p) => p === HOST_DOC),
    [HOST_DOC],
  );
});

test('/token: a refresh with the document URL as client_id renews for the same app; a second sign-in reuses it', async () => {
  const response = await undiciFetch(`${frontDoor}/token`, {
    method: 'POST',
    dispatcher,
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({
      grant_type: 'refresh_token',
      client_id: docs.url(HOST_DOC),
      refresh_token: provider.tokens()!.refresh_token!,
      resource: mcpUrl,
    }).toString(),
  });
  const body = (await response.json()) as { access_token?: string; error_description?: string };
  assert.equal(response.status, 200, body.error_description ?? '');
  const mapped = await tenantApps((a) => a.tags.includes('clientIdMetadataDocument'));
  assert.equal(claims(body.access_token!)['appid'], mapped[0]!.appId);

  const again = await authorize({ client_id: docs.url(HOST_DOC) });
  assert.equal(again.status, 302);
  const target = new URL(again.location!);
  assert.equal(target.pathname, `/${demo.tenantId}/oauth2/v2.0/authorize`);
  assert.equal(target.searchParams.get('client_id'), mapped[0]!.appId);
  assert.equal((await tenantApps((a) => a.tags.includes('clientIdMetadataDocument'))).length, 1);
});

test('a document whose client_id is not its own URL is refused with invalid_client, no redirect', async () => {
  docs.serveJson('/clients/impostor.json', hostDocument({ client_id: docs.url(HOST_DOC) }));
  const result = await authorize({ client_id: docs.url('/clients/impostor.json') });
  assert.equal(result.status, 400);
  assert.equal(result.location, null);
  assert.equal(result.body.error, 'invalid_client');
  assert.match(result.body.error_description ?? '', /names another client_id/);
});

test('a redirect_uri the document does not list is refused with invalid_request, no redirect', async () => {
  const result = await authorize({
    client_id: docs.url(HOST_DOC),
    redirect_uri: 'http://localhost:9999/evil',
  });
  assert.equal(result.status, 400);
  assert.equal(result.location, null);
  assert.equal(result.body.error, 'invalid_request');
  assert.match(result.body.error_description ?? '', /is not one of the redirect_uris/);
});

test('a document declaring a shared-secret auth method is refused with a precise error', async () => {
  docs.serveJson(
    '/clients/confidential.json',
    hostDocument({
      client_id: docs.url('/clients/confidential.json'),
      token_endpoint_auth_method: 'client_secret_basic',
    }),
  );
  const result = await authorize({ client_id: docs.url('/clients/confidential.json') });
  assert.equal(result.status, 400);
  assert.equal(result.location, null);
  assert.equal(result.body.error, 'invalid_client');
  assert.match(result.body.error_description ?? '', /client_secret_basic', a shared secret/);
});

test('an http URL, and loopback or private addresses not allowlisted, are refused without being fetched', async () => {
  const hitsBefore = docs.hits.length;
  const http = await authorize({ client_id: `http://127.0.0.1:${docs.port}${HOST_DOC}` });
  assert.equal(http.status, 400);
  assert.equal(http.location, null);
  assert.equal(http.body.error, 'invalid_client');
  assert.match(http.body.error_description ?? '', /not an https URL/);

  // Same server, but through `localhost`: another origin, resolved to loopback, so not allowlisted.
  const viaName = await authorize({ client_id: `https://localhost:${docs.port}${HOST_DOC}` });
  assert.equal(viaName.status, 400);
  assert.equal(viaName.location, null);
  assert.equal(viaName.body.error, 'invalid_client');
  assert.match(viaName.body.error_description ?? '', /loopback, private or special-use address/);

  const privateLiteral = await authorize({ client_id: 'https://10.1.2.3/clients/host.json' });
  assert.equal(privateLiteral.status, 400);
  assert.equal(privateLiteral.body.error, 'invalid_client');
  assert.match(privateLiteral.body.error_description ?? '', /not allowlisted/);

  const noPath = await authorize({ client_id: docs.origin });
  assert.equal(noPath.body.error, 'invalid_client');
  assert.match(noPath.body.error_description ?? '', /must contain a path/);
  assert.equal(docs.hits.length, hitsBefore, 'Behalf fetched nothing for these');
});

test('an oversized document, a redirect and a non-JSON answer are refused', async () => {
  docs.serveJson(
    '/clients/big.json',
    hostDocument({ client_id: docs.url('/clients/big.json'), padding: 'x'.repeat(6 * 1024) }),
  );
  const big = await authorize({ client_id: docs.url('/clients/big.json') });
  assert.equal(big.status, 400);
  assert.equal(big.location, null);
  assert.equal(big.body.error, 'invalid_client');
  assert.match(big.body.error_description ?? '', /larger than 5120 bytes/);

  docs.serve('/clients/moved.json', { status: 302, headers: { location: docs.url(HOST_DOC) }, body: '' });
  const moved = await authorize({ client_id: docs.url('/clients/moved.json') });
  assert.equal(moved.body.error, 'invalid_client');
  assert.match(moved.body.error_description ?? '', /redirects are not followed/);

  docs.serve('/clients/page.json', {
    headers: { 'content-type': 'text/html' },
    body: JSON.stringify(hostDocument({ client_id: docs.url('/clients/page.json') })),
  });
  const html = await authorize({ client_id: docs.url('/clients/page.json') });
  assert.equal(html.body.error, 'invalid_client');
  assert.match(html.body.error_description ?? '', /not application\/json/);
});

test('/token refuses a client_id whose document cannot be fetched with invalid_client, never a 500', async () => {
  const response = await undiciFetch(`${frontDoor}/token`, {
    method: 'POST',
    dispatcher,
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({
      grant_type: 'authorization_code',
      client_id: docs.url('/clients/missing.json'),
      code: 'nope',
      code_verifier: 'x'.repeat(43),
      redirect_uri: REDIRECT,
      resource: mcpUrl,
    }).toString(),
  });
  const body = (await response.json()) as { error?: string; error_description?: string };
  assert.equal(response.status, 400);
  assert.equal(body.error, 'invalid_client');
  assert.match(body.error_description ?? '', /answered 404, not 200/);
});
