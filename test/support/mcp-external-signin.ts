import assert from 'node:assert/strict';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { UnauthorizedError } from '@modelcontextprotocol/sdk/client/auth.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import type { Browser } from 'playwright-core';
import type { Agent } from 'undici';
import { fetch as undiciFetch } from 'undici';
import { acceptConsent, captureRedirect, newContext, signIn } from './browser.ts';
import { InMemoryOAuthProvider } from './agents-mcp-oauth.ts';

/**
 * An MCP host signing a person in to `/mcp/{agent}` the way mcp-demo.test.ts does: the official SDK
 * client and its OAuth provider, unmodified; Chromium on Behalf's sign-in (and consent) page.
 */
export async function signedInMcpClient(input: {
  readonly browser: Browser;
  readonly dispatcher: Agent;
  readonly mcpUrl: string;
  readonly redirect: string;
  readonly username: string;
  readonly password: string;
}): Promise<{ client: Client; provider: InMemoryOAuthProvider; connect(): Promise<Client> }> {
  const fetch = ((url: string | URL, init?: RequestInit) =>
    undiciFetch(url, {
      ...(init as object),
      dispatcher: input.dispatcher,
    })) as unknown as typeof globalThis.fetch;
  const provider = new InMemoryOAuthProvider(input.redirect);
  const transport = () =>
    new StreamableHTTPClientTransport(new URL(input.mcpUrl), { authProvider: provider, fetch });
  const first = transport();
  await assert.rejects(
    new Client({ name: 'host', version: '1.0.0' }).connect(first),
    (error: unknown) => error instanceof UnauthorizedError,
  );
  const context = await newContext(input.browser);
  const page = await context.newPage();
  const back = await captureRedirect(page, input.redirect, async () => {
    await page.goto(provider.authorizationUrl!.toString());
    await signIn(page, input.username, input.password);
    if (await page.getByRole('button', { name: 'Accept' }).count()) await acceptConsent(page);
  });
  await context.close();
  await first.finishAuth(back.searchParams.get('code')!);
  const connect = async () => {
    const client = new Client({ name: 'host', version: '1.0.0' });
    await client.connect(transport());
    return client;
  };
  return { client: await connect(), provider, connect };
}
