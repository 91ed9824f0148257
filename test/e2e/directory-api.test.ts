import assert from 'node:assert/strict';
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { startDirectoryBehalf } from '../support/directory-behalf.ts';
import type { GraphResult, Json } from '../support/directory-behalf.ts';

/**
 * The seed setup (shared/seeds 000 + 001) through the management API over real HTTPS, authorized by a
 * token the real token endpoint issued to the admin credential by client credentials: an API app that
 * exposes a scope, a connector app with a secret, a delegated permission, the connector as an authorized
 * client of the API, a federated credential, and tenant-wide consent.
 */
let env: Awaited<ReturnType<typeof startDirectoryBehalf>>;
let graph: Awaited<ReturnType<typeof env.graphAs>>;
const secrets: string[] = [];

function ok(result: GraphResult, status: number): Json {
  assert.equal(result.status, status, result.text);
  return result.body;
}

before(async () => {
  env = await startDirectoryBehalf();
  secrets.push(env.credential.clientSecret);
  const home = ok(await env.token(), 200);
  const homeGraph = await env.graphAs(home.access_token);
  // Behalf extension: a tenant for Contoso, provisioned with Graph and the admin app.
  ok(
    await homeGraph('POST', '/organization', {
      displayName: 'Contoso',
      verifiedDomains: [{ name: 'contoso.test', isDefault: true }],
    }),
    201,
  );
  const contoso = ok(await env.token('contoso.test'), 200);
  graph = await env.graphAs(contoso.access_token);
});

after(() => env.close());

describe('the seed setup through the management API', () => {
  let api: Json;
  let connector: Json;
  let scopeId: string;
  const apiUri = 'api://contoso-resource-manager';

  it('registers the API app exposing user_impersonation, with its service principal', async () => {
    api = ok(
      await graph('POST', '/applications', {
        displayName: 'Contoso Resource Manager',
        identifierUris: [apiUri],
        api: {
          requestedAccessTokenVersion: 2,
          oauth2PermissionScopes: [
            {
              value: 'user_impersonation',
              type: 'User',
              adminConsentDisplayName: 'Access Contoso Resource Manager',
              adminConsentDescription: 'Access Contoso Resource Manager as the signed-in user',
            },
          ],
        },
      }),
      201,
    );
    scopeId = api.api.oauth2PermissionScopes[0].id;
    assert.match(scopeId, /^[0-9a-f-]{36}$/);
    ok(await graph('POST', '/servicePrincipals', { appId: api.appId }), 201);
  });

  it('registers the connector app with the connector redirect URL, the delegated permission and a secret', async () => {
    connector = ok(
      await graph('POST', '/applications', {
        displayName: 'Contoso connector',
        web: { redirectUris: ['https://global.consent.azure-apim.net/redirect/contoso-connector'] },
        requiredResourceAccess: [
          { resourceAppId: api.appId, resourceAccess: [{ id: scopeId, type: 'Scope' }] },
        ],
      }),
      201,
    );
    ok(await graph('POST', '/servicePrincipals', { appId: connector.appId }), 201);
    const secret = ok(
      await graph('POST', `/applications/${connector.id}/addPassword`, {
        passwordCredential: { displayName: 'connector' },
      }),
      200,
    );
    assert.equal(secret.hint, secret.secretText.slice(0, 3));
    secrets.push(secret.secretText);
    const listed = ok(await graph('GET', `/applications(appId='${connector.appId}')`), 200);
    assert.equal(listed.passwordCredentials[0].secretText, null);
    assert.ok(!JSON.stringify(listed).includes(secret.secretText));

    // The secret works at the real token endpoint (client credentials, app-only), and a wrong one does not.
    const tokenUrl = `${env.behalf.url}/contoso.test/oauth2/v2.0/token`;
    const form = (clientSecret: string) =>
      new URLSearchParams({
        grant_type: 'client_credentials',
        client_id: connector.appId,
        client_secret: clientSecret,
        scope: `${apiUri}/.default`,
      }).toString();
    const { request } = await import('undici');
    const good = await request(tokenUrl, {
      method: 'POST',
      dispatcher: env.dispatcher,
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: form(secret.secretText),
    });
    const goodBody = (await good.body.json()) as Record<string, unknown>;
    assert.equal(good.statusCode, 200, JSON.stringify(goodBody));
    assert.equal(typeof goodBody.access_token, 'string');
    const bad = await request(tokenUrl, {
      method: 'POST',
      dispatcher: env.dispatcher,
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: form(secret.secretText + 'x'),
    });
    assert.equal(bad.statusCode, 401);
    await bad.body.dump();
  });

  it('authorizes the connector as a client of the API and adds its federated credential', async () => {
    ok(
      await graph('PATCH', `/applications/${api.id}`, {
        api: { preAuthorizedApplications: [{ appId: connector.appId, delegatedPermissionIds: [scopeId] }] },
      }),
      204,
    );
    const updated = ok(await graph('GET', `/applications/${api.id}`), 200);
    assert.deepEqual(updated.api.preAuthorizedApplications, [
      { appId: connector.appId, delegatedPermissionIds: [scopeId] },
    ]);
    assert.equal(updated.api.oauth2PermissionScopes.length, 1, 'a partial api PATCH keeps the scopes');

    const fic = ok(
      await graph('POST', `/applications(appId='${connector.appId}')/federatedIdentityCredentials`, {
        name: 'contoso-connector-managed-identity',
        issuer: `${env.behalf.url}/${env.credential.tenantId}/v2.0`,
        subject: '/eid1/c/pub/t/connector/a/contoso-connector',
        audiences: ['api://AzureADTokenExchange'],
      }),
      201,
    );
    assert.equal(fic.description, null);
    const listed = ok(await graph('GET', `/applications/${connector.id}/federatedIdentityCredentials`), 200);
    assert.deepEqual(
      listed.value.map((c: { name: string }) => c.name),
      ['contoso-connector-managed-identity'],
    );
  });

  it('grants tenant-wide consent for the delegated permission', async () => {
    const spFor = async (appId: string) =>
      ok(await graph('GET', `/servicePrincipals(appId='${appId}')`), 200);
    const [apiSp, connectorSp] = [await spFor(api.appId), await spFor(connector.appId)];
    const grant = ok(
      await graph('POST', '/oauth2PermissionGrants', {
        clientId: connectorSp.id,
        consentType: 'AllPrincipals',
        resourceId: apiSp.id,
        scope: 'user_impersonation',
      }),
      201,
    );
    const filtered = ok(
      await graph(
        'GET',
        `/oauth2PermissionGrants?$filter=${encodeURIComponent(`clientId eq '${connectorSp.id}'`)}`,
      ),
      200,
    );
    assert.deepEqual(
      filtered.value.map((g: { id: string; scope: string }) => [g.id, g.scope]),
      [[grant.id, 'user_impersonation']],
    );
    assert.deepEqual(apiSp.servicePrincipalNames, [api.appId, apiUri]);
  });

  it('finds the API by identifier URI and keeps identifierUris unique in the tenant', async () => {
    const found = ok(
      await graph(
        'GET',
        `/applications?$filter=${encodeURIComponent(`identifierUris/any(x:x eq '${apiUri}')`)}`,
      ),
      200,
    );
    assert.deepEqual(
      found.value.map((a: { id: string }) => a.id),
      [api.id],
    );
    const dup = await graph('POST', '/applications', { displayName: 'Impostor', identifierUris: [apiUri] });
    assert.equal(dup.status, 400);
    assert.equal(dup.body.error.code, 'Request_MultipleObjectsWithSameKeyValue');
    assert.match(dup.body.error.message, /identifierUris already exists/);
  });
});

