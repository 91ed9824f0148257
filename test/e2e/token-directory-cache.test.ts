// The token service caches tenant/app/service-principal lookups for a second (src/idp/directory-cache.ts).
// These prove, over HTTPS on a real Behalf, that the cache never delays what must take effect: a
// removed client secret is refused on the very next request, a disabled service principal once the
// cache's second has passed.
import assert from 'node:assert/strict';
import { setTimeout as sleep } from 'node:timers/promises';
import { after, before, describe, it } from 'node:test';
import { DEFAULT_DIRECTORY_CACHE_MS } from '../../src/idp/directory-cache.ts';
import { startTokenFixture } from '../support/token-fixture.ts';
import type { TokenFixture } from '../support/token-fixture.ts';

let f: TokenFixture;

async function newClient(name: string) {
  const { directory } = f.behalf;
  const app = await directory.createApplication(f.tenantId, { displayName: name });
  const sp =
    (await directory.getServicePrincipalByAppId(f.tenantId, app.appId)) ??
    (await directory.createServicePrincipal(f.tenantId, { appId: app.appId }));
  const added = await directory.addPassword(f.tenantId, app.id, { displayName: 'bench' });
  return { app, sp, secret: added.secretText, keyId: added.keyId };
}

function clientCredentials(appId: string, secret: string) {
  return f.post(`/${f.tenantId}/oauth2/v2.0/token`, {
    grant_type: 'client_credentials',
    client_id: appId,
    client_secret: secret,
    scope: 'api://downstream/.default',
  });
}

function code(body: Record<string, unknown>): number | undefined {
  return (body['error_codes'] as number[] | undefined)?.[0];
}

describe('token service directory cache: what must not wait', () => {
  before(async () => {
    f = await startTokenFixture();
  });
  after(() => f.close());

  it('refuses a removed client secret on the next request (AADSTS7000215)', async () => {
    const client = await newClient('Secret removed');
    const first = await clientCredentials(client.app.appId, client.secret);
    assert.equal(first.status, 200, JSON.stringify(first.body));
    await f.behalf.directory.removePassword(f.tenantId, client.app.id, client.keyId);
    const second = await clientCredentials(client.app.appId, client.secret);
    assert.equal(second.status, 401);
    assert.equal(second.body['error'], 'invalid_client');
    assert.equal(code(second.body), 7000215);
  });

  it('refuses a disabled service principal once the cache second has passed (AADSTS7000112)', async () => {
    const client = await newClient('Disabled later');
    const first = await clientCredentials(client.app.appId, client.secret);
    assert.equal(first.status, 200, JSON.stringify(first.body));
    await f.behalf.directory.updateServicePrincipal(f.tenantId, client.sp.id, { accountEnabled: false });
    await sleep(DEFAULT_DIRECTORY_CACHE_MS + 50);
    const second = await clientCredentials(client.app.appId, client.secret);
    // unauthorized_client is a 400 at Entra; only invalid_client is a 401.
    assert.equal(second.status, 400, JSON.stringify(second.body));
    assert.equal(second.body['error'], 'unauthorized_client');
    assert.equal(code(second.body), 7000112);
  });

  it('accepts a client created right after a failed lookup of it (misses are not cached)', async () => {
    const unknown = await clientCredentials('00000000-0000-0000-0000-00000000abcd', 'x');
    assert.equal(code(unknown.body), 700016);
    const client = await newClient('Created after a miss');
    const ok = await clientCredentials(client.app.appId, client.secret);
    assert.equal(ok.status, 200, JSON.stringify(ok.body));
  });
});
