import assert from 'node:assert/strict';
import { setTimeout as sleep } from 'node:timers/promises';
import { after, before, describe, it } from 'node:test';
import { request } from 'undici';
import { DEMO_APP_IDS } from '../../examples/demo-apis.ts';
import { startEasyAuthBehalf } from '../support/easyauth-behalf.ts';
import type { EasyAuthBehalf } from '../support/easyauth-behalf.ts';

/**
 * The demo APIs against Behalf's real token service: user tokens by ROPC from the real /token, keys
 * from the real discovery + JWKS over HTTPS (the APIs trust Behalf's local CA), rotation by the real
 * signing key ring.
 */
interface Listing {
  value: { isRead: boolean; subject: string }[];
}

describe('Easy Auth with Behalf as the identity provider', () => {
  let env: EasyAuthBehalf;
  const UNREAD = `/v1.0/me/mailFolders/inbox/messages?$top=10&$filter=${encodeURIComponent('isRead eq false')}`;
  const mail = (path: string, token: string) =>
    fetch(env.demo.urls.mailApi + path, { headers: { authorization: `Bearer ${token}` } });

  before(async () => {
    env = await startEasyAuthBehalf();
  });
  after(() => env?.close());

  it("Alice's token reads her unread mail", async () => {
    const token = await env.userToken(env.users.alice, 'api://contoso-mail/Mail.Read');
    const claims = JSON.parse(Buffer.from(token.split('.')[1]!, 'base64url').toString()) as Record<
      string,
      unknown
    >;
    assert.equal(claims['aud'], DEMO_APP_IDS.mailApi, 'a v2 token is addressed to the appId');
    const response = await mail(UNREAD, token);
    assert.equal(response.status, 200);
    const body = (await response.json()) as Listing;
    assert.equal(body.value.length, 4);
    assert.ok(body.value.every((m) => !m.isRead));
  });

  it("Bob's token gets the 403: he has no mailbox", async () => {
    const response = await mail(UNREAD, await env.userToken(env.users.bob, 'api://contoso-mail/Mail.Read'));
    assert.equal(response.status, 403);
    assert.deepEqual(
      ((await response.json()) as { error: { code: string } }).error.code,
      'ErrorAccessDenied',
    );
  });

  it('a token without Mail.Read (only Mail.Send consented and requested) gets 403 insufficient_scope', async () => {
    const response = await mail(UNREAD, await env.userToken(env.users.alice, 'api://contoso-mail/Mail.Send'));
    assert.equal(response.status, 403);
    assert.match(response.headers.get('www-authenticate') ?? '', /error="insufficient_scope"/);
  });

  it('a token for the Resource Manager (v1, https://management.contoso.test/) is refused by Mail and accepted by Resource Manager', async () => {
    const token = await env.userToken(env.users.alice, 'https://management.contoso.test//user_impersonation');
    const claims = JSON.parse(Buffer.from(token.split('.')[1]!, 'base64url').toString()) as Record<
      string,
      unknown
    >;
    assert.equal(claims['ver'], '1.0');
    const refused = await mail(UNREAD, token);
    assert.equal(refused.status, 401);
    assert.match(((await refused.json()) as { error: { message: string } }).error.message, /audience/);
    const subs = await fetch(`${env.demo.urls.resourceManagerApi}/subscriptions?api-version=2022-12-01`, {
      headers: { authorization: `Bearer ${token}` },
    });
    assert.equal(subs.status, 200);
    assert.equal(((await subs.json()) as { value: unknown[] }).value.length, 2);
  });

  it("picks up Behalf's key rotation without a restart", async () => {
    assert.equal(
      (await mail(UNREAD, await env.userToken(env.users.alice, 'api://contoso-mail/Mail.Read'))).status,
      200,
    );
    // Behalf publishes the next key ahead of time; two rotations make the signing key one the API has never seen.
    await env.behalf.signingKeys.rotate();
    await env.behalf.signingKeys.rotate();
    const token = await env.userToken(env.users.alice, 'api://contoso-mail/Mail.Read');
    const kid = (JSON.parse(Buffer.from(token.split('.')[0]!, 'base64url').toString()) as { kid: string })
      .kid;
    const jwksResponse = await request(`${env.behalf.url}/${env.tenantId}/discovery/v2.0/keys`, {
      dispatcher: env.dispatcher,
    });
    const jwks = (await jwksResponse.body.json()) as { keys: { kid: string }[] };
    assert.ok(jwks.keys.some((k) => k.kid === kid));
    // The fixture sets a 1 s refetch cooldown; the API fetched the JWKS at its first request above.
    const early = await mail(UNREAD, token);
    if (early.status === 401) {
      assert.match(((await early.json()) as { error: { message: string } }).error.message, /unknown key/);
      await sleep(1100);
    }
    const response = await mail(UNREAD, token);
    assert.equal(response.status, 200);
  });
});
