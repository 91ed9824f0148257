import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { KIND } from './deps.ts';
import { DirectoryError } from './errors.ts';
import { testDirectory } from './testing.ts';

async function rejects(promise: Promise<unknown>, code: string, message: RegExp) {
  await assert.rejects(promise, (error: unknown) => {
    assert.ok(error instanceof DirectoryError, String(error));
    assert.equal(error.code, code);
    assert.match(error.message, message);
    return true;
  });
}

async function setup() {
  const t = testDirectory();
  const tenant = await t.directory.createTenant({ displayName: 'Contoso', domains: ['contoso.test'] });
  const alice = await t.directory.createUser(tenant.id, {
    userPrincipalName: 'alice@contoso.test',
    displayName: 'Alice',
    password: 'correct horse battery',
  });
  return { ...t, tenant, alice };
}

describe('users', () => {
  it('hash the password apart from the user and verify it', async () => {
    const { directory, store, alice } = await setup();
    assert.equal((await directory.getUserByUpn('ALICE@contoso.test'))?.id, alice.id);
    assert.equal(await directory.verifyUserPassword(alice.id, 'correct horse battery'), true);
    assert.equal(await directory.verifyUserPassword(alice.id, 'wrong horse battery'), false);
    const raw = JSON.stringify([
      await store.get(KIND.user, alice.id),
      await store.get(KIND.userPassword, alice.id),
    ]);
    assert.ok(!raw.includes('correct horse'));
    assert.equal('password' in alice, false);
  });

  it('accept only verified domains and unique UPNs', async () => {
    const { directory, tenant } = await setup();
    const user = { displayName: 'Bob', password: 'long enough' };
    await rejects(
      directory.createUser(tenant.id, { ...user, userPrincipalName: 'bob@fabrikam.test' }),
      'Request_BadRequest',
      /verified domain/,
    );
    await rejects(
      directory.createUser(tenant.id, { ...user, userPrincipalName: 'Alice@contoso.test' }),
      'Request_MultipleObjectsWithSameKeyValue',
      /userPrincipalName/,
    );
    await rejects(
      directory.createUser(tenant.id, { ...user, userPrincipalName: 'bob@contoso.test', password: 'short' }),
      'Request_BadRequest',
      /password/,
    );
  });
});

describe('groups', () => {
  it('answer direct and transitive membership', async () => {
    const { directory, tenant, alice } = await setup();
    const inner = await directory.createGroup(tenant.id, { displayName: 'Inner' });
    const outer = await directory.createGroup(tenant.id, { displayName: 'Outer' });
    await directory.addMember(tenant.id, inner.id, alice.id);
    await directory.addMember(tenant.id, outer.id, inner.id);
    assert.deepEqual(await directory.listGroupIdsOf(tenant.id, alice.id), [inner.id]);
    assert.deepEqual(
      (await directory.listGroupIdsOf(tenant.id, alice.id, { transitive: true })).sort(),
      [inner.id, outer.id].sort(),
    );
    await rejects(
      directory.addMember(tenant.id, inner.id, alice.id),
      'Request_MultipleObjectsWithSameKeyValue',
      /already exist/,
    );
    await directory.removeMember(tenant.id, inner.id, alice.id);
    assert.deepEqual(await directory.listGroupIdsOf(tenant.id, alice.id), []);
  });
});

