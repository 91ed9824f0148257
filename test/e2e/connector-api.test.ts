import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { after, before, describe, it } from 'node:test';
import { startDirectoryBehalf } from '../support/directory-behalf.ts';
import type { GraphResult, Json } from '../support/directory-behalf.ts';

/**
 * The connector management API of a real Behalf (HTTPS, its own token endpoint, the Graph management
 * bearer verification) and the paconn-compatible CLI as a separate process against it.
 */
const BIN = fileURLToPath(new URL('../../bin/behalf.js', import.meta.url));
const REAL = fileURLToPath(new URL('../../../shared/fixtures/power-platform-connectors/', import.meta.url));
let env: Awaited<ReturnType<typeof startDirectoryBehalf>>;
let api: (method: string, path: string, body?: unknown) => Promise<GraphResult>;

function upload(name: string, extra: Record<string, unknown> = {}) {
  const dir = join(REAL, name);
  const def = readdirSync(dir).find((f) => f.toLowerCase() === 'apidefinition.swagger.json')!;
  return {
    apiDefinition: readFileSync(join(dir, def), 'utf8'),
    apiProperties: readFileSync(join(dir, 'apiProperties.json'), 'utf8'),
    ...extra,
  };
}

function cli(...args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  const clean = Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith('BEHALF_')));
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      [BIN, ...args, ...(args[1] === 'validate' ? [] : ['--data-dir', env.dataDir])],
      { env: clean, timeout: 120_000 },
      (error, stdout, stderr) =>
        resolve({ code: error ? (typeof error.code === 'number' ? error.code : 99) : 0, stdout, stderr }),
    );
  });
}

before(async () => {
  env = await startDirectoryBehalf();
  const token = await env.token();
  assert.equal(token.status, 200, token.text);
  api = await env.graphAs(token.body.access_token as string);
});
after(async () => env?.close());

