import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { after, before, describe, it } from 'node:test';
import { startMailApi } from '../../examples/mail-api/server.ts';
import type { RunningApi } from '../../examples/serve.ts';
import { startTestIssuer } from '../support/easyauth-test-issuer.ts';
import type { TestIssuer } from '../support/easyauth-test-issuer.ts';

/**
 * The Contoso Mail demo API behind Easy Auth, over real HTTP, with tokens from the Entra-shaped test
 * issuer (each rejection case is a token a real client could present).
 */
const MAIL_APP = randomUUID();
const alice = { oid: randomUUID(), upn: 'alice@contoso.test', name: 'Alice Anders' };
const bob = { oid: randomUUID(), upn: 'bob@contoso.test', name: 'Bob Brown' };
const UNREAD = `/v1.0/me/mailFolders/inbox/messages?$top=10&$filter=${encodeURIComponent('isRead eq false')}`;

interface GraphError {
  error: { code: string; message: string };
}

describe('Contoso Mail behind Easy Auth', () => {
  let issuer: TestIssuer;
  let api: RunningApi;
  const get = (path: string, token?: string, headers: Record<string, string> = {}) =>
    fetch(api.url + path, {
      headers: { ...(token ? { authorization: `Bearer ${token}` } : {}), ...headers },
    });
  const userToken = (user = alice, extra: Partial<Parameters<TestIssuer['accessToken']>[0]> = {}) =>
    issuer.accessToken({ aud: MAIL_APP, user, scp: 'Mail.Read Mail.Send', ...extra });
  async function rejected(response: Response, status: number, description: RegExp) {
    assert.equal(response.status, status);
    const body = (await response.json()) as GraphError;
    assert.match(body.error.message, description);
    if (status === 401) {
      const challenge = response.headers.get('www-authenticate') ?? '';
      assert.match(challenge, /^Bearer realm="/);
      assert.match(challenge, /error="invalid_token"/);
      assert.match(challenge, /error_description="/);
    }
    return body;
  }

  before(async () => {
    issuer = await startTestIssuer();
    api = await startMailApi({
      authority: issuer.authority,
      tenantId: issuer.tenantId,
      audiences: [MAIL_APP, 'api://contoso-mail'],
      keyRefreshCooldownMs: 200,
    });
  });
  after(async () => {
    await api.close();
    await issuer.close();
  });

  it("Alice's token reads her unread mail, newest first, with $top, $filter and $select", async () => {
    const response = await get(UNREAD, await userToken());
    assert.equal(response.status, 200);
    const body = (await response.json()) as {
      value: { isRead: boolean; receivedDateTime: string; subject: string }[];
    };
    assert.equal(body.value.length, 4);
    assert.ok(body.value.every((m) => m.isRead === false));
    const dates = body.value.map((m) => m.receivedDateTime);
    assert.deepEqual(dates, [...dates].sort().reverse());
    const selected = (await (
      await get('/v1.0/me/messages?$top=2&$select=subject', await userToken())
    ).json()) as {
      value: Record<string, unknown>[];
      '@odata.nextLink'?: string;
    };
    assert.deepEqual(Object.keys(selected.value[0]!).sort(), ['id', 'subject']);
    assert.ok(selected['@odata.nextLink']?.includes('%24skip=2'));
    const one = await get(
      `/v1.0/me/messages/${encodeURIComponent(String(selected.value[0]!['id']))}`,
      await userToken(),
    );
    assert.equal(((await one.json()) as { subject: string }).subject, selected.value[0]!['subject']);
    const badFilter = await get(
      `/v1.0/me/messages?$filter=${encodeURIComponent("subject eq 'x'")}`,
      await userToken(),
    );
    assert.equal(badFilter.status, 400);
  });

  it("Bob's token gets 403 ErrorAccessDenied: he has no mailbox", async () => {
    const body = await rejected(
      await get(UNREAD, await userToken(bob)),
      403,
      /^Access is denied\. Check credentials and try again\.$/,
    );
    assert.equal(body.error.code, 'ErrorAccessDenied');
  });

  it('sendMail needs Mail.Send and delivers a copy to Sent Items', async () => {
    const send = (token: string) =>
      fetch(api.url + '/v1.0/me/sendMail', {
        method: 'POST',
        headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
        body: JSON.stringify({
          message: {
            subject: 'Status',
            body: { contentType: 'Text', content: 'All green.' },
            toRecipients: [{ emailAddress: { address: 'megan@contoso.test' } }],
          },
        }),
      });
    await rejected(
      await send(await userToken(alice, { scp: 'Mail.Read' })),
      403,
      /delegated permission required: one of Mail\.Send/,
    );
    assert.equal((await send(await userToken())).status, 202);
    const sent = (await (
      await get('/v1.0/me/mailFolders/sentitems/messages?$top=50', await userToken())
    ).json()) as { value: { subject: string }[] };
    assert.ok(sent.value.some((m) => m.subject === 'Status'));
  });

  it('no token gets 401 with a Bearer challenge naming where to sign in', async () => {
    const response = await get(UNREAD);
    assert.equal(response.status, 401);
    const challenge = response.headers.get('www-authenticate') ?? '';
    assert.match(challenge, /^Bearer realm="[^"]+"/);
    assert.match(challenge, new RegExp(`authorization_uri="${issuer.authority}/oauth2/authorize"`));
    assert.doesNotMatch(challenge, /error=/, 'RFC 6750 §3.1: no error code when no credentials were sent');
  });

  it('rejects, each with its own description: another audience, another tenant, expired, unknown key, alg none', async () => {
    await rejected(
      await get(UNREAD, await issuer.accessToken({ aud: randomUUID(), user: alice, scp: 'Mail.Read' })),
      401,
      /audience .* is not accepted/,
    );
    const otherTenant = randomUUID();
    await rejected(
      await get(UNREAD, await userToken(alice, { tid: otherTenant })),
      401,
      new RegExp(`issuer '.*${otherTenant}/v2.0' is not accepted`),
    );
    const longAgo = Math.floor(Date.now() / 1000) - 7200;
    await rejected(
      await get(UNREAD, await userToken(alice, { issuedAt: longAgo, lifetimeSeconds: 3600 })),
      401,
      /expired at/,
    );
    const foreign = await issuer.sign(
      {
        aud: MAIL_APP,
        iss: `${issuer.authority}/v2.0`,
        tid: issuer.tenantId,
        exp: Math.floor(Date.now() / 1000) + 600,
        ver: '2.0',
        scp: 'Mail.Read',
        oid: alice.oid,
        preferred_username: alice.upn,
      },
      { foreignKey: true },
    );
    await rejected(await get(UNREAD, foreign), 401, /signed by an unknown key/);
    const [, payload] = (await userToken()).split('.');
    const none = `${Buffer.from('{"alg":"none","typ":"JWT"}').toString('base64url')}.${payload}.`;
    await rejected(await get(UNREAD, none), 401, /algorithm 'none' is not accepted/);
  });

  it('rejects an app-only token on a delegated-only route and a token missing the scope with 403 insufficient_scope', async () => {
    const appOnly = await issuer.accessToken({
      aud: MAIL_APP,
      appOnly: { appId: randomUUID(), oid: randomUUID() },
      roles: ['Mail.Read.All'],
    });
    const response = await get(UNREAD, appOnly);
    await rejected(response, 403, /requires a delegated \(user\) token; an app-only token was presented/);
    assert.match(response.headers.get('www-authenticate') ?? '', /error="insufficient_scope"/);
    const noScope = await get(UNREAD, await userToken(alice, { scp: 'User.Read' }));
    await rejected(
      noScope,
      403,
      /lacks the delegated permission required: one of Mail\.Read, Mail\.ReadWrite/,
    );
    assert.match(noScope.headers.get('www-authenticate') ?? '', /scope="Mail.Read Mail.ReadWrite"/);
  });

  it('app-only callers with Mail.Read.All read a user mailbox; users and role-less apps cannot', async () => {
    const path = `/v1.0/users/${encodeURIComponent(alice.upn)}/messages?$top=3`;
    const app = await issuer.accessToken({
      aud: MAIL_APP,
      appOnly: { appId: randomUUID(), oid: randomUUID() },
      roles: ['Mail.Read.All'],
    });
    const ok = await get(path, app);
    assert.equal(ok.status, 200);
    assert.equal(((await ok.json()) as { value: unknown[] }).value.length, 3);
    await rejected(await get(path, await userToken()), 403, /requires an application \(app-only\) token/);
    const roleless = await issuer.accessToken({
      aud: MAIL_APP,
      appOnly: { appId: randomUUID(), oid: randomUUID() },
    });
    await rejected(await get(path, roleless), 403, /lacks the app role required: one of Mail\.Read\.All/);
  });

  it('picks up a key rotation at the IdP without a restart', async () => {
    assert.equal((await get(UNREAD, await userToken())).status, 200);
    await issuer.rotate({ retireOld: true });
    await sleep(250); // past the unknown-kid refetch cooldown configured above
    const response = await get(UNREAD, await userToken());
    assert.equal(response.status, 200);
  });
});
