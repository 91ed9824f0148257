import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { after, before, describe, it } from 'node:test';
import { request } from 'undici';
import { startDirectoryBehalf } from '../support/directory-behalf.ts';
import type { Json } from '../support/directory-behalf.ts';

/**
 * The seed setup (shared/seeds 000 + 001) with the `behalf` CLI, run as a separate process against a
 * real Behalf: it reads the admin credential and the local CA from the data directory, gets a token by
 * client credentials and calls the management API over HTTPS.
 */
const BIN = fileURLToPath(new URL('../../bin/behalf.js', import.meta.url));
let env: Awaited<ReturnType<typeof startDirectoryBehalf>>;

interface CliResult {
  code: number;
  stdout: string;
  stderr: string;
}

function cli(...args: string[]): Promise<CliResult> {
  const clean = Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith('BEHALF_')));
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      [BIN, ...args, '--data-dir', env.dataDir],
      { env: clean, timeout: 60_000 },
      (error, stdout, stderr) => {
        const code = error ? (typeof error.code === 'number' ? error.code : 99) : 0;
        resolve({ code, stdout, stderr });
      },
    );
  });
}

async function json(...args: string[]): Promise<Json> {
  const result = await cli(...args, '--json');
  assert.equal(result.code, 0, `behalf ${args.join(' ')}: ${result.stderr}`);
  return JSON.parse(result.stdout) as Json;
}

before(async () => {
  env = await startDirectoryBehalf();
});

after(() => env.close());

describe('the seed setup with the behalf CLI', () => {
  const apiUri = 'api://contoso-rm';
  const tenant = ['--tenant', 'contoso.test'];
  let connectorAppId: string;
  let secretText: string;

  it('creates a tenant and, in it, the API app exposing user_impersonation', async () => {
    const created = await json('tenant', 'create', 'Contoso', '--domain', 'contoso.test');
    assert.equal(created.verifiedDomains[0].name, 'contoso.test');
    const api = await json(
      'app',
      'create',
      'Contoso Resource Manager',
      '--identifier-uri',
      apiUri,
      '--access-token-version',
      '2',
      ...tenant,
    );
    assert.deepEqual(api.identifierUris, [apiUri]);
    const scope = await json(
      'app',
      'expose-scope',
      apiUri,
      'user_impersonation',
      '--display-name',
      'Access Contoso RM',
      ...tenant,
    );
    assert.equal(scope.value, 'user_impersonation');
    const sp = await json('sp', 'show', apiUri, ...tenant);
    assert.equal(sp.appId, api.appId, 'app create also created the service principal');
  });

  it('registers the connector with its redirect URL, the delegated permission and a secret shown once', async () => {
    const connector = await json(
      'app',
      'create',
      'Contoso connector',
      '--redirect-uri',
      'https://global.consent.azure-apim.net/redirect/contoso-connector',
      ...tenant,
    );
    connectorAppId = connector.appId;
    await json('app', 'add-permission', connectorAppId, apiUri, 'user_impersonation', ...tenant);
    const secret = await json('app', 'add-secret', connectorAppId, '--display-name', 'connector', ...tenant);
    secretText = secret.secretText;
    assert.equal(secretText.length, 40);
    const shown = await cli('app', 'show', connectorAppId, ...tenant, '--json');
    assert.ok(!shown.stdout.includes(secretText), 'the secret is never shown again');

    const response = await request(`${env.behalf.url}/contoso.test/oauth2/v2.0/token`, {
      method: 'POST',
      dispatcher: env.dispatcher,
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({
        grant_type: 'client_credentials',
        client_id: connectorAppId,
        client_secret: secretText,
        scope: `${apiUri}/.default`,
      }).toString(),
    });
    const body = (await response.body.json()) as Json;
    assert.equal(response.statusCode, 200, JSON.stringify(body));
  });

  it('pre-authorizes the connector on the API, adds its federated credential and grants admin consent', async () => {
    await json('app', 'pre-authorize', apiUri, connectorAppId, '--scope', 'user_impersonation', ...tenant);
    const api = await json('app', 'show', apiUri, ...tenant);
    const scopeId = api.api.oauth2PermissionScopes[0].id;
    assert.deepEqual(api.api.preAuthorizedApplications, [
      { appId: connectorAppId, delegatedPermissionIds: [scopeId] },
    ]);

    await json(
      'app',
      'add-federated-credential',
      connectorAppId,
      '--name',
      'connector-managed-identity',
      '--issuer',
      `${env.behalf.url}/${env.credential.tenantId}/v2.0`,
      '--subject',
      '/eid1/c/pub/t/connector/a/contoso-connector',
      ...tenant,
    );
    const credentials = await json('app', 'federated-credentials', connectorAppId, ...tenant);
    assert.deepEqual(
      credentials.map((c: Json) => [c.name, c.audiences]),
      [['connector-managed-identity', ['api://AzureADTokenExchange']]],
    );

    const consent = await json('grant', 'admin-consent', connectorAppId, ...tenant);
    assert.deepEqual(consent, [
      { kind: 'delegated', resource: 'Contoso Resource Manager', permissions: 'user_impersonation' },
    ]);
    const grants = await json('grant', 'list', '--client', connectorAppId, ...tenant);
    assert.deepEqual(
      grants.map((g: Json) => [g.consentType, g.scope]),
      [['AllPrincipals', 'user_impersonation']],
    );
  });

  it('prints readable tables without --json', async () => {
    const table = await cli('app', 'list', ...tenant);
    assert.equal(table.code, 0, table.stderr);
    const [header, rule, ...rows] = table.stdout.trimEnd().split('\n');
    assert.match(header!, /^displayName\s+appId\s+id\s+identifierUris/);
    assert.match(rule!, /^-+\s+-+/);
    assert.ok(rows.some((r) => r.startsWith('Contoso connector') && r.includes(connectorAppId)));
  });
});

describe('exit codes', () => {
  it('1 with Graph’s message when the API refuses', async () => {
    const result = await cli('app', 'create', 'Insecure', '--redirect-uri', 'http://contoso.test/cb');
    assert.equal(result.code, 1);
    assert.match(result.stderr, /Request_BadRequest: .*must use https/);
    const missing = await cli('app', 'show', 'api://no-such-app', '--json');
    assert.equal(missing.code, 1);
    assert.equal(JSON.parse(missing.stderr).error.code, 'Request_ResourceNotFound');
  });

  it('2 for usage mistakes', async () => {
    assert.equal((await cli('app', 'create')).code, 2, 'missing argument');
    assert.equal((await cli('app', 'create', 'X', '--access-token-version', '3')).code, 2);
    const noCredential = await new Promise<number>((resolve) =>
      execFile(process.execPath, [BIN, 'app', 'list', '--data-dir', '/nonexistent-behalf'], (error) =>
        resolve(error ? Number(error.code) : 0),
      ),
    );
    assert.equal(noCredential, 2);
  });
});
