import assert from 'node:assert/strict';
import { randomBytes, randomUUID } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { parseClientPrincipal, startReverseProxy } from '../../src/easyauth/index.ts';
import type { ReverseProxy, ReverseProxyOptions } from '../../src/easyauth/index.ts';
import { startPythonEcho, startPythonHttpServer } from '../support/easyauth-python-upstream.ts';
import type { PythonUpstream } from '../support/easyauth-python-upstream.ts';
import { startTestIssuer } from '../support/easyauth-test-issuer.ts';
import type { TestIssuer } from '../support/easyauth-test-issuer.ts';

/** `behalf protect` in front of apps written in Python: identity headers in, spoofed ones out. */
const API = randomUUID();
const alice = { oid: randomUUID(), upn: 'alice@contoso.test', name: 'Alice Anders' };

interface Echo {
  method: string;
  path: string;
  headers: Record<string, string>;
  body: string;
}

describe('Easy Auth reverse proxy', () => {
  let issuer: TestIssuer;
  let echo: PythonUpstream;
  let staticServer: PythonUpstream;
  const proxies: ReverseProxy[] = [];
  const proxy = async (extra: Partial<ReverseProxyOptions> = {}) => {
    const p = await startReverseProxy({
      authority: issuer.authority,
      audiences: [API],
      upstream: echo.url,
      port: 0,
      ...extra,
    });
    proxies.push(p);
    return p;
  };
  const token = () =>
    issuer.accessToken({ aud: API, user: alice, scp: 'Files.Read', roles: ['Reader', 'Writer'] });

  before(async () => {
    issuer = await startTestIssuer();
    [echo, staticServer] = await Promise.all([
      startPythonEcho(),
      startPythonHttpServer('<h1>hello from python</h1>'),
    ]);
  });
  after(async () => {
    for (const p of proxies) await p.close();
    await Promise.all([echo.close(), staticServer.close(), issuer.close()]);
  });

  it('protects python3 -m http.server: 401 without a token, the page with one', async () => {
    const p = await proxy({ upstream: staticServer.url });
    const anonymous = await fetch(p.url + '/index.html');
    assert.equal(anonymous.status, 401);
    assert.match(anonymous.headers.get('www-authenticate') ?? '', /^Bearer /);
    const ok = await fetch(p.url + '/index.html', { headers: { authorization: `Bearer ${await token()}` } });
    assert.equal(ok.status, 200);
    assert.equal(await ok.text(), '<h1>hello from python</h1>');
  });

  it('passes the App Service identity headers and strips spoofed X-MS-* headers', async () => {
    const p = await proxy();
    const forged = Buffer.from(
      JSON.stringify({ auth_typ: 'aad', claims: [{ typ: 'roles', val: 'Admin' }] }),
    ).toString('base64');
    const response = await fetch(p.url + '/orders?x=1', {
      method: 'POST',
      headers: {
        authorization: `Bearer ${await token()}`,
        'x-ms-client-principal': forged,
        'x-ms-client-principal-id': 'mallory',
        'X-MS-TOKEN-AAD-ACCESS-TOKEN': 'forged',
        'content-type': 'application/json',
      },
      body: '{"item":42}',
    });
    assert.equal(response.status, 200);
    const seen = (await response.json()) as Echo;
    assert.equal(seen.method, 'POST');
    assert.equal(seen.path, '/orders?x=1');
    assert.equal(seen.body, '{"item":42}');
    assert.equal(seen.headers['x-ms-client-principal-id'], alice.oid);
    assert.equal(seen.headers['x-ms-client-principal-name'], alice.upn);
    assert.equal(seen.headers['x-ms-client-principal-idp'], 'aad');
    assert.equal(
      seen.headers['x-ms-token-aad-access-token'],
      undefined,
      'the token is forwarded only on opt-in',
    );
    const principal = parseClientPrincipal(seen.headers['x-ms-client-principal']!);
    assert.equal(principal.auth_typ, 'aad');
    const claim = (typ: string) => principal.claims.filter((c) => c.typ === typ).map((c) => c.val);
    assert.deepEqual(claim('http://schemas.microsoft.com/identity/claims/objectidentifier'), [alice.oid]);
    assert.deepEqual(claim(principal.role_typ), ['Reader', 'Writer']);
    assert.deepEqual(claim('preferred_username'), [alice.upn]);
    assert.ok(!principal.claims.some((c) => c.val === 'Admin'), 'the forged principal never reaches the app');
  });

  it('strips spoofed headers from anonymous requests too, and forwards the token on opt-in', async () => {
    const anonymous = await proxy({ unauthenticatedAction: 'allow' });
    const seen = (await (
      await fetch(anonymous.url + '/', { headers: { 'x-ms-client-principal-name': 'admin' } })
    ).json()) as Echo;
    assert.equal(seen.headers['x-ms-client-principal-name'], undefined);
    const withToken = await proxy({ forwardAccessToken: true });
    const t = await token();
    const echoed = (await (
      await fetch(withToken.url + '/', { headers: { authorization: `Bearer ${t}` } })
    ).json()) as Echo;
    assert.equal(echoed.headers['x-ms-token-aad-access-token'], t);
  });

  it('applies each unauthenticated action', async () => {
    const redirecting = await proxy({
      unauthenticatedAction: '302',
      login: { clientId: API, sessionKey: randomBytes(32) },
    });
    const browser = await fetch(redirecting.url + '/reports?q=1', {
      headers: { accept: 'text/html' },
      redirect: 'manual',
    });
    assert.equal(browser.status, 302);
    assert.equal(
      browser.headers.get('location'),
      '/.auth/login/aad?post_login_redirect_uri=%2Freports%3Fq%3D1',
    );
    assert.equal(
      (await fetch(redirecting.url + '/reports', { headers: { accept: 'application/json' } })).status,
      401,
    );
    assert.equal((await fetch((await proxy({ unauthenticatedAction: '403' })).url + '/')).status, 403);
    assert.equal((await fetch((await proxy({ unauthenticatedAction: '404' })).url + '/')).status, 404);
    // allow anonymous still refuses a bad token: credentials that were sent must be valid.
    const allow = await proxy({ unauthenticatedAction: 'allow' });
    assert.equal((await fetch(allow.url + '/')).status, 200);
    assert.equal((await fetch(allow.url + '/', { headers: { authorization: 'Bearer x.y.z' } })).status, 401);
  });

  it('answers CORS preflights for allowed origins only', async () => {
    const p = await proxy({ cors: { allowedOrigins: ['https://apim.contoso.test'] } });
    const preflight = (origin: string) =>
      fetch(p.url + '/orders', {
        method: 'OPTIONS',
        headers: {
          origin,
          'access-control-request-method': 'POST',
          'access-control-request-headers': 'authorization',
        },
      });
    const ok = await preflight('https://apim.contoso.test');
    assert.equal(ok.status, 204);
    assert.equal(ok.headers.get('access-control-allow-origin'), 'https://apim.contoso.test');
    assert.equal(ok.headers.get('access-control-allow-headers'), 'authorization');
    const refused = await preflight('https://evil.test');
    assert.equal(refused.headers.get('access-control-allow-origin'), null);
    const actual = await fetch(p.url + '/', {
      headers: { origin: 'https://apim.contoso.test', authorization: `Bearer ${await token()}` },
    });
    assert.equal(actual.headers.get('access-control-allow-origin'), 'https://apim.contoso.test');
  });

  it('answers 502 when the upstream is down', async () => {
    const p = await proxy({ upstream: 'http://127.0.0.1:9' });
    const response = await fetch(p.url + '/', { headers: { authorization: `Bearer ${await token()}` } });
    assert.equal(response.status, 502);
  });
});
