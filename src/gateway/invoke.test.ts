import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { startFakeIdp } from '../../test/support/gateway-fake-idp.ts';
import type { FakeIdp, FakeUser } from '../../test/support/gateway-fake-idp.ts';
import { fakeConnectorSource, gatewayStack, mailPackage } from '../../test/support/gateway-stack.ts';
import type { GatewayStack } from '../../test/support/gateway-stack.ts';
import {
  API_AUDIENCE,
  BEHALF_CLIENT_ID,
  BEHALF_SECRET,
  CONNECTOR_CLIENT_ID,
} from '../../test/support/gateway-stack.ts';
import type { Caller } from '../connections/caller-verifier.ts';
import { ConnectionError } from '../connections/errors.ts';

const alice: FakeUser = { oid: '11111111-1111-4111-8111-111111111111', upn: 'alice@contoso.test' };
const bob: FakeUser = { oid: '22222222-2222-4222-8222-222222222222', upn: 'bob@contoso.test' };
const carol: FakeUser = { oid: '33333333-3333-4333-8333-333333333333', upn: 'carol@contoso.test' };

let idp: FakeIdp;
let stack: GatewayStack;

const rejectsWith = async (work: Promise<unknown>, check: (error: ConnectionError) => void) =>
  assert.rejects(work, (error: unknown) => {
    assert.ok(error instanceof ConnectionError, String(error));
    check(error);
    return true;
  });

before(async () => {
  idp = await startFakeIdp({
    behalfClientId: BEHALF_CLIENT_ID,
    behalfSecret: BEHALF_SECRET,
    connectorClientId: CONNECTOR_CLIENT_ID,
    connectorSecret: 'connector-secret',
    apiAudience: API_AUDIENCE,
  });
  idp.mailboxOwners.add(alice.oid);
  idp.mailboxOwners.add(carol.oid);
  const source = fakeConnectorSource(
    idp.tenantId,
    [
      { id: 'mail-sso', sso: true, secret: 'connector-secret' },
      { id: 'mail-interactive', sso: false, secret: 'connector-secret' },
      { id: 'mail-shared', sso: false, secret: 'connector-secret' },
    ],
    (c) => mailPackage(idp.apiUrl, idp.url, c.sso),
  );
  stack = gatewayStack({ idp, connectors: source });
});
after(async () => {
  await stack.close();
  await idp.close();
});

const callerFor = async (user: FakeUser): Promise<Caller> =>
  stack.services.verifier.verify(`Bearer ${await idp.userToken(user)}`);

describe('caller verification', () => {
  it('accepts a token for Behalf Connections from the tenant’s issuer and reads who is calling', async () => {
    const caller = await callerFor(alice);
    assert.equal(caller.objectId, alice.oid);
    assert.equal(caller.upn, alice.upn);
    assert.equal(caller.tenantId, idp.tenantId);
    assert.deepEqual(caller.scopes, ['user_impersonation']);
  });
  it('refuses a token for another audience, a missing header and garbage with 401 and a challenge', async () => {
    await rejectsWith(
      stack.services.verifier.verify(`Bearer ${await idp.userToken(alice, 'api://other')}`),
      (e) => {
        assert.equal(e.status, 401);
        assert.match(e.message, /not for Behalf Connections/);
        assert.match(e.headers()['www-authenticate'] ?? '', /invalid_token/);
      },
    );
    await rejectsWith(stack.services.verifier.verify(undefined), (e) => assert.equal(e.status, 401));
    await rejectsWith(stack.services.verifier.verify('Bearer abc.def'), (e) => assert.equal(e.status, 401));
  });
});

