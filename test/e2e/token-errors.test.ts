import assert from 'node:assert/strict';
import { createHash, randomUUID } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import * as jose from 'jose';
import { AADSTS } from '../../src/idp/errors/aadsts.ts';
import type { AadstsCode } from '../../src/idp/errors/aadsts.ts';
import { createTestCertificate } from '../../src/crypto/test-certificates.ts';
import type { TestCertificate } from '../../src/crypto/test-certificates.ts';
import { startTokenFixture } from '../support/token-fixture.ts';
import type { FixtureApp, HttpResult, TokenFixture } from '../support/token-fixture.ts';

/**
 * Every error condition is provoked by a real HTTPS request and must come back as Entra sends it:
 * the AADSTS code first in error_description, the \r\n trailer, error_codes, trace/correlation ids
 * (the trace id equal to x-ms-request-id), error_uri, and 401 for invalid_client.
 */
let f: TokenFixture;
let otherCert: TestCertificate;
let disabled: FixtureApp;
let roleRequired: FixtureApp;
let expiredSecret: FixtureApp;
const JWT_BEARER = 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer';
const OBO = 'urn:ietf:params:oauth:grant-type:jwt-bearer';
const CHALLENGE_VERIFIER = 'verifier-' + 'x'.repeat(40);

const v2 = () => `/${f.tenantId}/oauth2/v2.0/token`;
const v1 = () => `/${f.tenantId}/oauth2/token`;

function secretOf(app: FixtureApp) {
  return { client_id: app.app.appId, client_secret: app.secret };
}

async function certAssertion(
  options: {
    cert?: TestCertificate;
    aud?: string | string[];
    exp?: number;
    sub?: string;
    jti?: string;
    iss?: string;
  } = {},
) {
  const cert = options.cert ?? f.certificate;
  const now = Math.floor(Date.now() / 1000);
  const clientId = f.middle.app.appId;
  return new jose.SignJWT({ jti: options.jti ?? randomUUID(), sub: options.sub ?? clientId })
    .setProtectedHeader({ alg: 'PS256', typ: 'JWT', 'x5t#S256': cert.x5tS256 })
    .setIssuer(options.iss ?? clientId)
    .setAudience(options.aud ?? `${f.url}/${f.tenantId}/oauth2/v2.0/token`)
    .setIssuedAt(now)
    .setNotBefore(now)
    .setExpirationTime(options.exp ?? now + 600)
    .sign(cert.privateKey);
}

function withAssertion(assertion: string, extra: Record<string, string> = {}) {
  return {
    grant_type: 'client_credentials',
    scope: 'api://downstream/.default',
    client_id: f.middle.app.appId,
    client_assertion_type: JWT_BEARER,
    client_assertion: assertion,
    ...extra,
  };
}

async function userToken(
  scope = 'api://middle/access_as_user openid profile',
): Promise<Record<string, unknown>> {
  const result = await f.post(v2(), {
    grant_type: 'password',
    ...secretOf(f.client),
    username: f.alice.userPrincipalName,
    password: f.alicePassword,
    scope,
  });
  assert.equal(result.status, 200, JSON.stringify(result.body));
  return result.body;
}

async function obo(assertion: string, scope = 'api://downstream/read') {
  return f.post(v2(), {
    grant_type: OBO,
    requested_token_use: 'on_behalf_of',
    assertion,
    scope,
    ...secretOf(f.middle),
  });
}

async function code(overrides: Record<string, unknown> = {}) {
  return f.behalf.tokens.issueAuthorizationCode({
    tenantId: f.tenantId,
    clientId: f.client.app.appId,
    redirectUri: 'https://client.test/callback',
    userId: f.alice.id,
    scopes: 'api://middle/access_as_user openid offline_access',
    codeChallenge: createHash('sha256').update(CHALLENGE_VERIFIER).digest('base64url'),
    codeChallengeMethod: 'S256',
    authTime: Math.floor(Date.now() / 1000),
    ...overrides,
  });
}

function redeem(value: string, extra: Record<string, string> = {}) {
  return f.post(v2(), {
    grant_type: 'authorization_code',
    ...secretOf(f.client),
    code: value,
    redirect_uri: 'https://client.test/callback',
    code_verifier: CHALLENGE_VERIFIER,
    ...extra,
  });
}

