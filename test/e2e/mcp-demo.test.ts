import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { UnauthorizedError } from '@modelcontextprotocol/sdk/client/auth.js';
import { ErrorCode, McpError } from '@modelcontextprotocol/sdk/types.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import type { Browser } from 'playwright-core';
import { fetch as undiciFetch } from 'undici';
import { DEMO_APP_IDS } from '../../examples/demo-apis.ts';
import { acceptConsent, captureRedirect, launchBrowser, newContext, signIn } from '../support/browser.ts';
import { InMemoryOAuthProvider } from '../support/agents-mcp-oauth.ts';
import type { GatewayDemo } from '../support/gateway-demo.ts';
import { startGatewayDemo } from '../support/gateway-demo.ts';

/**
 * The seeds' two-user scenario over MCP on the demo tenant: the official SDK client, its OAuth provider,
 * Chromium on Behalf's sign-in page, then "Get 10 latest emails" through the gateway (Contoso Mail, SSO
 * by on-behalf-of): Alice gets her unread mail, Bob the permission message with its remediation.
 */
let env: GatewayDemo;
let browser: Browser;
let mcpUrl: string;
const REDIRECT = 'http://localhost:53683/callback';

before(async () => {
  env = await startGatewayDemo();
  const connector = await env.importMailConnector();
  await env.behalf.agents.agents.create(env.demo.tenantId, {
    displayName: 'Admin agent',
    tools: [
      {
        connectorId: connector.id,
        operationId: 'GetEmails',
        title: 'Get 10 latest emails',
        description: 'Gets the 10 most recent emails from the Inbox for the signed-in user.',
        fixedValues: { folder: 'inbox', $filter: 'isRead eq false', $top: 10 },
        resourceNoun: 'this mailbox',
      },
    ],
  });
  mcpUrl = `${env.behalf.url}/mcp/admin-agent`;
  browser = await launchBrowser();
});

after(async () => {
  await browser?.close();
  await env?.close();
});

const tlsFetch = ((url: string | URL, init?: RequestInit) =>
  undiciFetch(url, { ...(init as object), dispatcher: env.dispatcher })) as unknown as typeof fetch;

type ClientCapabilities = ConstructorParameters<typeof Client>[1];

async function signedInClient(
  user: 'alice' | 'bob',
  options: ClientCapabilities = {},
): Promise<{ client: Client; token: string }> {
  const provider = new InMemoryOAuthProvider(REDIRECT);
  const first = new StreamableHTTPClientTransport(new URL(mcpUrl), {
    authProvider: provider,
    fetch: tlsFetch,
  });
  await assert.rejects(
    new Client({ name: 'host', version: '1.0.0' }).connect(first),
    (error: unknown) => error instanceof UnauthorizedError,
  );
  const account = env.demo.users.find((u) => u.username.startsWith(`${user}@`))!;
  const context = await newContext(browser);
  const page = await context.newPage();
  const back = await captureRedirect(page, REDIRECT, async () => {
    await page.goto(provider.authorizationUrl!.toString());
    await signIn(page, account.username, account.password);
    if (await page.getByRole('button', { name: 'Accept' }).count()) await acceptConsent(page);
  });
  await context.close();
  await first.finishAuth(back.searchParams.get('code')!);
  const client = new Client({ name: 'host', version: '1.0.0' }, options);
  await client.connect(
    new StreamableHTTPClientTransport(new URL(mcpUrl), { authProvider: provider, fetch: tlsFetch }),
  );
  return { client, token: provider.tokens()!.access_token };
}

const textOf = (result: unknown) =>
  (((result as { content?: unknown }).content ?? []) as { type: string; text?: string }[])
    .map((c) => c.text ?? '')
    .join('\n');

test('Alice calls "Get 10 latest emails" over MCP and gets her unread mail', async () => {
  const { client, token } = await signedInClient('alice');
  const result = await client.callTool({ name: 'get-10-latest-emails', arguments: {} });
  assert.notEqual(result.isError, true, textOf(result));
  const body = result.structuredContent as { value?: { isRead: boolean; toRecipients: unknown }[] };
  assert.ok(Array.isArray(body.value) && body.value.length > 0, textOf(result));
  assert.ok(body.value.every((m) => m.isRead === false));
  assert.match(JSON.stringify(body.value), /alice@contoso\.test/);
  assert.ok(!JSON.stringify(result).includes(token.slice(0, 40)));
  await client.close();
});

