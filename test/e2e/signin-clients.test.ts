import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { after, before, describe, it } from 'node:test';
import { ConfidentialClientApplication } from '@azure/msal-node';
import * as oidc from 'openid-client';
import type { Browser } from 'playwright-core';
import { fetch as undiciFetch } from 'undici';
import { acceptConsent, captureRedirect, launchBrowser, newContext, signIn } from '../support/browser.ts';
import { caTrustingNetworkClient } from '../support/token-network.ts';
import { CLIENT_REDIRECT, startSignInFixture } from './signin-fixture.ts';
import type { SignInFixture } from './signin-fixture.ts';

/** Unmodified MSAL Node and openid-client driving Behalf's pages through Chromium, then redeeming the code. */
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

describe('real clients through the sign-in pages', () => {
  it('MSAL Node: getAuthCodeUrl, sign-in + consent in Chromium, acquireTokenByCode with PKCE; a reused code fails', async () => {
    const network = caTrustingNetworkClient(readFileSync(fx.behalf.caCertificatePath!, 'utf8'));
    const msal = new ConfidentialClientApplication({
      auth: {
        clientId: fx.client.appId,
        clientSecret: fx.clientSecret,
        authority: `${fx.behalf.url}/${fx.tenant.id}`,
        knownAuthorities: [new URL(fx.behalf.url).host],
      },
      system: { networkClient: network },
    });
    const verifier = randomBytes(32).toString('base64url');
    const challenge = createHash('sha256').update(verifier).digest('base64url');
    const scopes = ['api://orders/read'];
    const url = await msal.getAuthCodeUrl({
      scopes,
      redirectUri: CLIENT_REDIRECT,
      codeChallenge: challenge,
      codeChallengeMethod: 'S256',
      state: 'msal-state',
    });
    const context = await newContext(browser);
    const page = await context.newPage();
    await page.goto(url);
    await signIn(page, 'alice@contoso.test', fx.password('alice'));
    const landed = await captureRedirect(page, CLIENT_REDIRECT, () => acceptConsent(page));
    await context.close();
    const code = landed.searchParams.get('code')!;
    assert.equal(landed.searchParams.get('state'), 'msal-state');

    const result = await msal.acquireTokenByCode({
      code,
      scopes,
      redirectUri: CLIENT_REDIRECT,
      codeVerifier: verifier,
    });
    assert.equal(result.account?.username, 'alice@contoso.test');
    assert.ok(result.scopes.some((s) => s.endsWith('read')));
    const claims = JSON.parse(
      Buffer.from(result.accessToken.split('.')[1]!, 'base64url').toString(),
    ) as Record<string, unknown>;
    assert.equal(claims.aud, fx.api.appId);
    assert.equal(claims.scp, 'read');

    await assert.rejects(
      msal.acquireTokenByCode({ code, scopes, redirectUri: CLIENT_REDIRECT, codeVerifier: verifier }),
      (error: { errorCode?: string; errorMessage?: string }) =>
        error.errorCode === 'invalid_grant' && /AADSTS54005/.test(error.errorMessage ?? ''),
    );
    await network.close();
  });

  it('openid-client: code flow with nonce and PKCE, ID token validated by the library', async () => {
    const fetchWithCa: oidc.CustomFetch = (url, options) =>
      undiciFetch(url, { ...(options as object), dispatcher: fx.dispatcher } as never) as never;
    const config = await oidc.discovery(
      new URL(`${fx.behalf.url}/${fx.tenant.id}/v2.0`),
      fx.client.appId,
      undefined,
      oidc.ClientSecretPost(fx.clientSecret),
      { [oidc.customFetch]: fetchWithCa },
    );
    const nonce = oidc.randomNonce();
    const verifier = oidc.randomPKCECodeVerifier();
    const url = oidc.buildAuthorizationUrl(config, {
      redirect_uri: CLIENT_REDIRECT,
      scope: 'openid profile email',
      nonce,
      state: 'oidc-state',
      code_challenge: await oidc.calculatePKCECodeChallenge(verifier),
      code_challenge_method: 'S256',
    });
    const context = await newContext(browser);
    const page = await context.newPage();
    await page.goto(url.toString());
    const landed = await captureRedirect(page, CLIENT_REDIRECT, () =>
      signIn(page, 'bob@contoso.test', fx.password('bob')),
    );
    await context.close();
    const tokens = await oidc.authorizationCodeGrant(config, landed, {
      pkceCodeVerifier: verifier,
      expectedNonce: nonce,
      expectedState: 'oidc-state',
    });
    const claims = tokens.claims()!;
    assert.equal(claims.nonce, nonce);
    assert.equal(claims.aud, fx.client.appId);
    assert.equal(claims.preferred_username, 'bob@contoso.test');
    assert.equal(claims.tid, fx.tenant.id);
  });
});
