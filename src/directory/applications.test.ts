import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
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
  return { ...t, tenant };
}

describe('tenants', () => {
  it('resolve by GUID or by verified domain, case-insensitively; a domain belongs to one tenant', async () => {
    const { directory, tenant } = await setup();
    assert.equal((await directory.getTenant(tenant.id))?.id, tenant.id);
    assert.equal((await directory.getTenant(tenant.id.toUpperCase()))?.id, tenant.id);
    assert.equal((await directory.getTenant('Contoso.TEST'))?.id, tenant.id);
    assert.equal(await directory.getTenant('fabrikam.test'), undefined);
    await rejects(
      directory.createTenant({ displayName: 'Other', domains: ['contoso.test'] }),
      'Request_MultipleObjectsWithSameKeyValue',
      /contoso\.test/,
    );
    await rejects(
      directory.createTenant({ displayName: 'X', domains: ['not a domain'] }),
      'Request_BadRequest',
      /domain/,
    );
  });
});

describe('applications', () => {
  it('keeps identifierUris unique per tenant, with a precise error', async () => {
    const { directory, tenant } = await setup();
    await directory.createApplication(tenant.id, {
      displayName: 'API',
      identifierUris: ['api://contoso/api'],
    });
    await rejects(
      directory.createApplication(tenant.id, {
        displayName: 'API 2',
        identifierUris: ['API://contoso/api/'],
      }),
      'Request_MultipleObjectsWithSameKeyValue',
      /identifierUris already exists/,
    );
    const other = await directory.createTenant({ displayName: 'Fabrikam', domains: ['fabrikam.test'] });
    const elsewhere = await directory.createApplication(other.id, {
      displayName: 'Same URI elsewhere',
      identifierUris: ['api://contoso/api'],
    });
    assert.deepEqual(elsewhere.identifierUris, ['api://contoso/api']);
  });

  it('accepts https redirect URIs and http only for loopback', async () => {
    const { directory, tenant } = await setup();
    const app = await directory.createApplication(tenant.id, {
      displayName: 'Web',
      web: {
        redirectUris: ['https://app.contoso.test/cb', 'http://localhost:3000/cb', 'http://127.0.0.1/cb'],
      },
    });
    assert.equal(app.web.redirectUris.length, 3);
    await rejects(
      directory.updateApplication(tenant.id, app.id, {
        web: { redirectUris: ['http://app.contoso.test/cb'] },
      }),
      'Request_BadRequest',
      /must use https/,
    );
    await rejects(
      directory.updateApplication(tenant.id, app.id, { spa: { redirectUris: ['https://x.test/cb#frag'] } }),
      'Request_BadRequest',
      /fragment/,
    );
    await rejects(
      directory.updateApplication(tenant.id, app.id, { web: { redirectUris: ['not a uri'] } }),
      'Request_BadRequest',
      /not an absolute URI/,
    );
  });

  it('checks scope values: no spaces, at most 120 characters, unique', async () => {
    const { directory, tenant } = await setup();
    const scope = (value: string) => ({ api: { oauth2PermissionScopes: [{ value }] } });
    await rejects(
      directory.createApplication(tenant.id, { displayName: 'A', ...scope('read all') }),
      'Request_BadRequest',
      /spaces/,
    );
    await rejects(
      directory.createApplication(tenant.id, { displayName: 'A', ...scope('x'.repeat(121)) }),
      'Request_BadRequest',
      /120/,
    );
    const ok = await directory.createApplication(tenant.id, { displayName: 'A', ...scope('x'.repeat(120)) });
    assert.equal(ok.api.oauth2PermissionScopes[0]?.isEnabled, true);
    assert.equal(ok.api.oauth2PermissionScopes[0]?.type, 'User');
  });

  it('pre-authorizes only scopes the application exposes', async () => {
    const { directory, tenant } = await setup();
    const app = await directory.createApplication(tenant.id, {
      displayName: 'API',
      api: { oauth2PermissionScopes: [{ value: 'user_impersonation' }] },
    });
    const scopeId = app.api.oauth2PermissionScopes[0]!.id;
    const client = '3a1c2e0f-1b8e-4d5c-9f00-1234567890ab';
    const updated = await directory.updateApplication(tenant.id, app.id, {
      api: { preAuthorizedApplications: [{ appId: client, delegatedPermissionIds: [scopeId] }] },
    });
    assert.equal(updated.api.oauth2PermissionScopes.length, 1, 'a partial api PATCH keeps the scopes');
    await rejects(
      directory.updateApplication(tenant.id, app.id, {
        api: {
          preAuthorizedApplications: [{ appId: client, delegatedPermissionIds: [crypto.randomUUID()] }],
        },
      }),
      'Request_BadRequest',
      /not the id of a permission scope/,
    );
  });

  it('removes a scope only after it was disabled', async () => {
    const { directory, tenant } = await setup();
    const app = await directory.createApplication(tenant.id, {
      displayName: 'API',
      api: { oauth2PermissionScopes: [{ value: 'read' }] },
    });
    const scope = app.api.oauth2PermissionScopes[0]!;
    await rejects(
      directory.updateApplication(tenant.id, app.id, { api: { oauth2PermissionScopes: [] } }),
      'Request_BadRequest',
      /disabled first/,
    );
    await directory.updateApplication(tenant.id, app.id, {
      api: { oauth2PermissionScopes: [{ ...scope, isEnabled: false }] },
    });
    const removed = await directory.updateApplication(tenant.id, app.id, {
      api: { oauth2PermissionScopes: [] },
    });
    assert.deepEqual(removed.api.oauth2PermissionScopes, []);
  });
});