function fic(claims: { sub?: string; aud?: string; iss?: string }) {
  return async () =>
    f.post(v2(), {
      grant_type: 'client_credentials',
      client_id: f.workload.app.appId,
      scope: 'api://downstream/.default',
      client_assertion_type: JWT_BEARER,
      client_assertion: await f.issuer.sign({
        sub: claims.sub ?? 'repo:contoso/app:ref:refs/heads/main',
        aud: claims.aud ?? 'api://AzureADTokenExchange',
        ...(claims.iss ? { iss: claims.iss } : {}),
      }),
    });
}

interface Case {
  readonly name: string;
  readonly code: AadstsCode;
  /** Overrides for endpoint-specific `error` values (discovery's invalid_tenant). */
  readonly error?: string;
  readonly send: () => Promise<HttpResult>;
}

const CASES: Case[] = [
  {
    name: 'unknown tenant at the token endpoint',
    code: 90002,
    send: () =>
      f.post('/no-such-tenant.test/oauth2/v2.0/token', {
        grant_type: 'client_credentials',
        ...secretOf(f.client),
        scope: 'api://downstream/.default',
      }),
  },
  {
    name: 'unknown tenant on discovery',
    code: 90002,
    error: 'invalid_tenant',
    send: () => f.get('/no-such-tenant.test/v2.0/.well-known/openid-configuration'),
  },
  { name: 'missing grant_type', code: 900144, send: () => f.post(v2(), { ...secretOf(f.client) }) },
  {
    name: 'unsupported grant_type',
    code: 70003,
    send: () => f.post(v2(), { grant_type: 'magic', ...secretOf(f.client) }),
  },
  {
    // The grant map is a plain object: an inherited member must not be taken for a grant (was a 500).
    name: 'grant_type naming an Object.prototype member',
    code: 70003,
    send: () => f.post(v2(), { grant_type: 'toString', ...secretOf(f.client) }),
  },
  {
    name: 'missing client_id',
    code: 900144,
    send: () => f.post(v2(), { grant_type: 'client_credentials', scope: 'api://downstream/.default' }),
  },
  {
    name: 'unknown client',
    code: 700016,
    send: () =>
      f.post(v2(), {
        grant_type: 'client_credentials',
        client_id: randomUUID(),
        client_secret: 'x',
        scope: 'api://downstream/.default',
      }),
  },
  {
    name: 'wrong client secret',
    code: 7000215,
    send: () =>
      f.post(v2(), {
        grant_type: 'client_credentials',
        client_id: f.client.app.appId,
        client_secret: 'wrong',
        scope: 'api://downstream/.default',
      }),
  },
  {
    name: 'wrong client secret over HTTP Basic',
    code: 7000215,
    send: () =>
      f.post(
        v2(),
        { grant_type: 'client_credentials', scope: 'api://downstream/.default' },
        { authorization: 'Basic ' + Buffer.from(`${f.client.app.appId}:nope`).toString('base64') },
      ),
  },
  {
    name: 'expired client secret',
    code: 7000222,
    send: () =>
      f.post(v2(), {
        grant_type: 'client_credentials',
        ...secretOf(expiredSecret),
        scope: 'api://downstream/.default',
      }),
  },
  {
    name: 'no credential on client_credentials',
    code: 7000216,
    send: () =>
      f.post(v2(), {
        grant_type: 'client_credentials',
        client_id: f.client.app.appId,
        scope: 'api://downstream/.default',
      }),
  },
  {
    name: 'no credential on a confidential password grant',
    code: 7000218,
    send: () =>
      f.post(v2(), {
        grant_type: 'password',
        client_id: f.client.app.appId,
        username: f.alice.userPrincipalName,
        password: f.alicePassword,
        scope: 'api://middle/access_as_user',
      }),
  },
  {
    name: 'disabled service principal',
    code: 7000112,
    send: () =>
      f.post(v2(), {
        grant_type: 'client_credentials',
        ...secretOf(disabled),
        scope: 'api://downstream/.default',
      }),
  },
  {
    name: 'client_credentials on /common',
    code: 9001023,
    send: () =>
      f.post('/common/oauth2/v2.0/token', {
        grant_type: 'client_credentials',
        ...secretOf(f.client),
        scope: 'api://downstream/.default',
      }),
  },
  {
    name: 'client_credentials without /.default',
    code: 1002012,
    send: () =>
      f.post(v2(), {
        grant_type: 'client_credentials',
        ...secretOf(f.client),
        scope: 'api://downstream/read',
      }),
  },
  {
    name: 'client_credentials without scope',
    code: 900144,
    send: () => f.post(v2(), { grant_type: 'client_credentials', ...secretOf(f.client) }),
  },
  {
    name: 'unknown resource',
    code: 500011,
    send: () =>
      f.post(v2(), {
        grant_type: 'client_credentials',
        ...secretOf(f.client),
        scope: 'api://nowhere/.default',
      }),
  },
  {
    name: 'unknown resource on v1',
    code: 500011,
    send: () =>
      f.post(v1(), { grant_type: 'client_credentials', ...secretOf(f.client), resource: 'api://nowhere' }),
  },
  {
    name: 'resource parameter on the v2 endpoint',
    code: 901002,
    send: () =>
      f.post(v2(), {
        grant_type: 'client_credentials',
        ...secretOf(f.client),
        resource: 'api://downstream',
        scope: 'api://downstream/.default',
      }),
  },
  {
    name: 'token for itself by identifier URI',
    code: 90009,
    send: () =>
      f.post(v2(), {
        grant_type: 'client_credentials',
        ...secretOf(f.middle),
        scope: 'api://middle/.default',
      }),
  },
  {
    name: 'app role assignment required and none held',
    code: 501051,
    send: () =>
      f.post(v2(), {
        grant_type: 'client_credentials',
        ...secretOf(f.client),
        scope: 'api://role-required/.default',
      }),
  },
  {
    name: 'scopes of two resources',
    code: 700022,
    send: () =>
      f.post(v2(), {
        grant_type: 'password',
        ...secretOf(f.client),
        username: f.alice.userPrincipalName,
        password: f.alicePassword,
        scope: 'api://middle/access_as_user api://downstream/read',
      }),
  },
  {
    name: 'unknown scope value',
    code: 70011,
    send: () =>
      f.post(v2(), {
        grant_type: 'password',
        ...secretOf(f.client),
        username: f.alice.userPrincipalName,
        password: f.alicePassword,
        scope: 'api://middle/not_a_scope',
      }),
  },
  {
    name: 'wrong user password',
    code: 50126,
    send: () =>
      f.post(v2(), {
        grant_type: 'password',
        ...secretOf(f.client),
        username: f.alice.userPrincipalName,
        password: 'wrong-password-1',
        scope: 'api://middle/access_as_user',
      }),
  },
  {
    name: 'unknown user',
    code: 50034,
    send: () =>
      f.post(v2(), {
        grant_type: 'password',
        ...secretOf(f.client),
        username: `nobody@${f.domain}`,
        password: 'whatever-1',
        scope: 'api://middle/access_as_user',
      }),
  },
  {
    name: 'password grant for an ungranted scope',
    code: 65001,
    send: () =>
      f.post(v2(), {
        grant_type: 'password',
        ...secretOf(f.client),
        username: f.alice.userPrincipalName,
        password: f.alicePassword,
        scope: 'api://unconsented/use',
      }),
  },
  {
    name: 'OBO without assertion',
    code: 900144,
    send: () =>
      f.post(v2(), {
        grant_type: OBO,
        requested_token_use: 'on_behalf_of',
        scope: 'api://downstream/read',
        ...secretOf(f.middle),
      }),
  },
  {
    name: 'OBO with a wrong requested_token_use',
    code: 50085,
    send: async () =>
      f.post(v2(), {
        grant_type: OBO,
        requested_token_use: 'something',
        assertion: String((await userToken())['access_token']),
        scope: 'api://downstream/read',
        ...secretOf(f.middle),
      }),
  },
  {
    name: 'OBO assertion for another audience',
    code: 500131,
    send: async () => {
      const token = String((await userToken())['access_token']);
      return f.post(v2(), {
        grant_type: OBO,
        requested_token_use: 'on_behalf_of',
        assertion: token,
        scope: 'api://downstream/read',
        ...secretOf(f.unconsented),
      });
    },
  },
  {
    name: 'OBO with an app-only assertion',
    code: 7000114,
    send: async () => {
      const app = await f.post(v2(), {
        grant_type: 'client_credentials',
        ...secretOf(f.client),
        scope: `${f.middle.app.appId}/.default`,
      });
      return obo(String(app.body['access_token']));
    },
  },
  {
    name: 'OBO with an ID token',
    code: 240002,
    send: async () => obo(String((await userToken())['id_token'])),
  },
  {
    name: 'OBO with a forged assertion',
    code: 50013,
    send: async () => {
      const [h, p] = String((await userToken())['access_token']).split('.');
      return obo(`${h}.${p}.${Buffer.from('forged').toString('base64url')}`);
    },
  },
  {
    name: 'OBO with an expired assertion',
    code: 500133,
    send: async () => {
      const token = String((await userToken())['access_token']);
      f.setClockOffset(3 * 3600_000);
      try {
        return await obo(token);
      } finally {
        f.setClockOffset(0);
      }
    },
  },
  {
    name: 'code redeemed with another redirect URI',
    code: 50011,
    send: async () => redeem(await code(), { redirect_uri: 'https://client.test/other' }),
  },
  {
    name: 'code redeemed twice',
    code: 54005,
    send: async () => {
      const c = await code();
      assert.equal((await redeem(c)).status, 200);
      return redeem(c);
    },
  },
  {
    name: 'code with a wrong PKCE verifier',
    code: 501481,
    send: async () => redeem(await code(), { code_verifier: 'y'.repeat(50) }),
  },
  {
    name: 'code without its PKCE verifier',
    code: 900144,
    send: async () =>
      f.post(v2(), {
        grant_type: 'authorization_code',
        ...secretOf(f.client),
        code: await code(),
        redirect_uri: 'https://client.test/callback',
      }),
  },
  {
    name: 'code redeemed by another client',
    code: 70000,
    send: async () => redeem(await code({ clientId: f.middle.app.appId })),
  },
  { name: 'unknown code', code: 9002313, send: () => redeem('not-a-code') },
  {
    name: 'expired code',
    code: 70008,
    send: async () => {
      f.setClockOffset(-3600_000);
      const c = await code();
      f.setClockOffset(0);
      return redeem(c);
    },
  },
  {
    name: 'unknown refresh token',
    code: 9002313,
    send: () =>
      f.post(v2(), { grant_type: 'refresh_token', ...secretOf(f.client), refresh_token: 'garbage' }),
  },
  {
    name: 'refresh token of another client',
    code: 70000,
    send: async () =>
      f.post(v2(), {
        grant_type: 'refresh_token',
        ...secretOf(f.middle),
        refresh_token: String(
          (await userToken('api://middle/access_as_user offline_access'))['refresh_token'],
        ),
      }),
  },
  {
    name: 'certificate assertion with an unregistered certificate',
    code: 700027,
    send: async () => f.post(v2(), withAssertion(await certAssertion({ cert: otherCert }))),
  },
  {
    name: 'expired certificate assertion',
    code: 700024,
    send: async () =>
      f.post(v2(), withAssertion(await certAssertion({ exp: Math.floor(Date.now() / 1000) - 3600 }))),
  },
  {
    name: 'replayed certificate assertion (jti)',
    code: 7000228,
    send: async () => {
      const a = await certAssertion();
      assert.equal((await f.post(v2(), withAssertion(a))).status, 200);
      return f.post(v2(), withAssertion(a));
    },
  },
  {
    name: 'certificate assertion for another audience',
    code: 700023,
    send: async () =>
      f.post(
        v2(),
        withAssertion(await certAssertion({ aud: 'https://login.microsoftonline.com/x/oauth2/v2.0/token' })),
      ),
  },
  {
    name: 'certificate assertion with two audiences',
    code: 5002741,
    send: async () =>
      f.post(
        v2(),
        withAssertion(await certAssertion({ aud: [`${f.url}/${f.tenantId}/oauth2/v2.0/token`, 'other'] })),
      ),
  },
  {
    name: 'certificate assertion whose sub is not its iss',
    code: 50048,
    send: async () => f.post(v2(), withAssertion(await certAssertion({ sub: randomUUID() }))),
  },
  {
    name: 'client assertion without client_assertion_type',
    code: 900144,
    send: async () =>
      f.post(v2(), {
        grant_type: 'client_credentials',
        scope: 'api://downstream/.default',
        client_id: f.middle.app.appId,
        client_assertion: await certAssertion(),
      }),
  },
  { name: 'malformed client assertion', code: 50027, send: () => f.post(v2(), withAssertion('not.a.jwt')) },
  {
    name: 'federated credential with another subject',
    code: 700213,
    send: fic({ sub: 'repo:contoso/app:ref:refs/heads/evil' }),
  },
  {
    name: 'federated credential with another audience',
    code: 700212,
    send: fic({ aud: 'api://SomethingElse' }),
  },
  {
    name: 'federated credential from an unknown issuer',
    code: 700211,
    send: fic({ iss: 'https://issuer.invalid' }),
  },
  {
    name: 'unknown instance in instance discovery',
    code: 50049,
    error: 'invalid_instance',
    send: () =>
      f.get(
        '/common/discovery/instance?api-version=1.1&authorization_endpoint=https://evil.test/common/oauth2/v2.0/authorize',
      ),
  },
];

