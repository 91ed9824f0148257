import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import type { Browser, Page } from 'playwright-core';
import { acceptConsent, launchBrowser, newContext, screenshot, signIn } from '../support/browser.ts';
import type { ChatDemo } from '../support/agents-chat-demo.ts';
import { GET_EMAILS_TOOL, startChatDemo } from '../support/agents-chat-demo.ts';

/**
 * The /chat page in Chromium on the demo tenant, in direct mode (no model configured): each person signs
 * in through Behalf's /authorize (code + PKCE for Behalf Chat), runs "Get 10 latest emails" with a
 * plain form, and sees their own mail or the permission message with its remediation.
 */
let env: ChatDemo;
let browser: Browser;

before(async () => {
  env = await startChatDemo(undefined);
  browser = await launchBrowser();
});

after(async () => {
  await browser?.close();
  await env?.close();
});

async function signedInChat(user: 'alice' | 'bob'): Promise<Page> {
  const context = await newContext(browser);
  const page = await context.newPage();
  await page.goto(`${env.behalf.url}/chat`);
  const account = env.password(user);
  await signIn(page, account.username, account.password);
  if (await page.getByRole('button', { name: 'Accept' }).count()) await acceptConsent(page);
  await page.waitForURL(/\/chat(\?|$)/);
  return page;
}

async function send(page: Page, text: string): Promise<void> {
  await page.getByLabel('Message to Admin agent').fill(text);
  await Promise.all([page.waitForURL(/\/chat\?c=/), page.getByRole('button', { name: 'Send' }).click()]);
}

test('the page is script-free under a strict policy and sends anonymous people to sign in', async () => {
  const anonymous = await env.call('GET', '/chat', undefined);
  assert.equal(anonymous.status, 302);
  const page = await signedInChat('alice');
  const response = await page.goto(`${env.behalf.url}/chat`);
  const csp = response!.headers()['content-security-policy'] ?? '';
  assert.match(csp, /default-src 'none'/);
  assert.doesNotMatch(csp, /script-src|unsafe-inline/);
  assert.equal(await page.locator('script').count(), 0);
  const cookies = await page.context().cookies();
  const session = cookies.find((c) => c.name === '__Host-behalf-chat')!;
  assert.ok(session.secure && session.httpOnly && session.path === '/');
  assert.doesNotMatch(session.value, /^eyJ/, 'the token is sealed, not a readable JWT');
  await page.context().close();
});

test('Alice runs "Get 10 latest emails" in direct mode and sees her unread mail', async () => {
  const page = await signedInChat('alice');
  await assert.doesNotReject(page.getByRole('heading', { name: 'Admin agent' }).waitFor());
  await send(page, '/get-10-latest-emails');
  const latest = page.locator('#latest');
  assert.match(await latest.innerText(), /Get 10 latest emails:/);
  assert.match(await latest.innerText(), /alice@contoso\.test/);
  assert.doesNotMatch(await latest.innerText(), /"isRead": true/);
  await screenshot(page, 'chat-alice-direct');
  await page.context().close();
});

test("Bob sees the permission message with the remediation, never Alice's mail", async () => {
  const page = await signedInChat('bob');
  await send(page, '/get-10-latest-emails');
  const alert = page.locator('#latest [role="alert"]');
  assert.match(await alert.innerText(), /You might not have access to this mailbox\./);
  assert.doesNotMatch(await page.content(), /alice@contoso\.test/);
  await screenshot(page, 'chat-bob-permission');
  // Bob cannot open Alice's conversations: the id he does not own reads as absent.
  await page.context().close();
});

test('a tool that requires confirmation asks first; Run it runs it, as Alice', async () => {
  await env.behalf.agents.agents.create(env.demo.tenantId, {
    displayName: 'Careful reader',
    tools: [{ connectorId: env.connectorId, ...GET_EMAILS_TOOL, requireConfirmation: true }],
  });
  const page = await signedInChat('alice');
  await page.getByRole('link', { name: 'Careful reader' }).click();
  await page.getByLabel('Message to Careful reader').fill('/get-10-latest-emails');
  await Promise.all([page.waitForURL(/\/chat\?c=/), page.getByRole('button', { name: 'Send' }).click()]);
  assert.doesNotMatch(await page.locator('#latest').innerText(), /alice@contoso\.test/, 'nothing ran yet');
  assert.equal(await page.getByRole('button', { name: 'Run it' }).count(), 1);
  await screenshot(page, 'chat-confirmation');
  await Promise.all([page.waitForURL(/\/chat\?c=/), page.getByRole('button', { name: 'Run it' }).click()]);
  assert.match(await page.locator('#latest').innerText(), /alice@contoso\.test/);
  assert.equal(await page.getByRole('button', { name: 'Run it' }).count(), 0, 'the decision is spent');
  await page.context().close();
});

test("a form without the anti-forgery token is refused; the page's own form is accepted", async () => {
  const page = await signedInChat('alice');
  const post = (form: Record<string, string>) =>
    page.context().request.post(`${env.behalf.url}/chat/send`, { form, maxRedirects: 0 });
  assert.equal((await post({ agent: 'admin-agent', text: '/help' })).status(), 403);
  assert.equal((await post({ agent: 'admin-agent', text: '/help', csrf: 'guess' })).status(), 403);
  const csrf = await page.locator('form.composer input[name="csrf"]').inputValue();
  const accepted = await post({ agent: 'admin-agent', text: '/help', csrf });
  assert.equal(accepted.status(), 303);
  assert.match(accepted.headers()['location'] ?? '', /^\/chat\?c=/);
  await page.context().close();
});

test("run history records both people's chat runs", async () => {
  const runs = await env.behalf.agents.history.list(
    { tenantId: env.demo.tenantId, userObjectId: 'admin', isAdministrator: true },
    { agent: 'admin-agent' },
  );
  const byUser = new Map(runs.map((r) => [r.userName, r]));
  assert.equal(byUser.get(env.password('alice').username)?.outcome, 'succeeded');
  assert.equal(byUser.get(env.password('bob').username)?.outcome, 'forbidden');
  assert.ok(runs.every((r) => r.channel === 'chat'));
});
