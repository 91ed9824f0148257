import assert from 'node:assert/strict';
import { randomBytes, randomUUID } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { startReverseProxy } from '../../src/easyauth/index.ts';
import type { ReverseProxy } from '../../src/easyauth/index.ts';
import { startPythonEcho } from '../support/easyauth-python-upstream.ts';
import type { PythonUpstream } from '../support/easyauth-python-upstream.ts';
import { startTestIssuer } from '../support/easyauth-test-issuer.ts';
import type { TestIssuer } from '../support/easyauth-test-issuer.ts';

/**
 * The /.auth endpoints driven over HTTP the way a browser would (redirects followed by hand, cookies
 * carried), against the test issuer's auto-approving /authorize. The Playwright run against Behalf's
 * own sign-in page is in easyauth-browser.test.ts.
 */
const API = randomUUID();
const alice = { oid: randomUUID(), upn: 'alice@contoso.test', name: 'Alice Anders' };

function cookiesOf(response: Response): Map<string, string> {
  const jar = new Map<string, string>();
  for (const line of response.headers.getSetCookie()) {
    const [pair] = line.split(';');
    const eq = pair!.indexOf('=');
    jar.set(pair!.slice(0, eq), pair!.slice(eq + 1));
  }
  return jar;
}
const cookieHeader = (jar: Map<string, string>) => [...jar].map(([k, v]) => `${k}=${v}`).join('; ');

describe('Easy Auth browser sign-in endpoints', () => {
  let issuer: TestIssuer;
  let echo: PythonUpstream;
  let proxy: ReverseProxy;

  before(async () => {
    issuer = await startTestIssuer();
    issuer.signInAs(alice);
    echo = await startPythonEcho();
    proxy = await startReverseProxy({
      authority: issuer.authority,
      audiences: [API],
      upstream: echo.url,
      port: 0,
      unauthenticatedAction: '302',
      login: {
        clientId: API,
        clientSecret: 'not-checked-by-the-test-issuer',
        scopes: [`${API}/Files.Read`],
        sessionKey: randomBytes(32),
      },
    });
  });
  after(async () => {
    await proxy.close();
    await echo.close();
    await issuer.close();
  });

  async function signIn(returnTo: string) {
    const start = await fetch(
      `${proxy.url}/.auth/login/aad?post_login_redirect_uri=${encodeURIComponent(returnTo)}`,
      { redirect: 'manual' },
    );
    assert.equal(start.status, 302);
    const authorize = new URL(start.headers.get('location')!);
    assert.equal(authorize.origin + authorize.pathname, `${issuer.authority}/oauth2/v2.0/authorize`);
    assert.equal(authorize.searchParams.get('code_challenge_method'), 'S256');
    assert.equal(authorize.searchParams.get('redirect_uri'), `${proxy.url}/.auth/login/aad/callback`);
    const flow = cookiesOf(start);
    const back = await fetch(authorize, { redirect: 'manual' });
    const callback = back.headers.get('location')!;
    return { flow, callback };
  }

  it('signs in with code + PKCE, then /.auth/me shows the user and the app receives the identity', async () => {
    const { flow, callback } = await signIn('/dashboard?tab=1');
    const done = await fetch(callback, { headers: { cookie: cookieHeader(flow) }, redirect: 'manual' });
    assert.equal(done.status, 302);
    assert.equal(done.headers.get('location'), '/dashboard?tab=1');
    const session = cookiesOf(done);
    assert.ok(session.get('BehalfAuthSession'));
    assert.ok(!session.get('BehalfAuthSession')!.includes(alice.upn), 'the cookie is sealed');
    const me = await fetch(`${proxy.url}/.auth/me`, { headers: { cookie: cookieHeader(session) } });
    assert.equal(me.status, 200);
    const [entry] = (await me.json()) as {
      provider_name: string;
      user_id: string;
      user_claims: { typ: string; val: string }[];
    }[];
    assert.equal(entry!.provider_name, 'aad');
    assert.equal(entry!.user_id, alice.upn);
    assert.ok(entry!.user_claims.some((c) => c.typ === 'oid' && c.val === alice.oid));
    const app = await fetch(`${proxy.url}/dashboard`, { headers: { cookie: cookieHeader(session) } });
    const seen = (await app.json()) as { headers: Record<string, string> };
    assert.equal(seen.headers['x-ms-client-principal-name'], alice.upn);
    assert.equal(seen.headers['cookie']?.includes('BehalfAuthSession'), true);

    const tokenCalls = issuer.counters.token;
    assert.equal(
      (await fetch(`${proxy.url}/.auth/refresh`, { headers: { cookie: cookieHeader(session) } })).status,
      204,
    );
    assert.equal(issuer.counters.token, tokenCalls + 1);

    const out = await fetch(`${proxy.url}/.auth/logout?post_logout_redirect_uri=/bye`, {
      headers: { cookie: cookieHeader(session) },
      redirect: 'manual',
    });
    assert.equal(out.headers.get('location'), '/bye');
    assert.equal(cookiesOf(out).get('BehalfAuthSession'), '');
    // The old cookie is dead server-side too: the token store entry is gone.
    assert.equal(
      (await fetch(`${proxy.url}/.auth/me`, { headers: { cookie: cookieHeader(session) } })).status,
      401,
    );
  });

  it('refuses a callback whose state does not match or that lacks the flow cookie', async () => {
    const { flow, callback } = await signIn('/');
    const tampered = new URL(callback);
    tampered.searchParams.set('state', 'forged');
    assert.equal(
      (await fetch(tampered, { headers: { cookie: cookieHeader(flow) }, redirect: 'manual' })).status,
      400,
    );
    assert.equal((await fetch(callback, { redirect: 'manual' })).status, 400);
    const forgedCookie = new Map([['BehalfAuthSession', randomBytes(60).toString('base64url')]]);
    assert.equal(
      (await fetch(`${proxy.url}/.auth/me`, { headers: { cookie: cookieHeader(forgedCookie) } })).status,
      401,
    );
  });

  it('never redirects off-site after sign-in', async () => {
    const { flow, callback } = await signIn('https://evil.test/phish');
    const done = await fetch(callback, { headers: { cookie: cookieHeader(flow) }, redirect: 'manual' });
    assert.equal(done.headers.get('location'), '/');
  });
});
