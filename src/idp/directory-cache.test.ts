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
  const users = new Map<string, { id: string; accountEnabled: boolean }>();
  let failNext = false;
  let protocolTime = Date.UTC(2026, 0, 1);
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
    async getUser(_tenantId, userId) {
      reads.push('user');
      return users.get(userId) as never;
    },
    async getUserByUpn() {
      reads.push('upn');
      return undefined;
    },
    async verifyUserPassword() {
      reads.push('password');
      return false;
    },
    async verifyClientSecret(appId, secret) {
      reads.push(`secret ${appId}`);
      const credential = apps.get(appId)?.passwordCredentials?.find((c) => c.secretHash === `hash:${secret}`);
      if (!credential) return { status: 'invalid' };
      if (Date.parse(credential.endDateTime) <= protocolTime)
        return { status: 'expired', keyId: credential.keyId, endDateTime: credential.endDateTime };
      return { status: 'valid', keyId: credential.keyId };
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
  return {
    directory,
    reads,
    apps,
    sps,
    users,
    failNextRead: () => (failNext = true),
    clock: { now: () => protocolTime },
    setTime: (ms: number) => (protocolTime = ms),
  };
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

  describe('with the directory writes of this process heard (directory-changes.ts)', () => {
    function setUp() {
      const fake = fakeDirectory();
      let generation = 0;
      const cached = cachedDirectory(fake.directory, {
        now: () => 0,
        clock: fake.clock,
        changes: { generation: () => generation },
      });
      const credential = (keyId: string, secret: string, endDateTime: string) => ({
        keyId,
        secretHash: `hash:${secret}`,
        endDateTime,
        startDateTime: '2025-01-01T00:00:00Z',
      });
      fake.apps.set('a1', {
        appId: 'a1',
        passwordCredentials: [credential('k1', 's1', '2026-06-01T00:00:00Z')] as never,
      });
      return { fake, cached, credential, write: () => generation++ };
    }

    it('keeps secrets, grants, assignments and users until the next directory write', async () => {
      const { fake, cached, write } = setUp();
      fake.users.set('u1', { id: 'u1', accountEnabled: true });
      for (let i = 0; i < 3; i++) {
        assert.equal((await cached.verifyClientSecret('a1', 's1')).status, 'valid');
        await cached.listPermissionGrants('t1', 'c', 'r');
        await cached.listAppRoleAssignments('t1', 'p', 'r');
        assert.equal((await cached.getUser('t1', 'u1'))?.accountEnabled, true);
      }
      assert.deepEqual(fake.reads, ['secret a1', 'app a1', 'grants', 'assignments', 'user']);

      // The secret is removed and the user disabled: the write is heard, the next call reads again.
      fake.apps.set('a1', { appId: 'a1', passwordCredentials: [] });
      fake.users.set('u1', { id: 'u1', accountEnabled: false });
      write();
      assert.equal((await cached.verifyClientSecret('a1', 's1')).status, 'invalid');
      assert.equal((await cached.getUser('t1', 'u1'))?.accountEnabled, false);
      await cached.listPermissionGrants('t1', 'c', 'r');
      assert.equal(fake.reads.filter((r) => r === 'grants').length, 2);
    });

    it('never keeps a wrong secret, and keys a right one to the exact client and secret', async () => {
      const { fake, cached } = setUp();
      for (let i = 0; i < 3; i++)
        assert.equal((await cached.verifyClientSecret('a1', 'guess')).status, 'invalid');
      assert.equal(fake.reads.filter((r) => r === 'secret a1').length, 3);
      assert.equal((await cached.verifyClientSecret('a1', 's1')).status, 'valid');
      assert.equal((await cached.verifyClientSecret('a1', 's1x')).status, 'invalid');
      assert.equal((await cached.verifyClientSecret('a2', 's1')).status, 'invalid');
      assert.equal(fake.reads.filter((r) => r.startsWith('secret')).length, 6);
    });

    it("does not serve a cached secret past its credential's end date", async () => {
      const { fake, cached } = setUp();
      fake.setTime(Date.parse('2026-05-31T23:59:59Z'));
      assert.equal((await cached.verifyClientSecret('a1', 's1')).status, 'valid');
      assert.equal((await cached.verifyClientSecret('a1', 's1')).status, 'valid');
      assert.equal(fake.reads.filter((r) => r === 'secret a1').length, 1);
      fake.setTime(Date.parse('2026-06-01T00:00:00Z'));
      assert.equal((await cached.verifyClientSecret('a1', 's1')).status, 'expired');
    });

    it('drops a read that raced a write, even though it settled after it', async () => {
      const fake = fakeDirectory();
      let generation = 0;
      let release: () => void = () => undefined;
      const gate = new Promise<void>((resolve) => (release = resolve));
      const slow = {
        ...fake.directory,
        async listPermissionGrants(...args: Parameters<typeof fake.directory.listPermissionGrants>) {
          await gate;
          return fake.directory.listPermissionGrants(...args);
        },
      };
      const cached = cachedDirectory(slow, { now: () => 0, changes: { generation: () => generation } });
      const racing = cached.listPermissionGrants('t1', 'c', 'r');
      generation++; // a grant is written while the read is in flight
      release();
      await racing;
      await cached.listPermissionGrants('t1', 'c', 'r');
      assert.equal(fake.reads.filter((r) => r === 'grants').length, 2);
    });
  });
});
