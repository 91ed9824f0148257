import { randomUUID } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Agent, request } from 'undici';
import { loadConfig } from '../../src/core/config.ts';
import { silentLogger } from '../../src/core/logger.ts';
import type { Application, ServicePrincipal } from '../../src/directory/model.ts';
import type { Behalf } from '../../src/main.ts';
import { startBehalf } from '../../src/main.ts';
import { demoRegistrations, startDemoApis } from '../../examples/demo-apis.ts';
import type { DemoApis, DemoApplication } from '../../examples/demo-apis.ts';

/**
 * Behalf's real identity provider with the demo APIs registered from examples/demo-apis.ts, a
 * confidential client admin-consented to them, Alice and Bob with passwords, and the demo APIs running
 * against it (trusting its local CA). Tokens come from the real token endpoint (ROPC).
 */
export interface EasyAuthBehalf {
  readonly behalf: Behalf;
  readonly tenantId: string;
  readonly domain: string;
  readonly caPem: string;
  readonly demo: DemoApis;
  readonly client: { readonly appId: string; readonly secret: string; readonly sp: ServicePrincipal };
  readonly users: { readonly alice: string; readonly bob: string };
  readonly password: string;
  readonly dispatcher: Agent;
  /** ROPC at the v2 token endpoint; returns the access token (throws with Behalf's error otherwise). */
  userToken(upn: string, scope: string): Promise<string>;
  /** Registers another app (e.g. the one Easy Auth signs browsers in with). */
  register(
    displayName: string,
    redirectUris: readonly string[],
    appId?: string,
  ): Promise<{ appId: string; secret: string }>;
  close(): Promise<void>;
}

const PASSWORD = 'Correct-Horse-42!';

export async function startEasyAuthBehalf(): Promise<EasyAuthBehalf> {
  const dataDir = mkdtempSync(join(tmpdir(), 'behalf-easyauth-'));
  const behalf = await startBehalf({ config: loadConfig({ dataDir, port: 0 }, {}), logger: silentLogger });
  const caPem = readFileSync(behalf.caCertificatePath!, 'utf8');
  const dispatcher = new Agent({ connect: { ca: caPem } });
  const { directory } = behalf;
  const tenantId = behalf.adminCredential.tenantId;
  const domain = (await directory.getTenant(tenantId))!.verifiedDomains[0]!.name;

  async function create(app: DemoApplication): Promise<{ app: Application; sp: ServicePrincipal }> {
    const created = await directory.createApplication(
      tenantId,
      {
        displayName: app.displayName,
        identifierUris: [...app.identifierUris],
        api: {
          requestedAccessTokenVersion: app.api.requestedAccessTokenVersion,
          oauth2PermissionScopes: app.api.oauth2PermissionScopes.map((s) => ({ ...s })),
        },
        appRoles: app.appRoles.map((r) => ({ ...r, allowedMemberTypes: [...r.allowedMemberTypes] })),
      },
      { appId: app.appId },
    );
    const sp =
      (await directory.getServicePrincipalByAppId(tenantId, created.appId)) ??
      (await directory.createServicePrincipal(tenantId, { appId: created.appId }));
    return { app: created, sp };
  }
  const registrations = demoRegistrations({ behalfConnectionsAppId: randomUUID() });
  const mail = await create(registrations.apis.mailApi);
  const rm = await create(registrations.apis.resourceManagerApi);

  async function register(displayName: string, redirectUris: readonly string[], appId?: string) {
    const app = await directory.createApplication(
      tenantId,
      { displayName, web: { redirectUris: [...redirectUris] } },
      appId ? { appId } : {},
    );
    const sp =
      (await directory.getServicePrincipalByAppId(tenantId, app.appId)) ??
      (await directory.createServicePrincipal(tenantId, { appId: app.appId }));
    const secret = (await directory.addPassword(tenantId, app.id, { displayName: 'test' })).secretText;
    await directory.createGrant(tenantId, {
      clientId: sp.id,
      consentType: 'AllPrincipals',
      resourceId: mail.sp.id,
      scope: 'Mail.Read Mail.Send',
    });
    await directory.createGrant(tenantId, {
      clientId: sp.id,
      consentType: 'AllPrincipals',
      resourceId: rm.sp.id,
      scope: 'user_impersonation',
    });
    return { appId: app.appId, secret, sp };
  }
  const client = await register('Easy Auth test client', ['https://client.test/callback']);

  const users = { alice: `alice@${domain}`, bob: `bob@${domain}` };
  for (const [name, upn] of Object.entries(users))
    await directory.createUser(tenantId, {
      userPrincipalName: upn,
      displayName: name === 'alice' ? 'Alice Anders' : 'Bob Brown',
      mail: upn,
      password: PASSWORD,
    });

  const demo = await startDemoApis({
    issuerBaseUrl: behalf.url,
    tenantId,
    ca: caPem,
    domain,
    ports: { mailApi: 0, resourceManagerApi: 0 },
    keyRefreshCooldownMs: 1000,
  });

  return {
    behalf,
    tenantId,
    domain,
    caPem,
    demo,
    client,
    users,
    password: PASSWORD,
    dispatcher,
    register,
    async userToken(upn, scope) {
      const response = await request(`${behalf.url}/${tenantId}/oauth2/v2.0/token`, {
        method: 'POST',
        dispatcher,
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
        body: new URLSearchParams({
          grant_type: 'password',
          client_id: client.appId,
          client_secret: client.secret,
          username: upn,
          password: PASSWORD,
          scope,
        }).toString(),
      });
      const body = (await response.body.json()) as Record<string, string>;
      if (response.statusCode !== 200 || !body['access_token'])
        throw new Error(`token request failed: ${JSON.stringify(body)}`);
      return body['access_token'];
    },
    async close() {
      await demo.close();
      await dispatcher.close();
      await behalf.close();
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
}