describe('connector management API over HTTPS', () => {
  it('refuses a call without a management token, in the Graph envelope', async () => {
    const anonymous = await env.graphAs('not-a-token');
    const result = await anonymous('GET', '/behalf/connectors');
    assert.equal(result.status, 401);
    assert.equal(result.body.error.code, 'InvalidAuthenticationToken');
  });

  it('creates with a per-connector redirect URL and workload identity; the secret is write-only', async () => {
    const created = await api(
      'POST',
      '/behalf/connectors',
      upload('Microsoft 365 Lighthouse', { secret: 'lighthouse-secret-value' }),
    );
    assert.equal(created.status, 201, created.text);
    const id = created.body.id as string;
    assert.equal(created.body.redirectUrl, `${env.behalf.url}/redirect/${id}`);
    assert.deepEqual(created.body.workloadIdentity, {
      issuer: `${env.behalf.url}/workload-identity`,
      subject: `connector:${env.credential.tenantId}:${id}`,
      audience: 'api://AzureADTokenExchange',
    });
    assert.equal(created.body.hasClientSecret, true);
    assert.doesNotMatch(created.text, /lighthouse-secret-value/);
    const got = await api('GET', `/behalf/connectors/${id}`);
    assert.equal(got.status, 200);
    assert.equal(got.body.displayName, 'Microsoft 365 Lighthouse');
    assert.equal(got.body.operations.length, 23);
    const pkg = await api('GET', `/behalf/connectors/${id}/package`);
    assert.doesNotMatch(pkg.text, /lighthouse-secret-value/);
    assert.deepEqual(
      JSON.parse(pkg.body.apiProperties as string),
      JSON.parse(upload('Microsoft 365 Lighthouse').apiProperties),
    );
    const updated = await api('PUT', `/behalf/connectors/${id}`, upload('Microsoft 365 Lighthouse'));
    assert.equal(updated.body.version, 2);
    assert.equal(updated.body.hasClientSecret, true, 'an update without a secret keeps the one stored');
    const listed = await api('GET', '/behalf/connectors');
    assert.ok((listed.body.value as Json[]).some((c) => c.id === id));
    assert.equal((await api('DELETE', `/behalf/connectors/${id}`)).status, 204);
    assert.equal((await api('GET', `/behalf/connectors/${id}`)).status, 404);
  });

  it('answers an invalid package with 422 and located diagnostics, bad bodies with 400', async () => {
    const broken = upload('AzureKeyVault');
    broken.apiProperties = broken.apiProperties.replace(
      '"identityProvider": "aad"',
      '"identityProvider": "azuread"',
    );
    const result = await api('POST', '/behalf/connectors', broken);
    assert.equal(result.status, 422);
    const diagnostic = (result.body.error.diagnostics as Json[]).find(
      (d) => d.rule === 'auth.identity-provider',
    )!;
    assert.equal(diagnostic.pointer, '/properties/connectionParameters/token/oAuthSettings/identityProvider');
    assert.equal(typeof diagnostic.line, 'number');
    assert.equal((await api('POST', '/behalf/connectors', { apiProperties: '{}' })).status, 400);
    assert.equal((await api('POST', '/behalf/connectors', '{"apiDefinition": ')).status, 400);
  });

  it('behalf connector create and download (paconn flags) round-trip a package', async () => {
    const dir = join(REAL, '3E Events');
    const created = await cli(
      'connector',
      'create',
      '--api-def',
      join(dir, 'apiDefinition.swagger.json'),
      '--api-prop',
      join(dir, 'apiProperties.json'),
      '--secret',
      'cli-secret',
    );
    assert.equal(created.code, 0, created.stderr);
    const id = /Created connector (\S+)/.exec(created.stdout)![1]!;
    assert.match(
      created.stdout,
      new RegExp(`Redirect URL .*: ${env.behalf.url.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}/redirect/${id}`),
    );
    const dest = mkdtempSync(join(tmpdir(), 'behalf-download-'));
    try {
      const downloaded = await cli('connector', 'download', '--cid', id, '--dest', dest, '--overwrite');
      assert.equal(downloaded.code, 0, downloaded.stderr);
      assert.equal(
        readFileSync(join(dest, 'apiDefinition.swagger.json'), 'utf8'),
        readFileSync(join(dir, 'apiDefinition.swagger.json'), 'utf8'),
      );
      const props = readFileSync(join(dest, 'apiProperties.json'), 'utf8');
      assert.doesNotMatch(props, /"clientSecret"|cli-secret/);
      assert.equal(JSON.parse(readFileSync(join(dest, 'settings.json'), 'utf8')).connectorId, id);
      // What came back validates offline exactly like the original.
      const validated = await cli('connector', 'validate', dest, '--json');
      assert.equal(validated.code, 0);
    } finally {
      rmSync(dest, { recursive: true, force: true });
    }
  });

  it('a reader (Application.Read.All) can list and read connectors but never replace or delete one', async () => {
    const created = await api('POST', '/behalf/connectors', upload('Microsoft 365 Lighthouse'));
    assert.equal(created.status, 201, created.text);
    const id = created.body.id as string;
    const reader = await readerToken();
    const asReader = await env.graphAs(reader);
    assert.equal((await asReader('GET', `/behalf/connectors/${id}`)).status, 200);
    // Replacing the package could point the connector at another host, with people's tokens.
    const replaced = await asReader('PUT', `/behalf/connectors/${id}`, upload('3E Events'));
    assert.equal(replaced.status, 403, replaced.text);
    assert.equal(replaced.body.error.code, 'Authorization_RequestDenied');
    assert.equal((await asReader('DELETE', `/behalf/connectors/${id}`)).status, 403);
    assert.equal((await asReader('POST', '/behalf/connectors', upload('3E Events'))).status, 403);
    const unchanged = await api('GET', `/behalf/connectors/${id}`);
    assert.equal(unchanged.body.displayName, 'Microsoft 365 Lighthouse');
  });
});

/** An app-only Graph token holding only Application.Read.All (granted by the administrator). */
async function readerToken(): Promise<string> {
  const { directory } = env.behalf;
  const tenantId = env.credential.tenantId;
  const app = await directory.createApplication(tenantId, { displayName: 'Connector reader' });
  const { secretText } = await directory.addPassword(tenantId, app.id, { displayName: 'test' });
  const sp = await directory.createServicePrincipal(tenantId, { appId: app.appId });
  const graph = (await directory.getServicePrincipalByAppId(
    tenantId,
    '00000003-0000-0000-c000-000000000000',
  ))!;
  const role = graph.appRoles.find((r) => r.value === 'Application.Read.All')!;
  await directory.createAssignment(tenantId, {
    principalId: sp.id,
    resourceId: graph.id,
    appRoleId: role.id,
  });
  const response = await fetch(`${env.behalf.url}/${tenantId}/oauth2/v2.0/token`, {
    method: 'POST',
    body: new URLSearchParams({
      grant_type: 'client_credentials',
      client_id: app.appId,
      client_secret: secretText!,
      scope: 'https://graph.microsoft.com/.default',
    }),
    dispatcher: env.dispatcher,
  } as unknown as RequestInit);
  const body = (await response.json()) as { access_token?: string };
  assert.ok(body.access_token, JSON.stringify(body));
  return body.access_token;
}
