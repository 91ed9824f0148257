import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { PublicClientApplication } from '@azure/msal-node';
import * as jose from 'jose';
import { fetch } from 'undici';
import { BEHALF_CLI_APP_ID } from '../../src/cli/demo/demo-tenant.ts';
import { caTrustingNetworkClient } from '../support/token-network.ts';
import {
  CLIENT_REDIRECT,
  cookieClient,
  formAction,
  formFields,
  startSignInFixture,
} from './signin-fixture.ts';
import type { SignInFixture } from './signin-fixture.ts';

/**
 * The interactive endpoints beyond /authorize, over real HTTPS: admin consent, the device code flow
 * (unmodified msal-node polling while a browser-like client answers /devicelogin), userinfo, logout
 * and the My account page.
 */
let fx: SignInFixture;
let network: ReturnType<typeof caTrustingNetworkClient>;
before(async () => {
  fx = await startSignInFixture();
  const { readFileSync } = await import('node:fs');
  network = caTrustingNetworkClient(readFileSync(fx.behalf.caCertificatePath!, 'utf8'));
});
after(async () => {
  await network.close();
  await fx.close();
});

type Client = ReturnType<typeof cookieClient>;
type Step = Awaited<ReturnType<Client['request']>>;

/** Posts the page's form with its hidden fields plus `extra`. */
const submit = (client: Client, page: Step, extra: Record<string, string>) =>
  client.request(formAction(page.text, fx.behalf.url), { form: { ...formFields(page.text), ...extra } });

const credentials = (user: 'alice' | 'bob' | 'admin') => ({
  username: `${user}@contoso.test`,
  password: fx.password(user),
});

async function post(url: string, form: Record<string, string>) {
  const response = await fetch(url, {
    method: 'POST',
    dispatcher: fx.dispatcher,
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams(form).toString(),
  });
  return { status: response.status, body: (await response.json()) as Record<string, unknown> };
}

const deviceCodeUrl = () => `${fx.behalf.url}/${fx.tenant.id}/oauth2/v2.0/devicecode`;
const tokenUrl = () => `${fx.behalf.url}/${fx.tenant.id}/oauth2/v2.0/token`;

/** Types the user code on /devicelogin, signs in and (if asked) accepts consent; returns the last page. */
async function answerDeviceCode(userCode: string, user: 'alice' | 'admin', decision = 'accept') {
  const client = cookieClient(fx);
  const entry = await client.request(`${fx.behalf.url}/devicelogin`);
  assert.equal(entry.response.status, 200);
  assert.match(entry.text, /Enter code/);
  const signIn = await submit(client, entry, { user_code: userCode.toLowerCase() });
  assert.match(signIn.text, /Sign in/);
  let page = await submit(client, signIn, credentials(user));
  if (/Permissions requested/.test(page.text)) page = await submit(client, page, { decision });
  return page;
}

