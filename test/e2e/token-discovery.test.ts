import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import * as client from 'openid-client';
import { fetch as undiciFetch } from 'undici';
import { startTokenFixture } from '../support/token-fixture.ts';
import type { TokenFixture } from '../support/token-fixture.ts';

/** Metadata and keys as Entra serves them, and accepted by a strict generic OIDC client. */
describe('discovery and keys', () => {
  let f: TokenFixture;
  before(async () => {
    f = await startTokenFixture();
  });
  after(() => f.close());

  it('openid-client discovers the v2 metadata and uses it for client credentials', async () => {
    const customFetch: client.CustomFetch = (url, options) =>
      undiciFetch(url, { ...options, dispatcher: f.dispatcher } as never) as unknown as Promise<Response>;
    const config = await client.discovery(
      new URL(`${f.url}/${f.tenantId}/v2.0`),
      f.client.app.appId,
      undefined,
      client.ClientSecretPost(f.client.secret),
      { [client.customFetch]: customFetch },
    );
    const metadata = config.serverMetadata();
    assert.equal(metadata.issuer, `${f.url}/${f.tenantId}/v2.0`);
    assert.equal(metadata.token_endpoint, `${f.url}/${f.tenantId}/oauth2/v2.0/token`);
    const tokens = await client.clientCredentialsGrant(config, { scope: 'api://downstream/.default' });
    assert.equal(tokens.token_type, 'bearer');
    assert.ok(tokens.access_token.split('.').length === 3);
  });

  it('a verified domain resolves to GUID-based endpoints and issuer', async () => {
    const { body } = await f.get(`/${f.domain}/v2.0/.well-known/openid-configuration`);
    assert.equal(body['issuer'], `${f.url}/${f.tenantId}/v2.0`);
    assert.equal(body['authorization_endpoint'], `${f.url}/${f.tenantId}/oauth2/v2.0/authorize`);
    assert.equal(body['tenant_region_scope'], 'WW');
    assert.equal(body['code_challenge_methods_supported'], undefined, 'Entra does not advertise it');
  });

  it('common and organizations keep their segment and publish the {tenantid} issuer template', async () => {
    for (const segment of ['common', 'organizations']) {
      const v2 = await f.get(`/${segment}/v2.0/.well-known/openid-configuration`);
      assert.equal(v2.body['issuer'], `${f.url}/{tenantid}/v2.0`);
      assert.equal(v2.body['token_endpoint'], `${f.url}/${segment}/oauth2/v2.0/token`);
      assert.equal(v2.body['tenant_region_scope'], null);
      const v1 = await f.get(`/${segment}/.well-known/openid-configuration`);
      assert.equal(v1.body['issuer'], `${f.url}/{tenantid}/`);
      assert.equal(v1.body['token_endpoint'], `${f.url}/${segment}/oauth2/token`);
    }
    assert.equal(
      (await f.get('/common/v2.0/.well-known/openid-configuration')).headers['cache-control'],
      'max-age=86400, private',
    );
  });

  it('v2 keys carry their issuer, v1 keys none; kid = x5t and an x5c certificate', async () => {
    const v2 = (await f.get(`/${f.tenantId}/discovery/v2.0/keys`)).body['keys'] as Record<string, unknown>[];
    const v1 = (await f.get(`/${f.tenantId}/discovery/keys`)).body['keys'] as Record<string, unknown>[];
    const common = (await f.get('/common/discovery/v2.0/keys')).body['keys'] as Record<string, unknown>[];
    assert.ok(v2.length >= 1);
    for (const key of v2) {
      assert.equal(key['issuer'], `${f.url}/${f.tenantId}/v2.0`);
      assert.equal(key['kid'], key['x5t']);
      assert.equal(key['kty'], 'RSA');
      assert.ok(Array.isArray(key['x5c']) && (key['x5c'] as string[]).length > 0);
    }
    for (const key of v1) assert.equal(key['issuer'], undefined);
    for (const key of common) assert.equal(key['issuer'], `${f.url}/{tenantid}/v2.0`);
    assert.deepEqual(
      v1.map((k) => k['kid']),
      v2.map((k) => k['kid']),
    );
  });

  it('instance discovery answers for this host', async () => {
    const host = new URL(f.url).host;
    const { status, body } = await f.get(
      `/common/discovery/instance?api-version=1.1&authorization_endpoint=${encodeURIComponent(`${f.url}/${f.tenantId}/oauth2/v2.0/authorize`)}`,
    );
    assert.equal(status, 200);
    assert.deepEqual(body['metadata'], [{ preferred_network: host, preferred_cache: host, aliases: [host] }]);
  });

  it('the v1 endpoint answers in v1 shape (string numbers, resource, expires_on)', async () => {
    const { status, body } = await f.post(`/${f.tenantId}/oauth2/token`, {
      grant_type: 'client_credentials',
      client_id: f.client.app.appId,
      client_secret: f.client.secret,
      resource: 'api://downstream',
    });
    assert.equal(status, 200);
    assert.equal(typeof body['expires_in'], 'string');
    assert.equal(body['resource'], 'api://downstream');
    assert.match(String(body['expires_on']), /^\d+$/);
    assert.equal(body['scope'], undefined);
  });

  it('client_secret_basic authenticates too', async () => {
    const basic = Buffer.from(
      `${encodeURIComponent(f.client.app.appId)}:${encodeURIComponent(f.client.secret)}`,
    ).toString('base64');
    const { status } = await f.post(
      `/${f.tenantId}/oauth2/v2.0/token`,
      { grant_type: 'client_credentials', scope: 'api://downstream/.default' },
      { authorization: `Basic ${basic}` },
    );
    assert.equal(status, 200);
  });
});