describe('grants and app role assignments', () => {
  async function apps() {
    const t = await setup();
    const { directory, tenant } = t;
    const api = await directory.createApplication(tenant.id, {
      displayName: 'API',
      api: { oauth2PermissionScopes: [{ value: 'read' }] },
      appRoles: [
        { value: 'Mail.Send', allowedMemberTypes: ['Application'] },
        { value: 'Reader', allowedMemberTypes: ['User'] },
      ],
    });
    const client = await directory.createApplication(tenant.id, { displayName: 'Client' });
    const apiSp = await directory.createServicePrincipal(tenant.id, { appId: api.appId });
    const clientSp = await directory.createServicePrincipal(tenant.id, { appId: client.appId });
    return { ...t, api, apiSp, clientSp };
  }

  it('list the grants that apply to a user: AllPrincipals and their own', async () => {
    const { directory, tenant, alice, apiSp, clientSp } = await apps();
    const all = await directory.createGrant(tenant.id, {
      clientId: clientSp.id,
      resourceId: apiSp.id,
      consentType: 'AllPrincipals',
      scope: ' read  read ',
    });
    assert.equal(all.scope, 'read');
    await rejects(
      directory.createGrant(tenant.id, {
        clientId: clientSp.id,
        resourceId: apiSp.id,
        consentType: 'AllPrincipals',
        scope: 'x',
      }),
      'Request_MultipleObjectsWithSameKeyValue',
      /already exists/,
    );
    const mine = await directory.createGrant(tenant.id, {
      clientId: clientSp.id,
      resourceId: apiSp.id,
      consentType: 'Principal',
      principalId: alice.id,
      scope: 'write',
    });
    const forAlice = await directory.listPermissionGrants({
      tenantId: tenant.id,
      clientId: clientSp.id,
      resourceId: apiSp.id,
      principalId: alice.id,
    });
    assert.deepEqual(forAlice.map((g) => g.id).sort(), [all.id, mine.id].sort());
    const forBob = await directory.listPermissionGrants({
      tenantId: tenant.id,
      clientId: clientSp.id,
      resourceId: apiSp.id,
      principalId: crypto.randomUUID(),
    });
    assert.deepEqual(
      forBob.map((g) => g.id),
      [all.id],
    );
    await rejects(
      directory.createGrant(tenant.id, {
        clientId: clientSp.id,
        resourceId: apiSp.id,
        consentType: 'Principal',
        scope: 'x',
      }),
      'Request_BadRequest',
      /principalId is required/,
    );
  });

  it('assign only roles the resource defines, to the member types it allows', async () => {
    const { directory, tenant, alice, api, apiSp, clientSp } = await apps();
    const send = api.appRoles.find((r) => r.value === 'Mail.Send')!;
    const reader = api.appRoles.find((r) => r.value === 'Reader')!;
    const assignment = await directory.createAssignment(tenant.id, {
      principalId: clientSp.id,
      resourceId: apiSp.id,
      appRoleId: send.id,
    });
    assert.equal(assignment.principalType, 'ServicePrincipal');
    assert.equal(assignment.resourceDisplayName, 'API');
    await rejects(
      directory.createAssignment(tenant.id, {
        principalId: clientSp.id,
        resourceId: apiSp.id,
        appRoleId: send.id,
      }),
      'Request_MultipleObjectsWithSameKeyValue',
      /already exists/,
    );
    await rejects(
      directory.createAssignment(tenant.id, {
        principalId: alice.id,
        resourceId: apiSp.id,
        appRoleId: send.id,
      }),
      'Request_BadRequest',
      /cannot be assigned to a user/,
    );
    await rejects(
      directory.createAssignment(tenant.id, {
        principalId: alice.id,
        resourceId: apiSp.id,
        appRoleId: crypto.randomUUID(),
      }),
      'Request_BadRequest',
      /not found on application/,
    );
    await directory.createAssignment(tenant.id, {
      principalId: alice.id,
      resourceId: apiSp.id,
      appRoleId: reader.id,
    });
    const held = await directory.listAppRoleAssignments({
      tenantId: tenant.id,
      principalId: clientSp.id,
      resourceId: apiSp.id,
    });
    assert.deepEqual(
      held.map((a) => a.appRoleId),
      [send.id],
    );
    const onResource = await directory.listAppRoleAssignments({ tenantId: tenant.id, resourceId: apiSp.id });
    assert.equal(onResource.length, 2);
  });
});
