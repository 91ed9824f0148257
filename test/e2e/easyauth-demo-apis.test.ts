import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { after, before, describe, it } from 'node:test';
import { DEMO_APP_IDS, demoRegistrations, startDemoApis } from '../../examples/demo-apis.ts';
import type { DemoApis } from '../../examples/demo-apis.ts';
import { startTestIssuer } from '../support/easyauth-test-issuer.ts';
import type { TestIssuer } from '../support/easyauth-test-issuer.ts';

/** startDemoApis (what `behalf up --demo` calls), the Resource Manager API, and the connector packages. */
const alice = { oid: randomUUID(), upn: 'alice@contoso.test', name: 'Alice Anders' };
const bob = { oid: randomUUID(), upn: 'bob@contoso.test', name: 'Bob Brown' };
const root = new URL('../../', import.meta.url);
const readJson = (path: string) =>
  JSON.parse(readFileSync(new URL(path, root), 'utf8')) as Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any

describe('demo APIs', () => {
  let issuer: TestIssuer;
  let demo: DemoApis;
  const registrations = demoRegistrations({ behalfConnectionsAppId: randomUUID() });

  before(async () => {
    issuer = await startTestIssuer();
    demo = await startDemoApis({
      issuerBaseUrl: issuer.url,
      tenantId: issuer.tenantId,
      ports: { mailApi: 0, resourceManagerApi: 0 },
    });
  });
  after(async () => {
    await demo.close();
    await issuer.close();
  });

  const rmToken = (user = alice, aud = 'https://management.contoso.test', scp = 'user_impersonation') =>
    issuer.accessToken({ version: '1.0', aud, user, scp });
  const rm = async (path: string, token: string) => {
    const response = await fetch(demo.urls.resourceManagerApi + path, {
      headers: { authorization: `Bearer ${token}` },
    });
    return { status: response.status, body: (await response.json()) as Record<string, any> }; // eslint-disable-line @typescript-eslint/no-explicit-any
  };

  it('Resource Manager lists only the subscriptions the caller holds a role on (v1 token, resource URI ± slash)', async () => {
    const a = await rm('/subscriptions?api-version=2022-12-01', await rmToken());
    assert.equal(a.status, 200);
    assert.deepEqual(a.body['value'].map((s: { displayName: string }) => s.displayName).sort(), [
      'Contoso Development',
      'Contoso Production',
    ]);
    assert.equal(a.body['value'][0].tenantId, issuer.tenantId);
    assert.match(a.body['value'][0].id, /^\/subscriptions\/[0-9a-f-]{36}$/);
    const withSlash = await rm(
      '/subscriptions?api-version=2022-12-01',
      await rmToken(alice, 'https://management.contoso.test/'),
    );
    assert.equal(withSlash.body['count'].value, 2);
    const b = await rm('/subscriptions?api-version=2022-12-01', await rmToken(bob));
    assert.deepEqual(
      b.body['value'].map((s: { displayName: string }) => s.displayName),
      ['Contoso Sandbox'],
    );
  });

  it('Resource Manager speaks ARM errors: api-version, audience, scope', async () => {
    const missing = await rm('/subscriptions', await rmToken());
    assert.equal(missing.status, 400);
    assert.equal(missing.body['error'].code, 'MissingApiVersionParameter');
    assert.equal(
      (await rm('/subscriptions?api-version=1999-01-01', await rmToken())).body['error'].code,
      'InvalidApiVersionParameter',
    );
    const wrongAud = await rm(
      '/subscriptions?api-version=2022-12-01',
      await rmToken(alice, 'https://management.azure.com/'),
    );
    assert.equal(wrongAud.status, 401);
    assert.equal(wrongAud.body['error'].code, 'InvalidAuthenticationTokenAudience');
    const noScope = await rm(
      '/subscriptions?api-version=2022-12-01',
      await rmToken(alice, undefined, 'User.Read'),
    );
    assert.equal(noScope.status, 403);
    assert.equal(noScope.body['error'].code, 'AuthorizationFailed');
    assert.match(noScope.body['error'].message, /user_impersonation/);
  });

  it('the Mail API accepts its identifier URI and appId as audiences', async () => {
    for (const aud of [DEMO_APP_IDS.mailApi, 'api://contoso-mail']) {
      const token = await issuer.accessToken({ aud, user: alice, scp: 'Mail.Read' });
      const response = await fetch(demo.urls.mailApi + '/v1.0/me/messages?$top=1', {
        headers: { authorization: `Bearer ${token}` },
      });
      assert.equal(response.status, 200, aud);
    }
  });

  for (const [name, connector, api] of [
    ['contoso-mail', registrations.connectors.contosoMail, registrations.apis.mailApi],
    [
      'contoso-resource-manager',
      registrations.connectors.contosoResourceManager,
      registrations.apis.resourceManagerApi,
    ],
  ] as const) {
    it(`connector package ${name} agrees with its app registrations and its API`, async () => {
      const props = readJson(`examples/connectors/${name}/apiProperties.json`)['properties'];
      const swagger = readJson(`examples/connectors/${name}/apiDefinition.swagger.json`);
      const oauth = props.connectionParameters.token.oAuthSettings;
      assert.equal(swagger['swagger'], '2.0');
      assert.equal(oauth.identityProvider, 'aad');
      assert.equal(oauth.clientId, connector.appId);
      assert.equal(oauth.redirectMode, 'GlobalPerConnector');
      assert.equal(oauth.properties.IsOnbehalfofLoginSupported, true);
      assert.equal(oauth.customParameters.enableOnbehalfOfLogin.value, 'true');
      assert.ok(api.identifierUris.includes(oauth.customParameters.resourceUri.value));
      const apiScopes = api.api.oauth2PermissionScopes.map((s) => s.value);
      for (const s of oauth.scopes) assert.ok(apiScopes.includes(s), `${s} is exposed by ${api.displayName}`);
      // The connector app holds a delegated permission on the API, consented, and pre-authorizes Behalf Connections.
      const granted = connector.requiredResourceAccess.find((r) => r.resourceAppId === api.appId)!;
      assert.deepEqual(
        granted.resourceAccess
          .map((r) => api.api.oauth2PermissionScopes.find((s) => s.id === r.id)?.value)
          .sort(),
        [...oauth.scopes].sort(),
      );
      assert.ok(
        registrations.grants.some((g) => g.clientAppId === connector.appId && g.resourceAppId === api.appId),
      );
      const exposed = connector.api.oauth2PermissionScopes[0]!;
      assert.deepEqual(connector.api.preAuthorizedApplications[0]!.delegatedPermissionIds, [exposed.id]);
      // Every GET operation of the definition exists on the running API (Alice's token, defaults filled in).
      const base = name === 'contoso-mail' ? demo.urls.mailApi : demo.urls.resourceManagerApi;
      const token =
        name === 'contoso-mail'
          ? await issuer.accessToken({ aud: api.appId, user: alice, scp: 'Mail.Read' })
          : await rmToken();
      for (const [path, ops] of Object.entries(
        swagger['paths'] as Record<
          string,
          Record<string, { parameters: { name: string; in: string; default?: unknown }[] }>
        >,
      )) {
        const get = ops['get'];
        if (!get || path.includes('{messageId}')) continue;
        // An app-only operation (GetMailboxEmails) reads Alice's mailbox with the connector app's role.
        const appOnly = path.startsWith('/v1.0/users/');
        const callToken = appOnly
          ? await issuer.accessToken({
              aud: api.appId,
              appOnly: { appId: connector.appId, oid: randomUUID() },
              roles: ['Mail.Read.All'],
            })
          : token;
        let url = path;
        const query = new URLSearchParams();
        for (const p of get.parameters) {
          if (p.in === 'path')
            url = url.replace(`{${p.name}}`, encodeURIComponent(String(p.default ?? alice.upn)));
          if (p.in === 'query' && p.default !== undefined) query.set(p.name, String(p.default));
        }
        const response = await fetch(`${base}${url}?${query.toString()}`, {
          headers: { authorization: `Bearer ${callToken}` },
        });
        assert.equal(response.status, 200, `${path}: ${await response.text()}`);
      }
    });
  }
});
