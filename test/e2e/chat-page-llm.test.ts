import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import type { Browser, Page } from 'playwright-core';
import { acceptConsent, launchBrowser, newContext, screenshot, signIn } from '../support/browser.ts';
import type { ChatDemo } from '../support/agents-chat-demo.ts';
import { startChatDemo } from '../support/agents-chat-demo.ts';
import type { ScriptedOpenAiServer } from '../support/agents-openai-server.ts';
import { afterToolResult, lastUserSays, startScriptedOpenAiServer } from '../support/agents-openai-server.ts';

/**
 * The seeds' two-user scenario on the /chat page with a model: a scripted OpenAI-compatible server (a
 * real HTTP server speaking chat completions) answers "What unread emails do I have?" with a tool call,
 * Behalf runs it as the person signed in to the page, and the model's summary is what they read.
 */
let env: ChatDemo;
let llm: ScriptedOpenAiServer;
let browser: Browser;

before(async () => {
  llm = await startScriptedOpenAiServer([
    {
      when: lastUserSays(/unread emails/i),
      reply: () => ({ toolCalls: [{ name: 'get-10-latest-emails', arguments: {} }] }),
    },
    {
      when: afterToolResult,
      reply: (r) => {
        const result = String(r.messages.at(-1)?.content ?? '');
        if (/"error"/.test(result)) return { content: 'You might not have access to this mailbox.' };
        const mail = (JSON.parse(result) as { value: { subject: string }[] }).value;
        return { content: `You have ${mail.length} unread emails. The first: ${mail[0]?.subject ?? '-'}` };
      },
    },
  ]);
  env = await startChatDemo({ baseUrl: llm.baseUrl, apiKey: 'sk-page-test' });
  browser = await launchBrowser();
});

after(async () => {
  await browser?.close();
  await env?.close();
  await llm?.close();
});

async function ask(user: 'alice' | 'bob', text: string): Promise<Page> {
  const context = await newContext(browser);
  const page = await context.newPage();
  await page.goto(`${env.behalf.url}/chat`);
  const account = env.password(user);
  await signIn(page, account.username, account.password);
  if (await page.getByRole('button', { name: 'Accept' }).count()) await acceptConsent(page);
  await page.waitForURL(/\/chat(\?|$)/);
  await page.getByLabel('Message to Admin agent').fill(text);
  await Promise.all([page.waitForURL(/\/chat\?c=/), page.getByRole('button', { name: 'Send' }).click()]);
  return page;
}

test("Alice asks in her words; the model's tool call reads her mail and she gets the summary", async () => {
  const page = await ask('alice', 'What unread emails do I have?');
  const answer = await page.locator('#latest').innerText();
  assert.match(answer, /You have [1-9]\d* unread emails\. The first: \S/);
  // The tool result the model read was Alice's mailbox, fetched with her identity.
  const toolResult = llm.requests.at(-1)!.messages.at(-1)!;
  assert.equal(toolResult.role, 'tool');
  assert.match(String(toolResult.content), /alice@contoso\.test/);
  await screenshot(page, 'chat-alice-llm');
  await page.context().close();
});

test('Bob asks the same and reads the permission message, never her mail', async () => {
  const page = await ask('bob', 'What unread emails do I have?');
  assert.match(await page.locator('#latest').innerText(), /You might not have access to this mailbox\./);
  assert.doesNotMatch(String(llm.requests.at(-1)!.messages.at(-1)!.content), /alice@contoso\.test/);
  assert.doesNotMatch(await page.content(), /alice@contoso\.test/);
  await screenshot(page, 'chat-bob-llm');
  await page.context().close();

  const runs = await env.behalf.agents.history.list(
    { tenantId: env.demo.tenantId, userObjectId: 'admin', isAdministrator: true },
    { agent: 'admin-agent' },
  );
  const outcomes = new Map(runs.map((r) => [r.userName, r.outcome]));
  assert.equal(outcomes.get(env.password('alice').username), 'succeeded');
  assert.equal(outcomes.get(env.password('bob').username), 'forbidden');
});
