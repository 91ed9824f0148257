import assert from 'node:assert/strict';
import { before, describe, it } from 'node:test';
import type { FastifyInstance } from 'fastify';
import { captureLogger } from '../../core/logger.ts';
import { bootstrapDirectory } from '../../directory/bootstrap.ts';
import { testDirectory } from '../../directory/testing.ts';
import { createHttpServer } from '../server.ts';
import type { GraphCaller } from './caller.ts';
import { graphApiRoutes } from './plugin.ts';

/** Unit level: Fastify's inject, a table of tokens instead of a token service. */
let app: FastifyInstance;
let tenantId: string;
const logger = captureLogger();

before(async () => {
  const { directory } = testDirectory();
  const { homeTenant } = await bootstrapDirectory(directory);
  tenantId = homeTenant.id;
  const callers: Record<string, GraphCaller> = {
    admin: {
      tenantId,
      appId: 'admin',
      roles: ['Application.ReadWrite.All', 'Directory.ReadWrite.All'],
      scopes: [],
    },
    reader: { tenantId, appId: 'reader', roles: ['Application.Read.All'], scopes: [] },
  };
  app = await createHttpServer({
    logger,
    bodyLimit: 64 * 1024,
    routes: [
      graphApiRoutes({
        directory,
        logger,
        verifyBearer: async (token) => callers[token],
        homeTenantId: () => tenantId,
      }),
    ],
  });
});

function call(
  method: string,
  url: string,
  body?: unknown,
  token = 'admin',
  headers: Record<string, string> = {},
) {
  return app.inject({
    method: method as 'GET',
    url: '/v1.0' + url,
    headers: {
      authorization: `Bearer ${token}`,
      ...(body !== undefined ? { 'content-type': 'application/json' } : {}),
      ...headers,
    },
    ...(body !== undefined ? { payload: typeof body === 'string' ? body : JSON.stringify(body) } : {}),
  });
}

function assertGraphError(
  response: { statusCode: number; json(): unknown },
  status: number,
  code: string,
  message: RegExp,
) {
  assert.equal(response.statusCode, status, JSON.stringify(response.json()));
  const body = response.json() as {
    error: { code: string; message: string; innerError: Record<string, string> };
  };
  assert.equal(body.error.code, code);
  assert.match(body.error.message, message);
  assert.match(body.error.innerError['request-id']!, /^[0-9a-f-]{36}$/);
  assert.ok(body.error.innerError.date);
}

