import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { Browser, Page } from 'playwright-core';
import { DEMO_APP_IDS } from '../../examples/demo-apis.ts';
import { acceptConsent, launchBrowser, newContext, screenshot, signIn } from '../support/browser.ts';
import { startGatewayDemo } from '../support/gateway-demo.ts';
import type { GatewayDemo, Json } from '../support/gateway-demo.ts';

/**
 * The consent card, followed in a real browser (Chromium): the link a caller gets instead of an error
 * leads through Behalf's sign-in and consent pages, and afterwards the same call just works.
 * - SSO (on-behalf-of): without the pre-authorization, the card asks Alice once to let Behalf
 *   Connections act for her on the connector app; no connection manager, no tokens kept.
 * - Interactive: a connector without SSO signs Alice in on its own redirect URL and keeps her tokens.
 */
let env: GatewayDemo;
let browser: Browser;
const UNREAD = { folder: 'inbox', $filter: 'isRead eq false' };

before(async () => {
  env = await startGatewayDemo();
  browser = await launchBrowser();
});
after(async () => {
  await browser?.close();
  await env?.close();
});

function user(name: 'alice' | 'bob') {
  return env.demo.users.find((u) => u.username.startsWith(`${name}@`))!;
}

/** Imports the demo's Contoso Mail package, optionally with single sign-on turned off. */
async function importMail(options: { sso: boolean }): Promise<string> {
  const pkg = env.mailPackage();
  const properties = JSON.parse(pkg.apiProperties) as Json;
  const oauth = properties.properties.connectionParameters.token.oAuthSettings as Json;
  if (!options.sso) {
    oauth.properties.IsOnbehalfofLoginSupported = false;
    oauth.customParameters.enableOnbehalfOfLogin.value = 'false';
  }
  return (await env.importMailConnector({ apiProperties: JSON.stringify(properties) })).id;
}

/** Follows a consent card in a fresh browser as `who`, and returns the page Behalf ends on. */
async function followCard(card: { consentUrl: string }, who: 'alice' | 'bob', name: string): Promise<Page> {
  const context = await newContext(browser);
  const page = await context.newPage();
  await page.goto(card.consentUrl);
  await signIn(page, user(who).username, user(who).password);
  await page.getByRole('button', { name: 'Accept' }).waitFor();
  await screenshot(page, `${name}-consent`);
  await acceptConsent(page);
  await page.waitForLoadState('load');
  await screenshot(page, `${name}-done`);
  return page;
}

function consentCardOf(body: Json): { consentUrl: string; text: string } {
  const card = body.error?.consentCard as { consentUrl: string; text: string } | undefined;
  assert.ok(card, JSON.stringify(body));
  return card;
}

function assertAlicesUnreadMail(body: Json): void {
  const messages = body.value as { isRead: boolean; toRecipients: { emailAddress: { address: string } }[] }[];
  assert.ok(messages.length > 0);
  for (const message of messages) {
    assert.equal(message.isRead, false);
    assert.ok(message.toRecipients.some((r) => r.emailAddress.address === 'alice@contoso.test'));
  }
}

describe('consent cards followed in a browser', () => {
  it('SSO: Alice consents once to Behalf Connections on the connector app, then reads mail with no prompt', async () => {
    const connectorId = await importMail({ sso: true });
    const app = (await env.behalf.directory.getApplicationByAppId(DEMO_APP_IDS.contosoMailConnector))!;
    const preAuthorized = app.api.preAuthorizedApplications;
    await env.behalf.directory.updateApplication(env.demo.tenantId, app.id, {
      api: { preAuthorizedApplications: [] },
    });
    try {
      const readAs = async (who: 'alice' | 'bob') =>
        env.call('POST', `/apim/${connectorId}/default/GetEmails`, await env.userToken(who), UNREAD);
      const refused = await readAs('alice');
      assert.equal(refused.status, 403, refused.text);
      assert.equal(refused.body.error.code, 'ConsentRequired');

      const page = await followCard(consentCardOf(refused.body), 'alice', 'gateway-sso-consent');
      assert.match(await page.locator('body').innerText(), /Connected/);
      assert.match(await page.locator('body').innerText(), /ready to use/);

      // Every call signs in anew (a new token): after the one consent, none of them asks again.
      const retried = await readAs('alice');
      assert.equal(retried.status, 200, retried.text);
      assertAlicesUnreadMail(retried.body);
      const again = await readAs('alice');
      assert.equal(again.status, 200, again.text);

      // Bob has not consented: his own call still asks him, and never shows Alice's mail.
      const bob = await readAs('bob');
      assert.equal(bob.status, 403, bob.text);
      assert.equal(bob.body.error.code, 'ConsentRequired');
      assert.doesNotMatch(bob.text, /alice@contoso/);
    } finally {
      await env.behalf.directory.updateApplication(env.demo.tenantId, app.id, {
        api: { preAuthorizedApplications: preAuthorized },
      });
    }
  });

  it('interactive: Alice signs in on the connector redirect URL once; her connection keeps working', async () => {
    const connectorId = await importMail({ sso: false });
    // The maker's step of the seeds: the connector's redirect URL goes on the connector app.
    const app = (await env.behalf.directory.getApplicationByAppId(DEMO_APP_IDS.contosoMailConnector))!;
    const redirectUrl = `${env.behalf.url}/redirect/${connectorId}`;
    await env.behalf.directory.updateApplication(env.demo.tenantId, app.id, {
      web: { ...app.web, redirectUris: [...app.web.redirectUris, redirectUrl] },
    });

    const alice = await env.userToken('alice');
    const invoke = (token: string, connection: string) =>
      env.call('POST', `/apim/${connectorId}/${connection}/GetEmails`, token, UNREAD);
    const first = await invoke(alice, 'default');
    assert.equal(first.status, 403, first.text);
    assert.equal(first.body.error.code, 'ConsentRequired');
    const card = consentCardOf(first.body);
    assert.match(card.text, /Sign in to Contoso Mail/);

    const page = await followCard(card, 'alice', 'gateway-interactive-consent');
    assert.match(await page.locator('body').innerText(), /ready to use/);

    const mine = await env.call('GET', '/v1.0/behalf/connections', alice);
    const connection = (mine.body.value as { id: string; connectorId: string; state: string }[]).find(
      (c) => c.connectorId === connectorId,
    );
    assert.ok(connection, mine.text);
    assert.equal(connection.state, 'connected');
    assert.doesNotMatch(mine.text, /eyJ[\w-]+\.eyJ/, 'a connection never shows its tokens');

    const byDefault = await invoke(alice, 'default');
    assert.equal(byDefault.status, 200, byDefault.text);
    assertAlicesUnreadMail(byDefault.body);
    const byId = await invoke(await env.userToken('alice'), connection.id);
    assert.equal(byId.status, 200, byId.text);

    // Bob cannot use it: the same answer as for an id that does not exist.
    const bob = await invoke(await env.userToken('bob'), connection.id);
    assert.equal(bob.status, 404, bob.text);
    assert.doesNotMatch(bob.text, /alice@contoso/);
  });
});