describe('bad input over HTTP gets Graph envelopes, never a 500', () => {
  const cases: [string, string, string, unknown, number, string, RegExp][] = [
    [
      'unknown field',
      'POST',
      '/applications',
      { displayName: 'x', secretSauce: 1 },
      400,
      'Request_BadRequest',
      /Property 'secretSauce' does not exist/,
    ],
    [
      'wrong type',
      'POST',
      '/applications',
      { displayName: ['x'] },
      400,
      'Request_BadRequest',
      /'displayName'.*expected string/,
    ],
    [
      'malformed GUID',
      'GET',
      '/applications/1234',
      undefined,
      400,
      'Request_BadRequest',
      /Invalid object identifier '1234'/,
    ],
    [
      'malformed GUID in body',
      'POST',
      '/servicePrincipals',
      { appId: 'abc' },
      400,
      'Request_BadRequest',
      /'appId'.*not a GUID/,
    ],
    [
      'invalid JSON',
      'POST',
      '/applications',
      '{"displayName": "x"',
      400,
      'BadRequest',
      /Unable to read JSON/,
    ],
    [
      'oversized body',
      'POST',
      '/applications',
      { displayName: 'x', description: 'y'.repeat(1_100_000) },
      413,
      'Request_EntityTooLarge',
      /larger/,
    ],
    [
      'http redirect URI',
      'POST',
      '/applications',
      { displayName: 'x', web: { redirectUris: ['http://contoso.test/cb'] } },
      400,
      'Request_BadRequest',
      /must use https/,
    ],
    [
      'scope with a space',
      'POST',
      '/applications',
      { displayName: 'x', api: { oauth2PermissionScopes: [{ value: 'read all' }] } },
      400,
      'Request_BadRequest',
      /must not contain spaces/,
    ],
  ];
  for (const [name, method, path, body, status, code, message] of cases) {
    it(name, async () => {
      const result = await graph(method, path, body);
      assert.equal(result.status, status, result.text.slice(0, 300));
      assert.equal(result.body.error.code, code);
      assert.match(result.body.error.message, message);
      assert.match(result.body.error.innerError['request-id'], /^[0-9a-f-]{36}$/);
    });
  }
});

describe('secrets at rest and in logs', () => {
  it('the SQLite files and the captured logs hold none of the secrets created', async () => {
    const user = await graph('POST', '/users', {
      userPrincipalName: 'alice@contoso.test',
      displayName: 'Alice',
      passwordProfile: { password: 'Alice-Pa55word-Unique-81' },
    });
    assert.equal(user.status, 201, user.text);
    secrets.push('Alice-Pa55word-Unique-81');
    assert.ok(secrets.length >= 3);
    const files = readdirSync(env.dataDir).filter((f) => f.startsWith('behalf.db'));
    assert.ok(files.includes('behalf.db'));
    const stored = files.map((f) => readFileSync(join(env.dataDir, f)).toString('latin1')).join('\n');
    assert.ok(
      stored.includes('contoso-resource-manager'),
      'the database holds the directory (so the search is meaningful)',
    );
    const logs = env.logger.lines.join('\n');
    for (const secret of secrets) {
      assert.ok(!stored.includes(secret), 'a secret was found in the database files');
      assert.ok(!logs.includes(secret), 'a secret was found in the logs');
    }
  });
});