describe('service principals', () => {
  it('resolve by appId and identifier URI (any case, with or without trailing slash) and follow app changes', async () => {
    const { directory, tenant } = await setup();
    const app = await directory.createApplication(tenant.id, {
      displayName: 'API',
      identifierUris: ['https://api.contoso.test/'],
      api: { oauth2PermissionScopes: [{ value: 'user_impersonation' }] },
    });
    const sp = await directory.createServicePrincipal(tenant.id, { appId: app.appId });
    assert.deepEqual(sp.servicePrincipalNames, [app.appId, 'https://api.contoso.test/']);
    assert.equal(sp.oauth2PermissionScopes[0]?.value, 'user_impersonation');
    for (const name of [
      app.appId,
      app.appId.toUpperCase(),
      'https://api.contoso.test',
      'HTTPS://API.contoso.test/',
    ])
      assert.equal((await directory.resolveServicePrincipal(tenant.id, name))?.id, sp.id, name);
    assert.equal((await directory.getServicePrincipalByAppId(tenant.id, app.appId))?.id, sp.id);

    await directory.updateApplication(tenant.id, app.id, {
      identifierUris: ['api://renamed'],
      displayName: 'API v2',
    });
    assert.equal(await directory.resolveServicePrincipal(tenant.id, 'https://api.contoso.test'), undefined);
    const renamed = await directory.resolveServicePrincipal(tenant.id, 'api://renamed');
    assert.equal(renamed?.id, sp.id);
    assert.equal(renamed?.appDisplayName, 'API v2');

    await rejects(
      directory.createServicePrincipal(tenant.id, { appId: app.appId }),
      'Request_MultipleObjectsWithSameKeyValue',
      /already in use/,
    );
    const other = await directory.createTenant({ displayName: 'Fabrikam', domains: ['fabrikam.test'] });
    await rejects(
      directory.createServicePrincipal(other.id, { appId: app.appId }),
      'Request_BadRequest',
      /single-tenant/,
    );
  });

  it('deleting the application removes its service principal and the grants hanging off it', async () => {
    const { directory, tenant } = await setup();
    const api = await directory.createApplication(tenant.id, { displayName: 'API' });
    const client = await directory.createApplication(tenant.id, { displayName: 'Client' });
    const apiSp = await directory.createServicePrincipal(tenant.id, { appId: api.appId });
    const clientSp = await directory.createServicePrincipal(tenant.id, { appId: client.appId });
    await directory.createGrant(tenant.id, {
      clientId: clientSp.id,
      resourceId: apiSp.id,
      consentType: 'AllPrincipals',
      scope: 'read',
    });
    await directory.deleteApplication(tenant.id, api.id);
    assert.equal(await directory.getServicePrincipal(tenant.id, apiSp.id), undefined);
    assert.deepEqual(
      await directory.listPermissionGrants({ tenantId: tenant.id, clientId: clientSp.id }),
      [],
    );
  });
});
