import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { Application, ServicePrincipal } from '../directory/model.ts';
import { cachedDirectory } from './directory-cache.ts';
import type { IdpDirectory } from './directory-port.ts';

/** A directory whose records the test edits in place, counting every read that reaches it. */
function fakeDirectory() {
  const reads: string[] = [];
  const apps = new Map<string, Partial<Application>>();
  const sps = new Map<string, Partial<ServicePrincipal>>();
  let failNext = false;
  const directory: IdpDirectory = {
    async getTenant(id) {
      reads.push(`tenant ${id}`);
      return id === 't1' ? ({ id: 't1' } as never) : undefined;
    },
    async getApplicationByAppId(appId) {
      reads.push(`app ${appId}`);
      if (failNext) {
        failNext = false;
        throw new Error('store down');
      }
      const app = apps.get(appId);
      return app ? ({ ...app } as Application) : undefined;
    },
    async getServicePrincipalByAppId(tenantId, appId) {
      reads.push(`sp ${tenantId} ${appId}`);
      const sp = sps.get(appId);
      return sp ? ({ ...sp } as ServicePrincipal) : undefined;
    },
    async resolveServicePrincipal(tenantId, identifier) {
      reads.push(`resolve ${tenantId} ${identifier}`);
      return [...sps.values()].find((sp) => sp.servicePrincipalNames?.includes(identifier)) as never;
    },
    async getUser() {
      reads.push('user');
      return undefined;
    },
    async getUserByUpn() {
      reads.push('upn');
      return undefined;
    },
    async verifyUserPassword() {
      reads.push('password');
      return false;
    },
    async verifyClientSecret(appId) {
      reads.push(`secret ${appId}`);
      return { status: 'invalid' };
    },
    async listPermissionGrants() {
      reads.push('grants');
      return [];
    },
    async listAppRoleAssignments() {
      reads.push('assignments');
      return [];
    },
  };
  return { directory, reads, apps, sps, failNextRead: () => (failNext = true) };
}

describe('token service directory cache', () => {
  it('serves repeated app/SP/tenant lookups from memory, and re-reads once the TTL has passed', async () => {
    const fake = fakeDirectory();
    let clock = 0;
    const cached = cachedDirectory(fake.directory, { ttlMs: 1000, now: () => clock });
    fake.apps.set('a1', { appId: 'a1', displayName: 'First' });
    fake.sps.set('a1', { appId: 'a1', accountEnabled: true, servicePrincipalNames: ['api://one'] });

    for (let i = 0; i < 3; i++) {
      assert.equal((await cached.getApplicationByAppId('a1'))?.displayName, 'First');
      assert.equal((await cached.getServicePrincipalByAppId('t1', 'a1'))?.accountEnabled, true);
      assert.equal((await cached.resolveServicePrincipal('t1', 'api://one'))?.appId, 'a1');
      assert.equal((await cached.getTenant('t1'))?.id, 't1');
    }
    assert.deepEqual(fake.reads, ['app a1', 'sp t1 a1', 'resolve t1 api://one', 'tenant t1']);

    fake.apps.set('a1', { appId: 'a1', displayName: 'Renamed' });
    fake.sps.set('a1', { appId: 'a1', accountEnabled: false, servicePrincipalNames: ['api://one'] });
    clock = 999;
    assert.equal((await cached.getApplicationByAppId('a1'))?.displayName, 'First');
    clock = 1000;
    assert.equal((await cached.getApplicationByAppId('a1'))?.displayName, 'Renamed');
    assert.equal((await cached.getServicePrincipalByAppId('t1', 'a1'))?.accountEnabled, false);
  });

  it('never keeps a miss or a failure, so a new client works at once and an outage is not remembered', async () => {
    const fake = fakeDirectory();
    const cached = cachedDirectory(fake.directory, { now: () => 0 });
    assert.equal(await cached.getApplicationByAppId('new'), undefined);
    fake.apps.set('new', { appId: 'new', displayName: 'New' });
    assert.equal((await cached.getApplicationByAppId('new'))?.displayName, 'New');

    fake.failNextRead();
    await assert.rejects(cached.getApplicationByAppId('other'), /store down/);
    fake.apps.set('other', { appId: 'other', displayName: 'Other' });
    assert.equal((await cached.getApplicationByAppId('other'))?.displayName, 'Other');
    assert.equal(fake.reads.filter((r) => r === 'app other').length, 2);
  });

  it('passes secrets, passwords, grants, assignments and users through on every call', async () => {
    const fake = fakeDirectory();
    const cached = cachedDirectory(fake.directory, { now: () => 0 });
    for (let i = 0; i < 2; i++) {
      await cached.verifyClientSecret('a1', 's');
      await cached.listPermissionGrants('t1', 'c', 'r');
      await cached.listAppRoleAssignments('t1', 'p', 'r');
      await cached.getUser('t1', 'u');
      await cached.getUserByUpn('t1', 'u@x');
      await cached.verifyUserPassword('t1', 'u', 'p');
    }
    assert.equal(fake.reads.length, 12);
  });

  it('keeps at most maxEntries per lookup, and ttlMs 0 is no cache at all', async () => {
    const fake = fakeDirectory();
    for (const id of ['a', 'b', 'c']) fake.apps.set(id, { appId: id });
    const cached = cachedDirectory(fake.directory, { maxEntries: 2, now: () => 0 });
    for (const id of ['a', 'b', 'c', 'c', 'b', 'a']) await cached.getApplicationByAppId(id);
    // a was evicted when c came in; b and c stayed.
    assert.deepEqual(fake.reads, ['app a', 'app b', 'app c', 'app a']);
    assert.equal(cachedDirectory(fake.directory, { ttlMs: 0 }), fake.directory);
  });
});
