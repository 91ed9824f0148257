import assert from 'node:assert/strict';
import { test } from 'node:test';
import { testDirectory } from '../../directory/testing.ts';
import { ClientMetadataError } from '../../idp/endpoints/client-metadata-document.ts';
import type { ClientMetadata } from '../../idp/endpoints/client-metadata-document.ts';
import { CLIENT_METADATA_APP_TAG, createClientMetadataApps } from './client-metadata-apps.ts';

const URL_A = 'https://client.example/oauth/client.json';

function metadata(overrides: Partial<ClientMetadata> = {}): ClientMetadata {
  return {
    clientId: URL_A,
    clientName: 'Example host',
    displayName: 'Example host (client.example)',
    redirectUris: ['http://localhost:3000/callback'],
    ...overrides,
  };
}

async function setup() {
  const t = testDirectory();
  const tenant = await t.directory.createTenant({ displayName: 'Contoso', domains: ['contoso.test'] });
  const other = await t.directory.createTenant({ displayName: 'Fabrikam', domains: ['fabrikam.test'] });
  const apps = createClientMetadataApps({ directory: t.directory, store: t.store });
  const tagged = async (tenantId: string) =>
    (
      await t.directory.listApplications(tenantId, {
        where: (a) => a.tags.includes(CLIENT_METADATA_APP_TAG),
      })
    ).items;
  return { ...t, tenant, other, apps, tagged };
}

test('a document becomes one public client per tenant, with a service principal, created once', async () => {
  const { directory, tenant, other, apps, tagged } = await setup();
  const [first, racing] = await Promise.all([
    apps.appIdFor(tenant.id, metadata()),
    apps.appIdFor(tenant.id, metadata()),
  ]);
  assert.equal(first, racing);
  assert.equal(await apps.appIdFor(tenant.id, metadata()), first);
  const [app] = await tagged(tenant.id);
  assert.equal((await tagged(tenant.id)).length, 1);
  assert.equal(app!.appId, first);
  assert.equal(app!.displayName, 'Example host (client.example)');
  assert.equal(app!.isFallbackPublicClient, true);
  assert.deepEqual(app!.publicClient.redirectUris, ['http://localhost:3000/callback']);
  assert.equal(app!.description, `Client ID metadata document: ${URL_A}`);
  assert.ok(await directory.getServicePrincipalByAppId(tenant.id, first));
  // Another tenant gets its own application for the same document.
  const elsewhere = await apps.appIdFor(other.id, metadata());
  assert.notEqual(elsewhere, first);
  assert.equal((await tagged(other.id)).length, 1);
});

test('when the document changes, the application follows it', async () => {
  const { tenant, apps, tagged } = await setup();
  const appId = await apps.appIdFor(tenant.id, metadata());
  const changed = metadata({
    clientName: 'Renamed',
    displayName: 'Renamed (client.example)',
    redirectUris: ['http://localhost:3000/callback', 'https://client.example/cb'],
  });
  assert.equal(await apps.appIdFor(tenant.id, changed), appId);
  const [app] = await tagged(tenant.id);
  assert.equal(app!.displayName, 'Renamed (client.example)');
  assert.deepEqual(app!.publicClient.redirectUris, [
    'http://localhost:3000/callback',
    'https://client.example/cb',
  ]);
});

test('a deleted application is registered afresh on the next request', async () => {
  const { directory, tenant, apps, tagged } = await setup();
  const appId = await apps.appIdFor(tenant.id, metadata());
  const [app] = await tagged(tenant.id);
  await directory.deleteApplication(tenant.id, app!.id);
  const again = await apps.appIdFor(tenant.id, metadata());
  assert.notEqual(again, appId);
  assert.equal((await tagged(tenant.id)).length, 1);
});

test("a redirect URI the directory's rules refuse is the client's error (invalid_client), not a 500", async () => {
  const { tenant, apps, tagged } = await setup();
  const long = `https://client.example/${'a'.repeat(300)}`;
  await assert.rejects(
    apps.appIdFor(tenant.id, metadata({ redirectUris: [long] })),
    (error: unknown) =>
      error instanceof ClientMetadataError &&
      error.code === 'invalid_client' &&
      /cannot be registered: .*longer than 256/.test(error.message),
  );
  assert.equal((await tagged(tenant.id)).length, 0);
});
