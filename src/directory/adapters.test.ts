import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { testDatabaseUrl, uniqueSchema } from '../../test/support/postgres.ts';
import { openPostgresStore } from '../storage/adapters/postgres.ts';
import { openSqliteStore } from '../storage/adapters/sqlite.ts';
import type { RecordStore } from '../storage/record-store.ts';
import { bootstrapDirectory } from './bootstrap.ts';
import { DirectoryError } from './errors.ts';
import { testDirectory } from './testing.ts';

/**
 * The directory's uniqueness and consistency rules rest on the store's unique keys and transactions;
 * this runs them on the two SQL adapters (the unit tests use memory), including racing writers.
 */
const ADAPTERS: Record<string, () => Promise<{ store: RecordStore; cleanup(): void }>> = {
  sqlite: async () => {
    const dir = mkdtempSync(join(tmpdir(), 'behalf-directory-sqlite-'));
    return {
      store: openSqliteStore({ filename: join(dir, 'behalf.db') }),
      cleanup: () => rmSync(dir, { recursive: true, force: true }),
    };
  },
  postgres: async () => ({
    store: await openPostgresStore({
      connectionString: testDatabaseUrl(),
      schema: uniqueSchema('directory'),
      poolSize: 4,
    }),
    cleanup: () => undefined,
  }),
};

for (const [name, open] of Object.entries(ADAPTERS)) {
  describe(`directory on ${name}`, () => {
    it('racing creators of one identifier URI: exactly one wins, the others get the Graph conflict', async () => {
      const { store, cleanup } = await open();
      try {
        const { directory } = testDirectory(store);
        const tenant = await directory.createTenant({ displayName: 'Contoso', domains: ['contoso.test'] });
        const results = await Promise.allSettled(
          Array.from({ length: 6 }, (_, i) =>
            directory.createApplication(tenant.id, {
              displayName: `Racer ${i}`,
              identifierUris: ['api://contested'],
            }),
          ),
        );
        const won = results.filter((r) => r.status === 'fulfilled');
        const lost = results.filter((r): r is PromiseRejectedResult => r.status === 'rejected');
        assert.equal(won.length, 1);
        for (const failure of lost) {
          assert.ok(failure.reason instanceof DirectoryError, String(failure.reason));
          assert.equal(failure.reason.code, 'Request_MultipleObjectsWithSameKeyValue');
        }
      } finally {
        await store.close();
        cleanup();
      }
    });

    it('bootstrap, service principal resolution, secrets and grants round-trip', async () => {
      const { store, cleanup } = await open();
      try {
        const { directory } = testDirectory(store);
        const { homeTenant } = await bootstrapDirectory(directory);
        await bootstrapDirectory(directory);
        const api = await directory.createApplication(homeTenant.id, {
          displayName: 'API',
          identifierUris: ['https://api.behalf.test/'],
          api: { oauth2PermissionScopes: [{ value: 'read' }] },
        });
        const client = await directory.createApplication(homeTenant.id, { displayName: 'Client' });
        const apiSp = await directory.createServicePrincipal(homeTenant.id, { appId: api.appId });
        const clientSp = await directory.createServicePrincipal(homeTenant.id, { appId: client.appId });
        assert.equal(
          (await directory.resolveServicePrincipal(homeTenant.id, 'https://api.behalf.test'))?.id,
          apiSp.id,
        );
        const secret = await directory.addPassword(homeTenant.id, client.id, {});
        assert.equal((await directory.verifyClientSecret(client.appId, secret.secretText)).status, 'valid');
        await directory.createGrant(homeTenant.id, {
          clientId: clientSp.id,
          resourceId: apiSp.id,
          consentType: 'AllPrincipals',
          scope: 'read',
        });
        const grants = await directory.listPermissionGrants({
          tenantId: homeTenant.id,
          clientId: clientSp.id,
          resourceId: apiSp.id,
        });
        assert.deepEqual(
          grants.map((g) => g.scope),
          ['read'],
        );
        const concurrent = await Promise.all(
          Array.from({ length: 4 }, () => directory.addPassword(homeTenant.id, client.id, {})),
        );
        for (const created of concurrent)
          assert.equal(
            (await directory.verifyClientSecret(client.appId, created.secretText)).status,
            'valid',
            'no concurrent addPassword is lost',
          );
        await directory.updateApplication(homeTenant.id, api.id, { identifierUris: ['api://renamed'] });
        assert.equal(
          await directory.resolveServicePrincipal(homeTenant.id, 'https://api.behalf.test'),
          undefined,
        );
        assert.equal((await directory.resolveServicePrincipal(homeTenant.id, 'api://renamed'))?.id, apiSp.id);
      } finally {
        await store.close();
        cleanup();
      }
    });
  });
}