describe('admin consent endpoint', () => {
  const adminConsentUrl = (extra: Record<string, string> = {}) =>
    `${fx.behalf.url}/${fx.tenant.id}/v2.0/adminconsent?${new URLSearchParams({
      client_id: fx.client.appId,
      scope: 'api://orders/.default',
      redirect_uri: CLIENT_REDIRECT,
      state: 'ac-1',
      ...extra,
    })}`;

  it('refuses a non-administrator with a page, never a grant', async () => {
    const client = cookieClient(fx);
    const signIn = await client.request(adminConsentUrl());
    const refused = await submit(client, signIn, credentials('bob'));
    assert.match(refused.text, /AADSTS90008/);
    assert.equal(refused.response.headers.get('location'), null);
  });

  it('Cancel answers admin_consent=True with consent_required (AADSTS65004)', async () => {
    const client = cookieClient(fx);
    const signIn = await client.request(adminConsentUrl({ state: 'ac-cancel' }));
    const consent = await submit(client, signIn, credentials('admin'));
    const cancelled = await submit(client, consent, { decision: 'cancel' });
    assert.equal(cancelled.response.status, 302);
    const location = new URL(cancelled.response.headers.get('location')!);
    assert.equal(location.searchParams.get('error'), 'consent_required');
    assert.match(location.searchParams.get('error_description') ?? '', /^AADSTS65004:/);
    assert.equal(location.searchParams.get('state'), 'ac-cancel');
  });

  it('records an AllPrincipals grant and the app role assignment, then redirects with the tenant', async () => {
    const client = cookieClient(fx);
    const signIn = await client.request(adminConsentUrl());
    const consent = await submit(client, signIn, credentials('admin'));
    assert.match(consent.text, /for everyone in your organization/);
    assert.match(consent.text, /Read all orders of the signed-in user/);
    assert.match(consent.text, /Export orders/);
    const done = await submit(client, consent, { decision: 'accept' });
    assert.equal(done.response.status, 302);
    const location = new URL(done.response.headers.get('location')!);
    assert.equal(location.origin + location.pathname, CLIENT_REDIRECT);
    assert.equal(location.searchParams.get('admin_consent'), 'True');
    assert.equal(location.searchParams.get('tenant'), fx.tenant.id);
    assert.equal(location.searchParams.get('state'), 'ac-1');

    const { directory } = fx.behalf;
    const clientSp = (await directory.getServicePrincipalByAppId(fx.tenant.id, fx.client.appId))!;
    const apiSp = (await directory.getServicePrincipalByAppId(fx.tenant.id, fx.api.appId))!;
    const grants = await directory.listPermissionGrants({
      tenantId: fx.tenant.id,
      clientId: clientSp.id,
      resourceId: apiSp.id,
    });
    const organization = grants.find((g) => g.consentType === 'AllPrincipals');
    assert.ok(organization, 'an AllPrincipals grant');
    assert.deepEqual(organization.scope.split(' '), ['read']);
    const roles = await directory.listAppRoleAssignments({
      tenantId: fx.tenant.id,
      principalId: clientSp.id,
      resourceId: apiSp.id,
    });
    assert.deepEqual(
      roles.map((r) => r.appRoleId),
      [fx.api.appRoles[0]!.id],
    );
    // The app can now use its application permission.
    const token = await post(tokenUrl(), {
      grant_type: 'client_credentials',
      client_id: fx.client.appId,
      client_secret: fx.clientSecret,
      scope: 'api://orders/.default',
    });
    assert.equal(token.status, 200, JSON.stringify(token.body));
  });

  it('shows an unregistered redirect URI on a page and never redirects', async () => {
    const { response, text } = await cookieClient(fx).request(
      adminConsentUrl({ redirect_uri: 'https://attacker.example/' }),
    );
    assert.equal(response.status, 400);
    assert.equal(response.headers.get('location'), null);
    assert.match(text, /AADSTS50011/);
  });
});

