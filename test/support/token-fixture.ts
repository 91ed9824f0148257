import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Agent, request } from 'undici';
import { loadConfig } from '../../src/core/config.ts';
import { silentLogger } from '../../src/core/logger.ts';
import { createTestCertificate } from '../../src/crypto/test-certificates.ts';
import type { TestCertificate } from '../../src/crypto/test-certificates.ts';
import { ensureTlsMaterial } from '../../src/crypto/tls.ts';
import { systemClock } from '../../src/core/clock.ts';
import type { Application, ServicePrincipal, User } from '../../src/directory/model.ts';
import type { Behalf } from '../../src/main.ts';
import { startBehalf } from '../../src/main.ts';
import { startTestIssuer } from './token-issuer.ts';
import type { TestIssuer } from './token-issuer.ts';

export interface FixtureApp {
  readonly app: Application;
  readonly sp: ServicePrincipal;
  readonly secret: string;
}

/**
 * One Behalf over HTTPS with the directory objects the token e2e tests need:
 * - `client`: a confidential client app; `middle`: the middle-tier API (api://middle, scope
 *   access_as_user, v2 tokens, secret + certificate); `downstream`: an API the middle tier is granted
 *   (api://downstream, scope read, app role Data.Read.All, v1 tokens); `unconsented`: an API nothing is
 *   granted to; `workload`: an app whose only credential is a federated identity credential trusting
 *   the test issuer; `alice`: a user with a password.
 */
export interface TokenFixture {
  readonly behalf: Behalf;
  readonly url: string;
  readonly tenantId: string;
  readonly domain: string;
  readonly caPem: string;
  readonly client: FixtureApp;
  readonly middle: FixtureApp;
  readonly downstream: FixtureApp;
  readonly unconsented: FixtureApp;
  readonly workload: FixtureApp;
  readonly certificate: TestCertificate;
  readonly alice: User;
  readonly alicePassword: string;
  readonly issuer: TestIssuer;
  readonly dispatcher: Agent;
  /** POST a form to a token endpoint; returns status, headers and the parsed JSON body. */
  post(path: string, form: Record<string, string>, headers?: Record<string, string>): Promise<HttpResult>;
  get(path: string): Promise<HttpResult>;
  /** Moves Behalf's clock (not the test's) by this many milliseconds from real time. */
  setClockOffset(milliseconds: number): void;
  close(): Promise<void>;
}

export interface HttpResult {
  readonly status: number;
  readonly headers: Record<string, string | string[] | undefined>;
  readonly body: Record<string, unknown>;
}

