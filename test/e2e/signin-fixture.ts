import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Agent, fetch } from 'undici';
import { loadConfig } from '../../src/core/config.ts';
import { cryptoRandom } from '../../src/core/ids.ts';
import { silentLogger } from '../../src/core/logger.ts';
import type { Application, Tenant } from '../../src/directory/model.ts';
import { startBehalf } from '../../src/main.ts';
import type { Behalf } from '../../src/main.ts';
import { ensureDemoTenant } from '../../src/cli/demo/setup.ts';
import type { DemoDescription } from '../../src/cli/demo/setup.ts';

/**
 * A real Behalf over HTTPS on a random port with the Contoso demo tenant, plus a test API ("Orders
 * API", scope `read`) and a confidential test client whose redirect URI no server answers: browsers
 * are stopped there by request interception, fetch by `redirect: 'manual'`.
 */
export const CLIENT_REDIRECT = 'https://client.example/cb';

export interface SignInFixture {
  behalf: Behalf;
  demo: DemoDescription;
  tenant: Tenant;
  api: Application;
  client: Application;
  clientSecret: string;
  /** A second tenant, to prove cookies do not cross tenants. */
  otherTenant: Tenant;
  otherClient: Application;
  dispatcher: Agent;
  password(user: 'alice' | 'bob' | 'admin'): string;
  authorizeUrl(params: Record<string, string>, options?: { tenant?: string; version?: 'v1' | 'v2' }): string;
  close(): Promise<void>;
}

export async function startSignInFixture(): Promise<SignInFixture> {
  const dataDir = mkdtempSync(join(tmpdir(), 'behalf-signin-'));
  const config = loadConfig({ dataDir, port: 0, logLevel: 'error' }, {});
  const behalf = await startBehalf({ config, logger: silentLogger });
  const demo = await ensureDemoTenant({
    directory: behalf.directory,
    administrators: behalf.administrators,
    random: cryptoRandom,
    logger: silentLogger,
    baseUrl: behalf.url,
    dataDir,
    caCertificatePath: behalf.caCertificatePath,
  });
  const { directory } = behalf;
  const tenant = (await directory.getTenant(demo.tenantId))!;
  const api = await directory.createApplication(tenant.id, {
    displayName: 'Orders API',
    identifierUris: ['api://orders'],
    api: {
      requestedAccessTokenVersion: 2,
      oauth2PermissionScopes: [
        {
          value: 'read',
          type: 'User',
          adminConsentDisplayName: 'Read orders',
          adminConsentDescription: 'Read all orders of the signed-in user.',
          userConsentDisplayName: 'Read your orders',
          userConsentDescription: 'Read your orders.',
        },
      ],
    },
    appRoles: [
      {
        value: 'Orders.Export',
        displayName: 'Export orders',
        description: 'Export every order.',
        allowedMemberTypes: ['Application'],
      },
    ],
  });
  await directory.createServicePrincipal(tenant.id, { appId: api.appId });
  const scopeId = api.api.oauth2PermissionScopes[0]!.id;
  const client = await directory.createApplication(tenant.id, {
    displayName: 'Order Desk',
    web: { redirectUris: [CLIENT_REDIRECT] },
    requiredResourceAccess: [
      {
        resourceAppId: api.appId,
        resourceAccess: [
          { id: scopeId, type: 'Scope' },
          { id: api.appRoles[0]!.id, type: 'Role' },
        ],
      },
    ],
  });
  const { secretText: clientSecret } = await directory.addPassword(tenant.id, client.id, {
    displayName: 'test',
  });
  const otherTenant = await directory.createTenant({ displayName: 'Fabrikam', domains: ['fabrikam.test'] });
  const otherClient = await directory.createApplication(otherTenant.id, {
    displayName: 'Fabrikam Portal',
    web: { redirectUris: [CLIENT_REDIRECT] },
  });
  const dispatcher = new Agent({ connect: { ca: readFileSync(behalf.caCertificatePath!, 'utf8') } });
  return {
    behalf,
    demo,
    tenant,
    api,
    client,
    clientSecret,
    otherTenant,
    otherClient,
    dispatcher,
    password: (user) => demo.users.find((u) => u.username === `${user}@contoso.test`)!.password,
    authorizeUrl(params, options = {}) {
      const path = options.version === 'v1' ? 'oauth2/authorize' : 'oauth2/v2.0/authorize';
      return `${behalf.url}/${options.tenant ?? tenant.id}/${path}?${new URLSearchParams(params)}`;
    },
    async close() {
      await dispatcher.close();
      await behalf.close();
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
}

/** A minimal cookie jar over undici's fetch, for tests that drive the pages without a browser. */
export function cookieClient(fixture: SignInFixture) {
  const jar = new Map<string, string>();
  const header = () => [...jar].map(([k, v]) => `${k}=${v}`).join('; ');
  async function request(
    url: string,
    init: { method?: string; form?: Record<string, string>; cookie?: string } = {},
  ) {
    const response = await fetch(url, {
      method: init.method ?? (init.form ? 'POST' : 'GET'),
      redirect: 'manual',
      dispatcher: fixture.dispatcher,
      headers: {
        cookie: init.cookie ?? header(),
        ...(init.form ? { 'content-type': 'application/x-www-form-urlencoded' } : {}),
      },
      ...(init.form ? { body: new URLSearchParams(init.form).toString() } : {}),
    });
    for (const line of response.headers.getSetCookie()) {
      const [pair] = line.split(';');
      const eq = pair!.indexOf('=');
      const name = pair!.slice(0, eq);
      const value = pair!.slice(eq + 1);
      if (/Max-Age=0/.test(line)) jar.delete(name);
      else jar.set(name, value);
    }
    return { response, text: await response.text() };
  }
  return { jar, request };
}

/** The hidden fields of the first form on a page. */
export function formFields(html: string): Record<string, string> {
  const fields: Record<string, string> = {};
  for (const match of html.matchAll(/<input type="hidden" name="([^"]+)" value="([^"]*)"\s*\/?>/g))
    fields[match[1]!] = match[2]!.replace(/&amp;/g, '&');
  return fields;
}

export function formAction(html: string, base: string): string {
  const action = /<form method="post" action="([^"]+)"/.exec(html)?.[1];
  if (!action) throw new Error('no form on the page');
  return new URL(action.replace(/&amp;/g, '&'), base).toString();
}