test("Bob gets the permission message with a remediation, never Alice's mail", async () => {
  const { client } = await signedInClient('bob');
  const result = await client.callTool({ name: 'get-10-latest-emails', arguments: {} });
  const text = textOf(result);
  assert.equal(result.isError, true);
  assert.match(text, /You might not have access to this mailbox\./);
  assert.doesNotMatch(text, /alice@contoso\.test/);
  await client.close();
});

test('run history shows both runs with the right identities', async () => {
  const runs = await env.behalf.agents.history.list(
    { tenantId: env.demo.tenantId, userObjectId: 'admin', isAdministrator: true },
    { agent: 'admin-agent' },
  );
  const byUser = new Map(runs.map((r) => [r.userName, r]));
  const alice = env.demo.users.find((u) => u.username.startsWith('alice@'))!.username;
  const bob = env.demo.users.find((u) => u.username.startsWith('bob@'))!.username;
  assert.equal(byUser.get(alice)?.outcome, 'succeeded');
  assert.equal(byUser.get(bob)?.outcome, 'forbidden');
  assert.ok(runs.every((r) => r.channel === 'mcp' && r.identity === 'delegated'));
});

/** Follows a consent URL in a fresh browser as `user`: sign in, Accept; returns the final page text. */
async function consentInBrowser(url: string, user: 'alice' | 'bob'): Promise<string> {
  const account = env.demo.users.find((u) => u.username.startsWith(`${user}@`))!;
  const context = await newContext(browser);
  const page = await context.newPage();
  await page.goto(url);
  await signIn(page, account.username, account.password);
  await acceptConsent(page);
  await page.waitForLoadState('load');
  const text = await page.locator('body').innerText();
  await context.close();
  return text;
}

/** Runs `body` with the pre-authorization of Behalf Connections removed from the connector app. */
async function withoutPreAuthorization(body: () => Promise<void>): Promise<void> {
  const { directory } = env.behalf;
  const app = (await directory.getApplicationByAppId(DEMO_APP_IDS.contosoMailConnector))!;
  const kept = app.api.preAuthorizedApplications;
  await directory.updateApplication(env.demo.tenantId, app.id, { api: { preAuthorizedApplications: [] } });
  try {
    await body();
  } finally {
    await directory.updateApplication(env.demo.tenantId, app.id, {
      api: { preAuthorizedApplications: kept },
    });
  }
}

test('no consent yet, a client with URL elicitation: Alice opens the URL, consents, and the retried call works', async () => {
  await withoutPreAuthorization(async () => {
    const { client } = await signedInClient('alice', { capabilities: { elicitation: { url: {} } } });
    const call = () => client.callTool({ name: 'get-10-latest-emails', arguments: {} });
    let url: string | undefined;
    await assert.rejects(call(), (error: unknown) => {
      assert.ok(error instanceof McpError, String(error));
      assert.equal(error.code, ErrorCode.UrlElicitationRequired);
      const [elicitation] = (error.data as { elicitations: { mode: string; url: string }[] }).elicitations;
      assert.equal(elicitation?.mode, 'url');
      url = elicitation.url;
      return true;
    });
    const consentUrl = url ?? assert.fail('no elicitation URL');
    assert.ok(consentUrl.startsWith(`${env.behalf.url}/consent/`), consentUrl);
    assert.match(await consentInBrowser(consentUrl, 'alice'), /ready to use/);

    const result = await call();
    assert.notEqual(result.isError, true, textOf(result));
    assert.match(JSON.stringify(result.structuredContent), /alice@contoso\.test/);
    await client.close();
  });
});

test('a client without elicitation gets the consent card as the tool result; Bob consents for himself only', async () => {
  await withoutPreAuthorization(async () => {
    const { client } = await signedInClient('bob');
    const first = await client.callTool({ name: 'get-10-latest-emails', arguments: {} });
    assert.equal(first.isError, true);
    const text = textOf(first);
    const url = /https:\/\/\S+\/consent\/\S+/.exec(text)?.[0];
    assert.ok(url, text);
    assert.match(await consentInBrowser(url, 'bob'), /ready to use/);
    // Consented, Bob reaches the API, which still says he has no mailbox: never Alice's mail.
    const second = await client.callTool({ name: 'get-10-latest-emails', arguments: {} });
    assert.equal(second.isError, true);
    assert.match(textOf(second), /You might not have access to this mailbox\./);
    assert.doesNotMatch(textOf(second), /alice@contoso\.test/);
    await client.close();
  });
});