describe('SSO by on-behalf-of', () => {
  it('Alice reads her unread mail; the second call costs no token request', async () => {
    const before = idp.counts['urn:ietf:params:oauth:grant-type:jwt-bearer'] ?? 0;
    const caller = await callerFor(alice);
    const result = await stack.gateway.invoke(caller, {
      connectorId: 'mail-sso',
      operationId: 'GetEmails',
      arguments: { $filter: 'isRead eq false' },
    });
    assert.equal(result.status, 200);
    const body = result.body as { value: { subject: string }[]; '@odata.nextLink': string };
    assert.deepEqual(
      body.value.map((m) => m.subject),
      [`Unread for ${alice.oid}`],
    );
    assert.ok(
      body['@odata.nextLink'].startsWith(`https://behalf.test/apim/mail-sso/${result.connectionId}/`),
    );
    assert.equal((idp.counts['urn:ietf:params:oauth:grant-type:jwt-bearer'] ?? 0) - before, 2, 'two hops');
    assert.equal(result.rawBody, undefined, 'updatenextlink changed the body: it is not relayed as received');
    // One page (no next link): updatenextlink has nothing to do, and the body is relayed unparsed.
    const onePage = await stack.gateway.invoke(caller, {
      connectorId: 'mail-sso',
      operationId: 'GetEmails',
      arguments: { $top: 10 },
    });
    assert.ok(onePage.rawBody, 'relayed as received');
    assert.equal((onePage.body as { value: unknown[] }).value.length, 2);
    assert.equal((onePage.body as Record<string, unknown>)['@odata.nextLink'], undefined);
    assert.equal((idp.counts['urn:ietf:params:oauth:grant-type:jwt-bearer'] ?? 0) - before, 2, 'cached');
    // Time-ordered (UUID v7), so the audit's correlation index grows at one end.
    assert.match(
      result.correlationId,
      /^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/,
    );
    const { entries } = await stack.services.audit.query({ correlationId: result.correlationId });
    assert.equal(entries.length, 1);
    assert.equal(entries[0]!.callerUpn, alice.upn);
    assert.equal(entries[0]!.mode, 'delegated');
    assert.deepEqual(entries[0]!.scopes, ['Mail.Read']);
    assert.equal(entries[0]!.outcome, 'success');
    assert.equal(entries[0]!.upstreamStatus, 200);
  });

  it('Bob gets the 403 with a remediation text, never Alice’s data, and cannot use her connection', async () => {
    const aliceConnection = (
      await stack.gateway.invoke(await callerFor(alice), {
        connectorId: 'mail-sso',
        operationId: 'GetEmails',
      })
    ).connectionId;
    const bobCaller = await callerFor(bob);
    await rejectsWith(
      stack.gateway.invoke(bobCaller, { connectorId: 'mail-sso', operationId: 'GetEmails' }),
      (e) => {
        assert.equal(e.status, 403);
        assert.equal(e.details.upstreamStatus, 403);
        assert.match(
          e.details.remediation ?? '',
          /You might not have access to 'Get emails' in Contoso Mail/,
        );
        assert.ok(e.details.correlationId);
      },
    );
    await rejectsWith(
      stack.gateway.invoke(bobCaller, {
        connectorId: 'mail-sso',
        connectionId: aliceConnection,
        operationId: 'GetEmails',
      }),
      (e) => {
        assert.equal(e.status, 404);
        assert.equal(e.code, 'ConnectionNotFound');
      },
    );
  });

  it('without the pre-authorization, SSO answers a consent card naming it; consenting once fixes it', async () => {
    idp.preauthorized = false;
    try {
      const caller = await callerFor(carol);
      let card: { consentUrl: string; text: string } | undefined;
      await rejectsWith(
        stack.gateway.invoke(caller, { connectorId: 'mail-sso', operationId: 'GetEmails' }),
        (e) => {
          assert.equal(e.code, 'ConsentRequired');
          assert.match(e.message, /does not pre-authorize Behalf Connections/);
          card = e.details.consentCard;
        },
      );
      assert.ok(card?.consentUrl.startsWith('https://behalf.test/consent/mail-sso?ticket='));
      const ticket = new URL(card!.consentUrl).searchParams.get('ticket')!;
      const authorize = new URL(await stack.services.consent.begin('mail-sso', ticket));
      assert.equal(authorize.searchParams.get('client_id'), BEHALF_CLIENT_ID);
      assert.equal(authorize.searchParams.get('code_challenge_method'), 'S256');
      idp.signInAs(carol);
      const back = await fetch(authorize, { redirect: 'manual' });
      const redirect = new URL(back.headers.get('location')!);
      assert.equal(redirect.pathname, '/connections/redirect');
      const done = await stack.services.consent.complete(Object.fromEntries(redirect.searchParams));
      assert.equal(done.kind, 'sso-1');
      await assert.rejects(
        stack.services.consent.complete(Object.fromEntries(redirect.searchParams)),
        /already used/,
      );
      const result = await stack.gateway.invoke(caller, {
        connectorId: 'mail-sso',
        operationId: 'GetEmails',
      });
      assert.equal(result.status, 200);
    } finally {
      idp.preauthorized = true;
    }
  });
});