describe('management API', () => {
  it('creates, reads, filters and pages applications in Graph shapes', async () => {
    const created = await call('POST', '/applications', {
      displayName: 'Paging A',
      identifierUris: ['api://paging-a'],
    });
    assert.equal(created.statusCode, 201);
    const app1 = created.json();
    assert.match(app1['@odata.context'], /\/v1\.0\/\$metadata#applications\/\$entity$/);
    for (const name of ['Paging B', 'Paging C']) await call('POST', '/applications', { displayName: name });

    const byUri = await call('GET', `/applications?$filter=identifierUris/any(x:x eq 'api://paging-a')`);
    assert.deepEqual(
      byUri.json().value.map((a: { id: string }) => a.id),
      [app1.id],
    );
    const byAppId = await call('GET', `/applications(appId='${app1.appId}')`);
    assert.equal(byAppId.json().id, app1.id);

    const seen: string[] = [];
    let url: string | undefined =
      `/applications?$top=1&$filter=${encodeURIComponent("startswith(displayName,'Paging')")}`;
    while (url) {
      const page = await call('GET', url);
      assert.equal(page.statusCode, 200);
      seen.push(...page.json().value.map((a: { displayName: string }) => a.displayName));
      const next: string | undefined = page.json()['@odata.nextLink'];
      url = next?.replace(/^https?:\/\/[^/]+\/v1\.0/, '');
    }
    assert.deepEqual(seen.sort(), ['Paging A', 'Paging B', 'Paging C']);

    const selected = await call('GET', `/applications/${app1.id}?$select=appId,displayName`);
    assert.deepEqual(Object.keys(selected.json()).sort(), ['@odata.context', 'appId', 'displayName', 'id']);
  });

  it('answers bad input with Graph envelopes and precise messages', async () => {
    assertGraphError(
      await call('POST', '/applications', { displayName: 'X', colour: 'red' }),
      400,
      'Request_BadRequest',
      /Property 'colour' does not exist/,
    );
    assertGraphError(
      await call('POST', '/applications', { displayName: 42 }),
      400,
      'Request_BadRequest',
      /'displayName'.*expected string/,
    );
    assertGraphError(
      await call('POST', '/applications', '{"displayName":'),
      400,
      'BadRequest',
      /Unable to read JSON/,
    );
    assertGraphError(
      await call('GET', '/applications/not-a-guid'),
      400,
      'Request_BadRequest',
      /Invalid object identifier 'not-a-guid'/,
    );
    assertGraphError(
      await call('GET', `/applications/${crypto.randomUUID()}`),
      404,
      'Request_ResourceNotFound',
      /does not exist/,
    );
    assertGraphError(
      await call('POST', '/applications', {
        displayName: 'Y',
        api: { oauth2PermissionScopes: [{ value: 'a', id: 'nope' }] },
      }),
      400,
      'Request_BadRequest',
      /api\.oauth2PermissionScopes\[0\]\.id.*not a GUID/,
    );
    await call('POST', '/applications', { displayName: 'Dup 1', identifierUris: ['api://dup'] });
    assertGraphError(
      await call('POST', '/applications', { displayName: 'Dup 2', identifierUris: ['api://dup'] }),
      400,
      'Request_MultipleObjectsWithSameKeyValue',
      /identifierUris already exists/,
    );
    assertGraphError(
      await call('POST', '/applications', { displayName: 'Big', description: 'x'.repeat(70 * 1024) }),
      413,
      'Request_EntityTooLarge',
      /larger/,
    );
    assertGraphError(
      await call('GET', '/applications?$filter=color eq 1'),
      400,
      'Request_UnsupportedQuery',
      /Invalid filter clause/,
    );
    assertGraphError(await call('GET', '/widgets'), 400, 'BadRequest', /segment 'widgets'/);
    const echoed = await call('GET', '/nothing', undefined, 'admin', { 'client-request-id': 'abc-123' });
    assert.equal(echoed.json().error.innerError['client-request-id'], 'abc-123');
  });

  it('authorizes by Graph permission', async () => {
    assertGraphError(
      await call('GET', '/applications', undefined, 'unknown'),
      401,
      'InvalidAuthenticationToken',
      /validation failure/,
    );
    const none = await app.inject({ method: 'GET', url: '/v1.0/applications' });
    assertGraphError(none, 401, 'InvalidAuthenticationToken', /empty/);
    assert.equal((await call('GET', '/applications', undefined, 'reader')).statusCode, 200);
    assertGraphError(
      await call('POST', '/applications', { displayName: 'R' }, 'reader'),
      403,
      'Authorization_RequestDenied',
      /Insufficient privileges/,
    );
  });

  it('assigns app roles to users through /users/{id}/appRoleAssignments', async () => {
    const user = await call('POST', '/users', {
      userPrincipalName: 'carol@behalf.test',
      displayName: 'Carol',
      passwordProfile: { password: 'long enough password' },
    });
    assert.equal(user.statusCode, 201, user.body);
    const resource = (
      await call('POST', '/applications', {
        displayName: 'Roles',
        appRoles: [{ value: 'Reader', allowedMemberTypes: ['User'], displayName: 'Reader' }],
      })
    ).json();
    const sp = (await call('POST', '/servicePrincipals', { appId: resource.appId })).json();
    const roleId = sp.appRoles[0].id;
    const carol = user.json().id;
    const assigned = await call('POST', `/users/carol@behalf.test/appRoleAssignments`, {
      principalId: carol,
      resourceId: sp.id,
      appRoleId: roleId,
    });
    assert.equal(assigned.statusCode, 201, assigned.body);
    assert.equal(assigned.json().principalType, 'User');
    const listed = await call('GET', `/users/${carol}/appRoleAssignments`);
    assert.deepEqual(
      listed.json().value.map((a: { appRoleId: string }) => a.appRoleId),
      [roleId],
    );
    assertGraphError(
      await call('POST', `/users/${carol}/appRoleAssignments`, {
        principalId: sp.id,
        resourceId: sp.id,
        appRoleId: roleId,
      }),
      400,
      'Request_BadRequest',
      /must be the user in the URL/,
    );
  });

  it('shows a secret once and never in the application', async () => {
    const created = (await call('POST', '/applications', { displayName: 'Secretive' })).json();
    const password = await call('POST', `/applications/${created.id}/addPassword`, {
      passwordCredential: { displayName: 'ci' },
    });
    assert.equal(password.statusCode, 200);
    const { secretText, hint, keyId } = password.json();
    assert.equal(hint, secretText.slice(0, 3));
    const again = await call('GET', `/applications/${created.id}`);
    const text = again.body;
    assert.ok(!text.includes(secretText));
    assert.deepEqual(
      again
        .json()
        .passwordCredentials.map((p: { keyId: string; secretText: null }) => [p.keyId, p.secretText]),
      [[keyId, null]],
    );
    assert.equal(
      (await call('POST', `/applications/${created.id}/removePassword`, { keyId })).statusCode,
      204,
    );
    assert.ok(!logger.lines.join('\n').includes(secretText));
  });
});
