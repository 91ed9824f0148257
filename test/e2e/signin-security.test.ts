import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import {
  CLIENT_REDIRECT,
  cookieClient,
  formAction,
  formFields,
  startSignInFixture,
} from './signin-fixture.ts';
import type { SignInFixture } from './signin-fixture.ts';

let fx: SignInFixture;
before(async () => {
  fx = await startSignInFixture();
});
after(async () => {
  await fx.close();
});

const codeRequest = (extra: Record<string, string> = {}) => ({
  client_id: fx.client.appId,
  response_type: 'code',
  redirect_uri: CLIENT_REDIRECT,
  scope: 'openid profile api://orders/read',
  state: 'st-1',
  ...extra,
});

/** Signs in through the pages with fetch; returns the client and the final response. */
async function signInWithFetch(user: 'alice' | 'bob' | 'admin', params = codeRequest()) {
  const client = cookieClient(fx);
  const page = await client.request(fx.authorizeUrl(params));
  assert.equal(page.response.status, 200);
  const done = await client.request(formAction(page.text, fx.behalf.url), {
    form: { ...formFields(page.text), username: `${user}@contoso.test`, password: fx.password(user) },
  });
  return { client, done };
}

describe('sign-in pages: security', () => {
  it('answers an unregistered redirect URI with an error page showing it, never a redirect', async () => {
    const { response, text } = await cookieClient(fx).request(
      fx.authorizeUrl(codeRequest({ redirect_uri: 'https://attacker.example/steal' })),
    );
    assert.equal(response.status, 400);
    assert.equal(response.headers.get('location'), null);
    assert.match(text, /AADSTS50011/);
    assert.match(text, /https:\/\/attacker\.example\/steal/);
    assert.match(text, /Correlation ID: <span class="code">[0-9a-f-]{36}<\/span>/);
    // A near miss (trailing slash, other case) is a mismatch too: matching is exact.
    for (const near of [CLIENT_REDIRECT + '/', CLIENT_REDIRECT.toUpperCase()]) {
      const miss = await cookieClient(fx).request(fx.authorizeUrl(codeRequest({ redirect_uri: near })));
      assert.equal(miss.response.status, 400);
      assert.equal(miss.response.headers.get('location'), null);
    }
  });

  it('escapes what it echoes', async () => {
    const { text } = await cookieClient(fx).request(
      fx.authorizeUrl(codeRequest({ redirect_uri: 'https://x.example/"><script>alert(1)</script>' })),
    );
    assert.doesNotMatch(text, /<script>alert/);
    assert.match(text, /&lt;script&gt;alert\(1\)&lt;\/script&gt;/);
  });

  it('forbids framing and inline script on every page', async () => {
    const { response } = await cookieClient(fx).request(fx.authorizeUrl(codeRequest()));
    assert.equal(response.headers.get('x-frame-options'), 'DENY');
    const csp = response.headers.get('content-security-policy') ?? '';
    assert.match(csp, /frame-ancestors 'none'/);
    assert.match(csp, /script-src 'none'/);
    assert.match(csp, /default-src 'none'/);
    for (const cookie of response.headers.getSetCookie())
      assert.match(cookie, /^__Host-[^;]+; Path=\/; Secure; HttpOnly/);
  });

  it('refuses a sign-in form posted without its CSRF token', async () => {
    const client = cookieClient(fx);
    const page = await client.request(fx.authorizeUrl(codeRequest()));
    const fields = formFields(page.text);
    const credentials = { username: 'alice@contoso.test', password: fx.password('alice') };
    for (const form of [
      { interaction: fields.interaction!, ...credentials },
      { interaction: fields.interaction!, csrf_token: 'forged', ...credentials },
    ]) {
      const posted = await client.request(formAction(page.text, fx.behalf.url), { form });
      assert.equal(posted.response.status, 400);
      assert.match(posted.text, /AADSTS90100/);
      assert.equal(posted.response.headers.get('location'), null);
      assert.ok(!posted.response.headers.getSetCookie().some((c) => c.startsWith('__Host-behalf-sso-')));
    }
    // The same form from another browser (no CSRF cookie) fails too, even with the token copied.
    const stranger = cookieClient(fx);
    const posted = await stranger.request(formAction(page.text, fx.behalf.url), {
      form: { ...fields, ...credentials },
    });
    assert.match(posted.text, /AADSTS90100/);
  });

  it('signs in, issues a code to the registered redirect URI, and echoes state', async () => {
    // Alice consents first (the page would ask), then the code arrives.
    const { client, done } = await signInWithFetch('alice');
    assert.equal(done.response.status, 200);
    assert.match(done.text, /Permissions requested/);
    assert.match(done.text, /Read your orders/);
    const accepted = await client.request(formAction(done.text, fx.behalf.url), {
      form: { ...formFields(done.text), decision: 'accept' },
    });
    assert.equal(accepted.response.status, 302);
    const location = new URL(accepted.response.headers.get('location')!);
    assert.equal(location.origin + location.pathname, CLIENT_REDIRECT);
    assert.equal(location.searchParams.get('state'), 'st-1');
    assert.match(location.searchParams.get('code') ?? '', /^[A-Za-z0-9_-]{40,}$/);
    // SSO: a second request needs no password and, consent given, no page at all.
    const silent = await client.request(fx.authorizeUrl(codeRequest({ prompt: 'none', state: 'st-2' })));
    assert.equal(silent.response.status, 302);
    const again = new URL(silent.response.headers.get('location')!);
    assert.ok(again.searchParams.get('code'));
    assert.notEqual(again.searchParams.get('code'), location.searchParams.get('code'));
  });

  it('engages lockout after repeated failures, even for the right password', async () => {
    const client = cookieClient(fx);
    const page = await client.request(fx.authorizeUrl(codeRequest()));
    let last = page.text;
    for (let i = 0; i < 5; i++) {
      const attempt = await client.request(formAction(last, fx.behalf.url), {
        form: { ...formFields(last), username: 'bob@contoso.test', password: 'wrong-password-' + i },
      });
      assert.equal(attempt.response.status, 400);
      last = attempt.text;
    }
    assert.match(last, /temporarily locked/);
    const right = await client.request(formAction(last, fx.behalf.url), {
      form: { ...formFields(last), username: 'bob@contoso.test', password: fx.password('bob') },
    });
    assert.equal(right.response.status, 400);
    assert.match(right.text, /temporarily locked/);
    assert.ok(!right.response.headers.getSetCookie().some((c) => c.startsWith('__Host-behalf-sso-')));
  });

  it('says the same thing for an unknown user as for a wrong password', async () => {
    const client = cookieClient(fx);
    const page = await client.request(fx.authorizeUrl(codeRequest()));
    const unknown = await client.request(formAction(page.text, fx.behalf.url), {
      form: { ...formFields(page.text), username: 'nobody@contoso.test', password: 'whatever-123' },
    });
    const wrong = await client.request(formAction(unknown.text, fx.behalf.url), {
      form: { ...formFields(unknown.text), username: 'admin@contoso.test', password: 'whatever-123' },
    });
    const message = (t: string) => /<p class="error"[^>]*>([^<]+)</.exec(t)?.[1];
    assert.ok(message(unknown.text));
    assert.equal(message(unknown.text), message(wrong.text));
  });

  it('makes a session cookie from one tenant useless in another', async () => {
    const { client } = await signInWithFetch('alice');
    const contosoCookie = [...client.jar].find(([name]) => name === `__Host-behalf-sso-${fx.tenant.id}`);
    assert.ok(contosoCookie, 'signed in to Contoso');
    const forged = `__Host-behalf-sso-${fx.otherTenant.id}=${contosoCookie[1]}; ${contosoCookie[0]}=${contosoCookie[1]}`;
    const { response } = await client.request(
      fx.authorizeUrl(
        {
          client_id: fx.otherClient.appId,
          response_type: 'code',
          redirect_uri: CLIENT_REDIRECT,
          scope: 'openid',
          prompt: 'none',
        },
        { tenant: fx.otherTenant.id },
      ),
      { cookie: forged },
    );
    assert.equal(response.status, 302);
    const location = new URL(response.headers.get('location')!);
    assert.equal(location.searchParams.get('error'), 'login_required');
    assert.equal(location.searchParams.get('code'), null);
  });

  it('redirects errors found after the redirect URI is verified, with state', async () => {
    const { response } = await cookieClient(fx).request(
      fx.authorizeUrl(codeRequest({ response_type: 'token', state: 'abc' })),
    );
    assert.equal(response.status, 302);
    const location = new URL(response.headers.get('location')!);
    assert.equal(location.searchParams.get('error'), 'unsupported_response_type');
    assert.equal(location.searchParams.get('state'), 'abc');
    assert.match(location.searchParams.get('error_description') ?? '', /^AADSTS\d+: /);
  });
});