describe('device code flow', () => {
  it('answers the device authorization request like Entra', async () => {
    const { status, body } = await post(deviceCodeUrl(), {
      client_id: BEHALF_CLI_APP_ID,
      scope: 'api://orders/read offline_access',
    });
    assert.equal(status, 200);
    assert.match(String(body.user_code), /^[A-Z0-9]{9}$/);
    assert.equal(body.verification_uri, `${fx.behalf.url}/devicelogin`);
    assert.equal(body.expires_in, 900);
    assert.equal(body.interval, 5);
    assert.equal(body.verification_uri_complete, undefined);
    assert.ok(String(body.message).includes(String(body.user_code)));
    // Polling before the user answers: authorization_pending (AADSTS70016).
    const pending = await post(tokenUrl(), {
      grant_type: 'urn:ietf:params:oauth:grant-type:device_code',
      client_id: BEHALF_CLI_APP_ID,
      device_code: String(body.device_code),
    });
    assert.equal(pending.status, 400);
    assert.equal(pending.body.error, 'authorization_pending');
    assert.deepEqual(pending.body.error_codes, [70016]);
    // A code never issued: bad_verification_code.
    const bad = await post(tokenUrl(), {
      grant_type: 'urn:ietf:params:oauth:grant-type:device_code',
      client_id: BEHALF_CLI_APP_ID,
      device_code: 'not-a-device-code',
    });
    assert.equal(bad.body.error, 'bad_verification_code');
  });

  it('refuses unknown clients and scopes at the device code endpoint', async () => {
    const unknown = await post(deviceCodeUrl(), {
      client_id: '11111111-2222-3333-4444-555555555555',
      scope: 'openid',
    });
    assert.equal(unknown.status, 400);
    assert.deepEqual(unknown.body.error_codes, [700016]);
    const noScope = await post(deviceCodeUrl(), { client_id: BEHALF_CLI_APP_ID });
    assert.deepEqual(noScope.body.error_codes, [900144]);
  });

  it('tells the device authorization_declined when the user cancels consent', async () => {
    const { body } = await post(deviceCodeUrl(), {
      client_id: BEHALF_CLI_APP_ID,
      scope: 'api://orders/read',
    });
    const last = await answerDeviceCode(String(body.user_code), 'alice', 'cancel');
    assert.match(last.text, /declined/);
    const declined = await post(tokenUrl(), {
      grant_type: 'device_code',
      client_id: BEHALF_CLI_APP_ID,
      device_code: String(body.device_code),
    });
    assert.equal(declined.body.error, 'authorization_declined');
  });

  it('an unknown user code is refused on the page', async () => {
    const client = cookieClient(fx);
    const entry = await client.request(`${fx.behalf.url}/devicelogin`);
    const wrong = await submit(client, entry, { user_code: 'ABCDEFGHJ' });
    assert.equal(wrong.response.status, 400);
    assert.match(wrong.text, /didn’t work/);
  });

  it('unmodified msal-node acquireTokenByDeviceCode gets Alice’s token; userinfo describes her', async () => {
    const pca = new PublicClientApplication({
      auth: {
        clientId: BEHALF_CLI_APP_ID,
        authority: `${fx.behalf.url}/${fx.tenant.id}`,
        knownAuthorities: [new URL(fx.behalf.url).host],
      },
      system: { networkClient: network },
    });
    let answered: Promise<Step> | undefined;
    const result = await pca.acquireTokenByDeviceCode({
      scopes: ['User.Read', 'email'],
      deviceCodeCallback: (response) => {
        assert.equal(response.verificationUri, `${fx.behalf.url}/devicelogin`);
        answered = answerDeviceCode(response.userCode, 'alice');
      },
    });
    const last = await answered!;
    assert.match(last.text, /You have signed in to the Behalf CLI application on your device/);
    assert.ok(result);
    assert.equal(result.account?.username, 'alice@contoso.test');

    const info = await fetch(`${fx.behalf.url}/oidc/userinfo`, {
      dispatcher: fx.dispatcher,
      headers: { authorization: `Bearer ${result.accessToken}` },
    });
    assert.equal(info.status, 200);
    const claims = (await info.json()) as Record<string, unknown>;
    assert.equal(claims.name, 'Alice Adams');
    assert.equal(claims.preferred_username, 'alice@contoso.test');
    assert.equal(claims.email, 'alice@contoso.test');
    // The same pairwise sub as the CLI's ID token.
    assert.equal(claims.sub, (result.idTokenClaims as { sub?: string }).sub);
    const anonymous = await fetch(`${fx.behalf.url}/oidc/userinfo`, { dispatcher: fx.dispatcher });
    assert.equal(anonymous.status, 401);
    assert.match(anonymous.headers.get('www-authenticate') ?? '', /^Bearer /);
    const forged = await fetch(`${fx.behalf.url}/oidc/userinfo`, {
      dispatcher: fx.dispatcher,
      headers: { authorization: `Bearer ${result.accessToken.slice(0, -4)}AAAA` },
    });
    assert.equal(forged.status, 401);
  });
});

describe('my account page and logout', () => {
  it('signs in on the account page, shows who is signed in, and logout ends the session', async () => {
    const client = cookieClient(fx);
    const accountUrl = `${fx.behalf.url}/${fx.tenant.id}/account`;
    const signIn = await client.request(accountUrl);
    assert.match(signIn.text, /to continue to My account/);
    const wrong = await submit(client, signIn, { username: 'alice@contoso.test', password: 'nope-nope' });
    assert.match(wrong.text, /account or password is incorrect/);
    const posted = await submit(client, wrong, credentials('alice'));
    assert.equal(posted.response.status, 302);
    assert.equal(posted.response.headers.get('location'), `/${fx.tenant.id}/account`);
    const account = await client.request(accountUrl);
    assert.match(account.text, /Alice Adams/);
    assert.match(account.text, /alice@contoso\.test/);
    // SSO: an application now gets a code without a password (consent was given in another test, or asked).
    const authorize = await client.request(
      fx.authorizeUrl({
        client_id: fx.client.appId,
        response_type: 'code',
        redirect_uri: CLIENT_REDIRECT,
        scope: 'openid',
      }),
    );
    assert.doesNotMatch(authorize.text, /name="password"/);

    // An unregistered post-logout URI is not followed.
    const logoutUrl = `${fx.behalf.url}/${fx.tenant.id}/oauth2/v2.0/logout`;
    const stray = await client.request(
      `${logoutUrl}?${new URLSearchParams({ client_id: fx.client.appId, post_logout_redirect_uri: 'https://attacker.example/' })}`,
    );
    assert.equal(stray.response.status, 200);
    assert.equal(stray.response.headers.get('location'), null);
    assert.match(stray.text, /You signed out/);
    assert.match((await client.request(accountUrl)).text, /to continue to My account/, 'the session is gone');
  });

  it('follows a registered post_logout_redirect_uri, found through id_token_hint, with state', async () => {
    const client = cookieClient(fx);
    const signIn = await client.request(`${fx.behalf.url}/${fx.tenant.id}/account`);
    await submit(client, signIn, credentials('bob'));
    const hint = [
      Buffer.from('{"alg":"none"}').toString('base64url'),
      Buffer.from(JSON.stringify({ aud: fx.client.appId, tid: fx.tenant.id })).toString('base64url'),
      '',
    ].join('.');
    const out = await client.request(
      `${fx.behalf.url}/${fx.tenant.id}/oauth2/v2.0/logout?${new URLSearchParams({
        id_token_hint: hint,
        post_logout_redirect_uri: CLIENT_REDIRECT,
        state: 'bye',
      })}`,
    );
    assert.equal(out.response.status, 302);
    assert.equal(out.response.headers.get('location'), `${CLIENT_REDIRECT}?state=bye`);
    assert.ok(
      out.response.headers.getSetCookie().some((c) => /^__Host-behalf-sso-[^=]+=;.*Max-Age=0/.test(c)),
    );
  });
});