describe('Entra errors, provoked over HTTPS', () => {
  before(async () => {
    f = await startTokenFixture();
    otherCert = await createTestCertificate({ subject: 'CN=not registered' });
    const { directory } = f.behalf;
    const make = async (name: string, uri?: string) => {
      const app = await directory.createApplication(f.tenantId, {
        displayName: name,
        ...(uri
          ? { identifierUris: [uri], appRoles: [{ value: 'X', allowedMemberTypes: ['Application'] }] }
          : {}),
      });
      const sp =
        (await directory.getServicePrincipalByAppId(f.tenantId, app.appId)) ??
        (await directory.createServicePrincipal(f.tenantId, { appId: app.appId }));
      const secret = (await directory.addPassword(f.tenantId, app.id, {})).secretText;
      return { app, sp, secret };
    };
    disabled = await make('Disabled');
    await directory.updateServicePrincipal(f.tenantId, disabled.sp.id, { accountEnabled: false });
    roleRequired = await make('Role required', 'api://role-required');
    await directory.updateServicePrincipal(f.tenantId, roleRequired.sp.id, {
      appRoleAssignmentRequired: true,
    });
    // Graph refuses an endDateTime in the past, so the stored credential is aged directly.
    expiredSecret = await make('Expired secret');
    const record = await f.behalf.store.get<{
      passwordCredentials: { endDateTime: string; startDateTime: string }[];
    }>('directory.application', expiredSecret.app.id);
    assert.ok(record);
    const aged = structuredClone(record.data);
    for (const c of aged.passwordCredentials) {
      c.startDateTime = new Date(Date.now() - 2 * 86400_000).toISOString();
      c.endDateTime = new Date(Date.now() - 86400_000).toISOString();
    }
    assert.ok(
      await f.behalf.store.update('directory.application', expiredSecret.app.id, record.version, aged),
    );
  });
  after(() => f.close());

  it('covers at least 30 distinct codes', () => {
    assert.ok(new Set(CASES.map((c) => c.code)).size >= 30, `only ${new Set(CASES.map((c) => c.code)).size}`);
  });

  for (const c of CASES) {
    it(`${c.name} → AADSTS${c.code}`, async () => {
      const result = await c.send();
      const entry = AADSTS[c.code];
      const body = result.body;
      assert.equal(result.status, entry.status, JSON.stringify(body));
      assert.equal(body['error'], c.error ?? entry.error);
      assert.deepEqual(body['error_codes'], [c.code]);
      const description = String(body['error_description']);
      assert.ok(description.startsWith(`AADSTS${c.code}: `), description);
      assert.match(
        description,
        /\r\nTrace ID: [0-9a-f-]{36}\r\nCorrelation ID: [0-9a-f-]{36}\r\nTimestamp: \d{4}-\d\d-\d\d \d\d:\d\d:\d\dZ$/,
      );
      assert.equal(body['trace_id'], result.headers['x-ms-request-id']);
      assert.match(String(body['timestamp']), /^\d{4}-\d\d-\d\d \d\d:\d\d:\d\dZ$/);
      assert.equal(body['error_uri'], `https://login.microsoftonline.com/error?code=${c.code}`);
      if ('suberror' in entry) assert.equal(body['suberror'], entry.suberror);
      else assert.equal(body['suberror'], undefined);
      if (entry.status === 401) assert.ok(result.headers['www-authenticate']);
    });
  }
});
