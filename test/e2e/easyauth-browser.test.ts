import assert from 'node:assert/strict';
import { randomBytes, randomUUID } from 'node:crypto';
import { createServer } from 'node:net';
import type { AddressInfo } from 'node:net';
import { after, before, describe, it } from 'node:test';
import type { Browser } from 'playwright-core';
import { startReverseProxy } from '../../src/easyauth/index.ts';
import type { ReverseProxy } from '../../src/easyauth/index.ts';
import { acceptConsent, launchBrowser, newContext, screenshot, signIn } from '../support/browser.ts';
import { startEasyAuthBehalf } from '../support/easyauth-behalf.ts';
import type { EasyAuthBehalf } from '../support/easyauth-behalf.ts';
import { startPythonEcho } from '../support/easyauth-python-upstream.ts';
import type { PythonUpstream } from '../support/easyauth-python-upstream.ts';

/**
 * A real browser signs in through Easy Auth's /.auth/login/aad against Behalf's own /authorize and
 * sign-in page, then /.auth/me shows the user and the Python app behind the proxy receives the identity.
 */
async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise((resolve) => server.close(resolve));
  return port;
}

describe('Easy Auth browser sign-in through Behalf', () => {
  let env: EasyAuthBehalf;
  let echo: PythonUpstream;
  let proxy: ReverseProxy;
  let browser: Browser;
  let base: string;

  before(async () => {
    env = await startEasyAuthBehalf();
    echo = await startPythonEcho();
    const port = await freePort();
    base = `http://localhost:${port}`;
    const clientId = randomUUID();
    const { secret } = await env.register(
      'Contoso Portal (Easy Auth)',
      [`${base}/.auth/login/aad/callback`],
      clientId,
    );
    proxy = await startReverseProxy({
      authority: `${env.behalf.url}/${env.tenantId}`,
      audiences: [clientId],
      ca: env.caPem,
      upstream: echo.url,
      port,
      unauthenticatedAction: '302',
      login: {
        clientId,
        clientSecret: secret,
        publicUrl: base,
        sessionKey: randomBytes(32),
        scopes: ['api://contoso-mail/Mail.Read'],
      },
    });
    browser = await launchBrowser();
  });
  after(async () => {
    await browser?.close();
    await proxy?.close();
    await echo?.close();
    await env?.close();
  });

  it('signs Alice in and shows her in /.auth/me and to the app', async () => {
    const context = await newContext(browser);
    const page = await context.newPage();
    try {
      await page.goto(`${base}/hello`);
      await page.getByRole('heading', { name: 'Sign in' }).waitFor();
      await signIn(page, env.users.alice, env.password);
      if (
        await page
          .getByRole('heading', { name: 'Permissions requested' })
          .isVisible()
          .catch(() => false)
      )
        await acceptConsent(page);
      await page.waitForURL(`${base}/hello`);
      const seen = JSON.parse((await page.locator('body').innerText()).trim()) as {
        headers: Record<string, string>;
      };
      assert.equal(seen.headers['x-ms-client-principal-name'], env.users.alice);
      assert.equal(seen.headers['x-ms-client-principal-idp'], 'aad');

      await page.goto(`${base}/.auth/me`);
      const [me] = JSON.parse((await page.locator('body').innerText()).trim()) as {
        provider_name: string;
        user_id: string;
        user_claims: { typ: string; val: string }[];
        access_token?: string;
      }[];
      assert.equal(me!.provider_name, 'aad');
      assert.equal(me!.user_id, env.users.alice);
      assert.ok(me!.user_claims.some((c) => c.typ === 'name' && c.val === 'Alice Anders'));
      // The session's access token is Alice's delegated token for Contoso Mail: it reads her mail.
      const mail = await fetch(`${env.demo.urls.mailApi}/v1.0/me/messages?$top=1`, {
        headers: { authorization: `Bearer ${me!.access_token}` },
      });
      assert.equal(mail.status, 200);
    } catch (error) {
      await screenshot(page, 'easyauth-browser-failure');
      throw error;
    } finally {
      await context.close();
    }
  });
});