describe('front-channel ID token (hybrid and implicit)', () => {
  it('returns code + id_token in the fragment with nonce and c_hash, only to apps that enable it', async () => {
    const { directory } = fx.behalf;
    const app = await directory.createApplication(fx.tenant.id, {
      displayName: 'Hybrid Portal',
      web: { redirectUris: [CLIENT_REDIRECT], implicitGrantSettings: { enableIdTokenIssuance: true } },
    });
    const { secretText } = await directory.addPassword(fx.tenant.id, app.id, { displayName: 'test' });
    const client = cookieClient(fx);
    const signIn = await client.request(
      fx.authorizeUrl({
        client_id: app.appId,
        response_type: 'code id_token',
        redirect_uri: CLIENT_REDIRECT,
        scope: 'openid profile',
        nonce: 'n-hybrid',
        state: 'h-1',
      }),
    );
    let done = await submit(client, signIn, credentials('alice'));
    if (/Permissions requested/.test(done.text)) done = await submit(client, done, { decision: 'accept' });
    assert.equal(done.response.status, 302);
    const location = new URL(done.response.headers.get('location')!);
    assert.equal(location.search, '', 'hybrid answers in the fragment');
    const fragment = new URLSearchParams(location.hash.slice(1));
    const code = fragment.get('code')!;
    const idToken = fragment.get('id_token')!;
    assert.equal(fragment.get('state'), 'h-1');

    const keys = jose.createRemoteJWKSet(new URL(`${fx.behalf.url}/${fx.tenant.id}/discovery/v2.0/keys`), {
      [jose.customFetch]: (url: string, init: RequestInit) =>
        fetch(url, { ...(init as object), dispatcher: fx.dispatcher }) as unknown as Promise<Response>,
    });
    const { payload } = await jose.jwtVerify(idToken, keys, {
      issuer: `${fx.behalf.url}/${fx.tenant.id}/v2.0`,
      audience: app.appId,
    });
    assert.equal(payload.nonce, 'n-hybrid');
    assert.equal(payload.preferred_username, 'alice@contoso.test');
    const digest = createHash('sha256').update(code).digest();
    assert.equal(payload.c_hash, digest.subarray(0, 16).toString('base64url'));

    // The code still redeems, and the back-channel ID token names the same subject.
    const token = await post(tokenUrl(), {
      grant_type: 'authorization_code',
      client_id: app.appId,
      client_secret: secretText,
      code,
      redirect_uri: CLIENT_REDIRECT,
      scope: 'openid profile',
    });
    assert.equal(token.status, 200, JSON.stringify(token.body));
    assert.equal(jose.decodeJwt(String(token.body.id_token)).sub, payload.sub);

    // An app that did not enable ID token issuance is refused (AADSTS700054), as Entra does.
    const refused = await cookieClient(fx).request(
      fx.authorizeUrl({
        client_id: fx.client.appId,
        response_type: 'id_token',
        redirect_uri: CLIENT_REDIRECT,
        scope: 'openid',
        nonce: 'n',
      }),
    );
    const back = new URL(refused.response.headers.get('location')!);
    assert.match(new URLSearchParams(back.hash.slice(1)).get('error_description') ?? '', /^AADSTS700054/);
  });
});