export async function startTokenFixture(settings: Record<string, unknown> = {}): Promise<TokenFixture> {
  const dataDir = mkdtempSync(join(tmpdir(), 'behalf-token-'));
  // The test issuer serves with Behalf's own server certificate (issued by Behalf's local CA, which the
  // federation fetcher trusts), so the TLS material is created first.
  const tls = await ensureTlsMaterial({
    dir: join(dataDir, 'tls'),
    hostNames: ['localhost'],
    clock: systemClock,
  });
  const issuer = await startTestIssuer({ key: tls.key, cert: tls.cert });
  const config = loadConfig(
    { dataDir, port: 0, federatedIssuerAllowlist: [issuer.origin], refreshTokenReuseGrace: 1, ...settings },
    {},
  );
  let offset = 0;
  const behalf = await startBehalf({
    config,
    logger: silentLogger,
    clock: { now: () => Date.now() + offset },
  });
  const caPem = readFileSync(behalf.caCertificatePath!, 'utf8');
  const dispatcher = new Agent({ connect: { ca: caPem } });
  const { directory } = behalf;
  const tenantId = behalf.adminCredential.tenantId;
  const tenant = (await directory.getTenant(tenantId))!;
  const domain = tenant.verifiedDomains[0]!.name;

  async function makeApp(input: Parameters<typeof directory.createApplication>[1]): Promise<FixtureApp> {
    const app = await directory.createApplication(tenantId, input);
    const sp =
      (await directory.getServicePrincipalByAppId(tenantId, app.appId)) ??
      (await directory.createServicePrincipal(tenantId, { appId: app.appId }));
    const secret = (await directory.addPassword(tenantId, app.id, { displayName: 'test' })).secretText;
    return { app: (await directory.getApplicationByAppId(app.appId))!, sp, secret };
  }

  const certificate = await createTestCertificate({ subject: 'CN=middle tier' });
  const middle = await makeApp({
    displayName: 'Middle tier API',
    identifierUris: ['api://middle'],
    api: {
      requestedAccessTokenVersion: 2,
      oauth2PermissionScopes: [{ value: 'access_as_user', type: 'User' }],
    },
    keyCredentials: [{ type: 'AsymmetricX509Cert', usage: 'Verify', key: certificate.certificateBase64 }],
  });
  const downstream = await makeApp({
    displayName: 'Downstream API',
    identifierUris: ['api://downstream'],
    api: {
      requestedAccessTokenVersion: 1,
      oauth2PermissionScopes: [
        { value: 'read', type: 'User' },
        { value: 'write', type: 'Admin' },
      ],
    },
    appRoles: [{ value: 'Data.Read.All', displayName: 'Read all data', allowedMemberTypes: ['Application'] }],
  });
  const unconsented = await makeApp({
    displayName: 'Unconsented API',
    identifierUris: ['api://unconsented'],
    api: { requestedAccessTokenVersion: 2, oauth2PermissionScopes: [{ value: 'use', type: 'User' }] },
  });
  const client = await makeApp({
    displayName: 'Client app',
    web: { redirectUris: ['https://client.test/callback'] },
  });
  const workloadApp = await directory.createApplication(tenantId, { displayName: 'Workload' });
  const workloadSp =
    (await directory.getServicePrincipalByAppId(tenantId, workloadApp.appId)) ??
    (await directory.createServicePrincipal(tenantId, { appId: workloadApp.appId }));
  await directory.addFederatedCredential(tenantId, workloadApp.id, {
    name: 'ci-main',
    issuer: issuer.issuer,
    subject: 'repo:contoso/app:ref:refs/heads/main',
    audiences: ['api://AzureADTokenExchange'],
  });
  const workload = {
    app: (await directory.getApplicationByAppId(workloadApp.appId))!,
    sp: workloadSp,
    secret: '',
  };

  const alicePassword = 'Correct-Horse-42!';
  const alice = await directory.createUser(tenantId, {
    userPrincipalName: `alice@${domain}`,
    displayName: 'Alice Example',
    givenName: 'Alice',
    surname: 'Example',
    mail: `alice@${domain}`,
    password: alicePassword,
  });

  // client → middle (admin consent), middle → downstream (admin consent for `read` only).
  await directory.createGrant(tenantId, {
    clientId: client.sp.id,
    consentType: 'AllPrincipals',
    resourceId: middle.sp.id,
    scope: 'access_as_user',
  });
  await directory.createGrant(tenantId, {
    clientId: middle.sp.id,
    consentType: 'AllPrincipals',
    resourceId: downstream.sp.id,
    scope: 'read',
  });
  const role = downstream.app.appRoles[0]!;
  await directory.createAssignment(tenantId, {
    principalId: client.sp.id,
    resourceId: downstream.sp.id,
    appRoleId: role.id,
  });

  const url = behalf.url;
  async function send(
    method: 'GET' | 'POST',
    path: string,
    body?: string,
    headers: Record<string, string> = {},
  ): Promise<HttpResult> {
    const response = await request(url + path, {
      method,
      dispatcher,
      headers:
        body !== undefined ? { 'content-type': 'application/x-www-form-urlencoded', ...headers } : headers,
      ...(body !== undefined ? { body } : {}),
    });
    const text = await response.body.text();
    return {
      status: response.statusCode,
      headers: response.headers,
      body: text ? (JSON.parse(text) as Record<string, unknown>) : {},
    };
  }

  return {
    behalf,
    url,
    tenantId,
    domain,
    caPem,
    client,
    middle,
    downstream,
    unconsented,
    workload,
    certificate,
    alice,
    alicePassword,
    issuer,
    dispatcher,
    post: (path, form, headers) => send('POST', path, new URLSearchParams(form).toString(), headers),
    get: (path) => send('GET', path),
    setClockOffset(milliseconds) {
      offset = milliseconds;
    },
    async close() {
      await dispatcher.close();
      await issuer.close();
      await behalf.close();
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
}
