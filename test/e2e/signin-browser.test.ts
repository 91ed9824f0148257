import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { Browser } from 'playwright-core';
import {
  acceptConsent,
  captureRedirect,
  launchBrowser,
  newContext,
  screenshot,
  signIn,
} from '../support/browser.ts';
import { CLIENT_REDIRECT, startSignInFixture } from './signin-fixture.ts';
import type { SignInFixture } from './signin-fixture.ts';

let fx: SignInFixture;
let browser: Browser;
before(async () => {
  fx = await startSignInFixture();
  browser = await launchBrowser();
});
after(async () => {
  await browser.close();
  await fx.close();
});

const request = (extra: Record<string, string> = {}) =>
  fx.authorizeUrl({
    client_id: fx.client.appId,
    response_type: 'code',
    redirect_uri: CLIENT_REDIRECT,
    scope: 'openid profile api://orders/read',
    state: 'browser-state',
    ...extra,
  });

describe('sign-in and consent in Chromium', () => {
  it('asks for consent once, then prompt=none returns a code silently', async () => {
    const context = await newContext(browser);
    const page = await context.newPage();
    await page.goto(request());
    await page.getByRole('heading', { name: 'Sign in' }).waitFor();
    await screenshot(page, 'sign-in');
    await signIn(page, 'alice@contoso.test', fx.password('alice'));
    await page.getByRole('heading', { name: 'Permissions requested' }).waitFor();
    assert.match(await page.content(), /Read your orders/);
    assert.match(await page.content(), /Order Desk/);
    // Alice is not an administrator: no organization-wide option.
    assert.equal(await page.getByLabel('Consent on behalf of your organization').count(), 0);
    await screenshot(page, 'consent');
    const first = await captureRedirect(page, CLIENT_REDIRECT, () => acceptConsent(page));
    assert.ok(first.searchParams.get('code'));
    assert.equal(first.searchParams.get('state'), 'browser-state');

    const silent = await captureRedirect(page, CLIENT_REDIRECT, async () => {
      await page.goto(request({ prompt: 'none', state: 'silent' }));
    });
    assert.ok(silent.searchParams.get('code'), `expected a code, got ${silent.search}`);
    assert.equal(silent.searchParams.get('state'), 'silent');
    // Without prompt=none the same: no page at all (SSO + consent remembered).
    const again = await captureRedirect(page, CLIENT_REDIRECT, async () => {
      await page.goto(request({ state: 'again' }));
    });
    assert.ok(again.searchParams.get('code'));
    await context.close();
  });

  it('returns access_denied to the client when the user cancels', async () => {
    const context = await newContext(browser);
    const page = await context.newPage();
    await page.goto(request({ prompt: 'consent', state: 'cancel-me' }));
    await signIn(page, 'bob@contoso.test', fx.password('bob'));
    await page.getByRole('heading', { name: 'Permissions requested' }).waitFor();
    const denied = await captureRedirect(page, CLIENT_REDIRECT, async () => {
      await page.getByRole('button', { name: 'Cancel' }).click();
    });
    assert.equal(denied.searchParams.get('error'), 'access_denied');
    assert.equal(denied.searchParams.get('state'), 'cancel-me');
    assert.match(denied.searchParams.get('error_description') ?? '', /^AADSTS65004/);
    assert.equal(denied.searchParams.get('code'), null);
    await context.close();
  });

  it('never asks a user whose administrator consented for the organization', async () => {
    const adminContext = await newContext(browser);
    const adminPage = await adminContext.newPage();
    await adminPage.goto(request({ prompt: 'consent', scope: 'openid api://orders/.default' }));
    await signIn(adminPage, 'admin@contoso.test', fx.password('admin'));
    await adminPage.getByRole('heading', { name: 'Permissions requested' }).waitFor();
    await screenshot(adminPage, 'consent-admin');
    const granted = await captureRedirect(adminPage, CLIENT_REDIRECT, () =>
      acceptConsent(adminPage, { organization: true }),
    );
    assert.ok(granted.searchParams.get('code'));
    const sp = (await fx.behalf.directory.getServicePrincipalByAppId(fx.tenant.id, fx.client.appId))!;
    const grants = await fx.behalf.directory.listPermissionGrants({
      tenantId: fx.tenant.id,
      clientId: sp.id,
    });
    assert.ok(grants.some((g) => g.consentType === 'AllPrincipals' && g.scope.split(' ').includes('read')));
    const apiSp = (await fx.behalf.directory.getServicePrincipalByAppId(fx.tenant.id, fx.api.appId))!;
    const roles = await fx.behalf.directory.listAppRoleAssignments({
      tenantId: fx.tenant.id,
      principalId: sp.id,
      resourceId: apiSp.id,
    });
    assert.deepEqual(
      roles.map((r) => r.appRoleId),
      [fx.api.appRoles[0]!.id],
    );
    await adminContext.close();

    // Bob signs in afresh: straight to the client, no consent page.
    const context = await newContext(browser);
    const page = await context.newPage();
    await page.goto(request({ state: 'bob' }));
    const code = await captureRedirect(page, CLIENT_REDIRECT, () =>
      signIn(page, 'bob@contoso.test', fx.password('bob')),
    );
    assert.ok(code.searchParams.get('code'));
    assert.equal(code.searchParams.get('state'), 'bob');
    await context.close();
  });

  it('offers an account picker when two accounts are signed in', async () => {
    const context = await newContext(browser);
    const page = await context.newPage();
    for (const user of ['alice', 'admin'] as const) {
      await page.goto(request({ prompt: 'login', scope: 'openid' }));
      await captureRedirect(page, CLIENT_REDIRECT, () =>
        signIn(page, `${user}@contoso.test`, fx.password(user)),
      );
    }
    await page.goto(request({ scope: 'openid' }));
    await page.getByRole('heading', { name: 'Pick an account' }).waitFor();
    await screenshot(page, 'account-picker');
    const picked = await captureRedirect(page, CLIENT_REDIRECT, () =>
      page.getByRole('button', { name: /Alice Adams/ }).click(),
    );
    assert.ok(picked.searchParams.get('code'));
    await context.close();
  });
});
