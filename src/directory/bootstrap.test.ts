import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { it } from 'node:test';
import { bootstrapDirectory, ensureAdminCredential } from './bootstrap.ts';
import { ADMIN_GRAPH_ROLES, GRAPH_PERMISSIONS } from './graph-permissions.ts';
import { MICROSOFT_GRAPH_APP_ID } from './model.ts';
import { BEHALF_ADMIN_APP_ID } from './provisioning.ts';
import { testDirectory } from './testing.ts';

it('creates the home tenant, Graph and Behalf Admin once, and provisions every tenant', async () => {
  const { directory } = testDirectory();
  const first = await bootstrapDirectory(directory);
  const again = await bootstrapDirectory(directory);
  assert.equal(again.homeTenant.id, first.homeTenant.id);
  assert.equal(again.graph.id, first.graph.id);
  assert.equal(first.graph.appId, MICROSOFT_GRAPH_APP_ID);

  const contoso = await directory.createTenant({ displayName: 'Contoso', domains: ['contoso.test'] });
  for (const tenant of [first.homeTenant, contoso]) {
    const graph = await directory.resolveServicePrincipal(tenant.id, 'https://graph.microsoft.com/');
    assert.equal(graph?.appId, MICROSOFT_GRAPH_APP_ID, tenant.displayName);
    assert.ok(graph.oauth2PermissionScopes.some((s) => s.value === 'User.Read'));
    const admin = await directory.getServicePrincipalByAppId(tenant.id, BEHALF_ADMIN_APP_ID);
    const roles = await directory.listAppRoleAssignments({
      tenantId: tenant.id,
      principalId: admin!.id,
      resourceId: graph.id,
    });
    const values = roles.map((a) => graph.appRoles.find((r) => r.id === a.appRoleId)?.value).sort();
    assert.deepEqual(values, [...ADMIN_GRAPH_ROLES].sort());
  }
  assert.equal(
    first.graph.appRoles.find((r) => r.value === 'Application.ReadWrite.All')?.id,
    GRAPH_PERMISSIONS.find((p) => p.value === 'Application.ReadWrite.All')?.roleId,
  );
});

it('writes the admin credential once (0600), keeps it while it verifies, replaces a stale one', async () => {
  const { directory } = testDirectory();
  const { homeTenant } = await bootstrapDirectory(directory);
  const file = join(mkdtempSync(join(tmpdir(), 'behalf-admin-')), 'admin-credential.json');
  const options = {
    directory,
    file,
    authority: 'https://localhost:1/' + homeTenant.id,
    tenantId: homeTenant.id,
  };
  const first = await ensureAdminCredential(options);
  assert.equal(statSync(file).mode & 0o777, 0o600);
  assert.equal((await directory.verifyClientSecret(first.clientId, first.clientSecret)).status, 'valid');
  const second = await ensureAdminCredential({
    ...options,
    authority: 'https://localhost:2/' + homeTenant.id,
  });
  assert.equal(second.clientSecret, first.clientSecret, 'a restart keeps the secret');
  assert.equal(JSON.parse(readFileSync(file, 'utf8')).authority, 'https://localhost:2/' + homeTenant.id);

  writeFileSync(file, JSON.stringify({ ...first, clientSecret: 'not-the-secret' }));
  const third = await ensureAdminCredential(options);
  assert.notEqual(third.clientSecret, first.clientSecret);
  assert.equal(
    (await directory.verifyClientSecret(first.clientId, first.clientSecret)).status,
    'invalid',
    'the old secret was removed',
  );
  const admin = await directory.getApplicationByAppId(BEHALF_ADMIN_APP_ID);
  assert.equal(admin?.passwordCredentials.length, 1);
});