describe('interactive and shared connections', () => {
  it('an interactive connector gives a consent card, then stores tokens; a 401 renews once and retries', async () => {
    const caller = await callerFor(alice);
    let card: { consentUrl: string } | undefined;
    await rejectsWith(
      stack.gateway.invoke(caller, { connectorId: 'mail-interactive', operationId: 'GetEmails' }),
      (e) => {
        assert.equal(e.code, 'ConsentRequired');
        card = e.details.consentCard;
      },
    );
    const ticket = new URL(card!.consentUrl).searchParams.get('ticket')!;
    // Bob cannot redeem a link made for Alice.
    idp.signInAs(bob);
    const bobTry = new URL(await stack.services.consent.begin('mail-interactive', ticket));
    const bobBack = new URL((await fetch(bobTry, { redirect: 'manual' })).headers.get('location')!);
    await rejectsWith(stack.services.consent.complete(Object.fromEntries(bobBack.searchParams)), (e) =>
      assert.equal(e.code, 'ConsentWrongUser'),
    );
    idp.signInAs(alice);
    const authorize = new URL(await stack.services.consent.begin('mail-interactive', ticket));
    assert.equal(authorize.searchParams.get('client_id'), CONNECTOR_CLIENT_ID);
    assert.equal(authorize.searchParams.get('redirect_uri'), 'https://behalf.test/redirect/mail-interactive');
    const back = new URL((await fetch(authorize, { redirect: 'manual' })).headers.get('location')!);
    const done = await stack.services.consent.complete(Object.fromEntries(back.searchParams));
    assert.equal(done.connection?.state, 'connected');
    assert.equal(done.connection?.hasCredential, true);
    assert.equal(JSON.stringify(done.connection).includes('fake-refresh'), false, 'no token in the view');

    const refreshes = idp.counts['refresh_token'] ?? 0;
    const first = await stack.gateway.invoke(caller, {
      connectorId: 'mail-interactive',
      operationId: 'GetEmails',
    });
    assert.equal(first.connectionId, done.connection?.id);
    idp.failNext(401);
    const second = await stack.gateway.invoke(caller, {
      connectorId: 'mail-interactive',
      operationId: 'GetEmails',
    });
    assert.equal(second.status, 200);
    assert.equal((idp.counts['refresh_token'] ?? 0) - refreshes, 1, 'one renewal after the 401');
  });

  it('a shared connection reads mail app-only with client credentials', async () => {
    const caller = await callerFor(bob);
    const shared = await stack.services.connections.create({
      tenantId: idp.tenantId,
      connectorId: 'mail-shared',
      mode: 'shared',
      createdBy: 'admin',
      state: 'connected',
    });
    const result = await stack.gateway.invoke(caller, {
      connectorId: 'mail-shared',
      connectionId: shared.id,
      operationId: 'GetUserEmails',
      arguments: { userId: alice.oid },
    });
    assert.equal(result.status, 200);
    // No policy applies to GetUserEmails: the upstream bytes are relayed, parsed only when read.
    assert.ok(result.rawBody && result.rawBody.length > 0);
    assert.deepEqual(result.body, JSON.parse(result.rawBody.toString('utf8')));
    assert.ok(Array.isArray((result.body as { value: unknown[] }).value));
    const { entries } = await stack.services.audit.query({ correlationId: result.correlationId });
    assert.equal(entries[0]!.mode, 'app-only');
    assert.deepEqual(entries[0]!.scopes, ['Mail.Read.All']);
    assert.equal(idp.counts['client_credentials'], 1);
  });

  it('a connector not shared with the caller is a clear 403', async () => {
    await stack.services.sharing.set(idp.tenantId, 'mail-sso', { users: [alice.oid], groups: [] });
    try {
      await rejectsWith(
        stack.gateway.invoke(await callerFor(bob), { connectorId: 'mail-sso', operationId: 'GetEmails' }),
        (e) => {
          assert.equal(e.status, 403);
          assert.equal(e.code, 'ConnectorNotShared');
          assert.match(e.details.remediation ?? '', /You might not have access to Contoso Mail/);
        },
      );
      assert.equal(
        (
          await stack.gateway.invoke(await callerFor(alice), {
            connectorId: 'mail-sso',
            operationId: 'GetEmails',
          })
        ).status,
        200,
      );
    } finally {
      await stack.services.sharing.clear(idp.tenantId, 'mail-sso');
    }
  });
});

describe('failures have a precise status and a remediation', () => {
  it('wrong arguments, unknown operations, upstream 5xx and 429', async () => {
    const caller = await callerFor(alice);
    await rejectsWith(
      stack.gateway.invoke(caller, {
        connectorId: 'mail-sso',
        operationId: 'GetEmails',
        arguments: { $top: 'many' },
      }),
      (e) => {
        assert.equal(e.status, 400);
        assert.equal(e.details.parameter, '$top');
      },
    );
    await rejectsWith(stack.gateway.invoke(caller, { connectorId: 'mail-sso', operationId: 'Nope' }), (e) =>
      assert.equal(e.status, 404),
    );
    idp.failNext(500);
    await rejectsWith(
      stack.gateway.invoke(caller, { connectorId: 'mail-sso', operationId: 'GetEmails' }),
      (e) => {
        assert.equal(e.status, 502);
        assert.equal(e.details.upstreamStatus, 500);
        assert.match(e.details.remediation ?? '', new RegExp(new URL(idp.apiUrl).host.replace('.', '\\.')));
      },
    );
    idp.failNext(429, 1, { 'retry-after': '0' });
    assert.equal(
      (await stack.gateway.invoke(caller, { connectorId: 'mail-sso', operationId: 'GetEmails' })).status,
      200,
    );
    const { entries } = await stack.services.audit.query({
      callerObjectId: alice.oid,
      outcome: 'upstream-error',
    });
    assert.ok(entries.some((e) => e.upstreamStatus === 500));
  });
});
