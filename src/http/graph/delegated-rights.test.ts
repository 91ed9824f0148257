import assert from 'node:assert/strict';
import { it } from 'node:test';
import { graphBearerVerifier } from './verifier.ts';
import { requireAccess } from './caller.ts';

// Entra: a delegated permission never exceeds the signed-in user's own rights. Directory.ReadWrite.All
// consented for the organisation must not let an ordinary member rewrite the directory.
const tenantId = '11111111-1111-4111-8111-111111111111';
const tokens = {
  async verifyAccessToken(token: string) {
    const oid = token === 'admin-user' ? 'oid-admin' : 'oid-member';
    return { ok: true as const, claims: { tid: tenantId, azp: 'cli', oid, scp: 'Directory.ReadWrite.All' } };
  },
};
const verify = graphBearerVerifier(tokens, { isAdministrator: async (_tenant, oid) => oid === 'oid-admin' });

it('lets a delegated administrator write the directory', async () => {
  const caller = await verify('admin-user');
  assert.ok(caller);
  requireAccess(caller, 'applications.write');
  requireAccess(caller, 'users.write');
});

it('refuses directory writes to a delegated non-administrator, whatever scopes were consented', async () => {
  const caller = await verify('member-user');
  assert.ok(caller);
  for (const access of [
    'applications.write',
    'users.write',
    'grants.write',
    'assignments.write',
    'organization.write',
  ] as const) {
    assert.throws(() => requireAccess(caller, access), /not an administrator/, access);
  }
  requireAccess(caller, 'applications.read');
});

it('leaves app-only callers to their application permissions', async () => {
  const appOnly = await graphBearerVerifier({
    async verifyAccessToken() {
      return {
        ok: true as const,
        claims: { tid: tenantId, appid: 'daemon', roles: ['Application.ReadWrite.All'] },
      };
    },
  })('t');
  assert.ok(appOnly);
  requireAccess(appOnly, 'applications.write');
});
