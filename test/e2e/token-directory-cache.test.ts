// The token service caches directory reads (src/idp/directory-cache.ts): until the next directory write
// of its own process, and for at most a second otherwise. These prove, over HTTPS on a real Behalf,
// that the cache never delays what must take effect: a removed client secret, a disabled service
// principal, a new consent grant act on the very next request; a secret removed by another process
// sharing the database is refused once the cache's second has passed.
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { after, before, describe, it } from 'node:test';
import { cryptoRandom } from '../../src/core/ids.ts';
import { createDirectory } from '../../src/directory/directory.ts';
import { DEFAULT_DIRECTORY_CACHE_MS } from '../../src/idp/directory-cache.ts';
import { openSqliteStore } from '../../src/storage/adapters/sqlite.ts';
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

  it('refuses a disabled service principal on the next request (AADSTS7000112)', async () => {
    const client = await newClient('Disabled later');
    const first = await clientCredentials(client.app.appId, client.secret);
    assert.equal(first.status, 200, JSON.stringify(first.body));
    await f.behalf.directory.updateServicePrincipal(f.tenantId, client.sp.id, { accountEnabled: false });
    const second = await clientCredentials(client.app.appId, client.secret);
    // unauthorized_client is a 400 at Entra; only invalid_client is a 401.
    assert.equal(second.status, 400, JSON.stringify(second.body));
    assert.equal(second.body['error'], 'unauthorized_client');
    assert.equal(code(second.body), 7000112);
  });

  it('honours a consent grant on the next on-behalf-of request (no AADSTS65001 left over)', async () => {
    const user = await f.post(`/${f.tenantId}/oauth2/v2.0/token`, {
      grant_type: 'password',
      client_id: f.client.app.appId,
      client_secret: f.client.secret,
      username: f.alice.userPrincipalName,
      password: f.alicePassword,
      scope: 'api://middle/access_as_user',
    });
    assert.equal(user.status, 200, JSON.stringify(user.body));
    const obo = () =>
      f.post(`/${f.tenantId}/oauth2/v2.0/token`, {
        grant_type: 'urn:ietf:params:oauth:grant-type:jwt-bearer',
        requested_token_use: 'on_behalf_of',
        client_id: f.middle.app.appId,
        client_secret: f.middle.secret,
        assertion: String(user.body['access_token']),
        scope: 'api://unconsented/use',
      });
    const refused = await obo();
    assert.equal(code(refused.body), 65001, JSON.stringify(refused.body));
    await f.behalf.directory.createGrant(f.tenantId, {
      clientId: f.middle.sp.id,
      resourceId: f.unconsented.sp.id,
      consentType: 'AllPrincipals',
      scope: 'use',
    });
    const granted = await obo();
    assert.equal(granted.status, 200, JSON.stringify(granted.body));
  });

  it('refuses a secret removed by another process once the cache second has passed', async () => {
    const client = await newClient('Removed elsewhere');
    const first = await clientCredentials(client.app.appId, client.secret);
    assert.equal(first.status, 200, JSON.stringify(first.body));
    // A second connection to the same database, as another Behalf node or the CLI would have.
    const otherStore = openSqliteStore({ filename: join(f.behalf.config.dataDir, 'behalf.db') });
    try {
      const unused = { hash: () => '', verify: () => false };
      const other = createDirectory({
        store: otherStore,
        clock: { now: () => Date.now() },
        random: cryptoRandom,
        secretHasher: unused,
        passwordHasher: { hash: async () => '', verify: async () => false },
      });
      await other.removePassword(f.tenantId, client.app.id, client.keyId);
    } finally {
      await otherStore.close();
    }
    await sleep(DEFAULT_DIRECTORY_CACHE_MS + 50);
    const second = await clientCredentials(client.app.appId, client.secret);
    assert.equal(second.status, 401, JSON.stringify(second.body));
    assert.equal(code(second.body), 7000215);
  });

  it('accepts a client created right after a failed lookup of it (misses are not cached)', async () => {
    const unknown = await clientCredentials('00000000-0000-0000-0000-00000000abcd', 'x');
    assert.equal(code(unknown.body), 700016);
    const client = await newClient('Created after a miss');
    const ok = await clientCredentials(client.app.appId, client.secret);
    assert.equal(ok.status, 200, JSON.stringify(ok.body));
  });
});
