import { chmodSync, existsSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Random } from '../../core/ids.ts';
import type { Logger } from '../../core/logger.ts';
import type { Directory } from '../../directory/directory.ts';
import type { Application, Tenant } from '../../directory/model.ts';
import type { Administrators } from '../../idp/session/administrators.ts';
import type { DemoApp } from './demo-tenant.ts';
import { DEMO_TENANT, DEMO_USERS, FIRST_PARTY_APPS } from './demo-tenant.ts';

/** `<dataDir>/demo.json`: the machine-readable description of the demo for scripts and tests (issue 4). */
export interface DemoDescription {
  authority: string;
  tenantId: string;
  caCertificate: string | null;
  users: { username: string; password: string; displayName: string; objectId: string }[];
  apps: Record<string, { appId: string; clientSecret?: string; identifierUri?: string }>;
  urls: Record<string, string>;
}

export interface DemoSetupOptions {
  readonly directory: Directory;
  readonly administrators: Administrators;
  readonly random: Random;
  readonly logger: Logger;
  readonly baseUrl: string;
  readonly dataDir: string;
  readonly caCertificatePath: string | undefined;
  /** The built-in administrator app and its secret (admin-credential.json). */
  readonly adminApp?: { appId: string; clientSecret: string };
  /** More registrations, e.g. the demo APIs of examples/ and their connector apps. */
  readonly extraApps?: readonly DemoApp[];
  readonly urls?: Readonly<Record<string, string>>;
}

export const DEMO_FILE = 'demo.json';

/**
 * Creates the Contoso tenant, its users and applications on first start and finds them again on
 * every later start. Passwords and secrets exist in clear only in demo.json (mode 0600); when that file
 * is gone or no longer matches the database, fresh ones are set, so the file is always usable.
 */
export async function ensureDemoTenant(options: DemoSetupOptions): Promise<DemoDescription> {
  const { directory } = options;
  const file = join(options.dataDir, DEMO_FILE);
  const previous = readDemoFile(file);
  const tenant: Tenant =
    (await directory.getTenant(DEMO_TENANT.domain)) ??
    (await directory.createTenant({ displayName: DEMO_TENANT.displayName, domains: [DEMO_TENANT.domain] }));

  const users: DemoDescription['users'] = [];
  for (const spec of DEMO_USERS) {
    const username = `${spec.alias}@${DEMO_TENANT.domain}`;
    const known = previous?.users.find((u) => u.username === username)?.password;
    let user = await directory.findUser(tenant.id, username);
    let password = known;
    if (!user) {
      password = newPassword(options.random);
      user = await directory.createUser(tenant.id, {
        userPrincipalName: username,
        displayName: spec.displayName,
        givenName: spec.givenName,
        surname: spec.surname,
        mail: username,
        password,
      });
    } else if (!password || !(await directory.verifyUserPassword(user.id, password))) {
      password = newPassword(options.random);
      await directory.updateUser(tenant.id, user.id, { password });
    }
    if (spec.administrator) await options.administrators.add(tenant.id, user.id);
    users.push({ username, password: password!, displayName: user.displayName, objectId: user.id });
  }

  const apps: DemoDescription['apps'] = {};
  for (const spec of [...FIRST_PARTY_APPS, ...(options.extraApps ?? [])]) {
    const app = await ensureApplication(directory, tenant.id, spec, options.baseUrl);
    if (!(await directory.getServicePrincipalByAppId(tenant.id, app.appId)))
      await directory.createServicePrincipal(tenant.id, { appId: app.appId });
    const entry: DemoDescription['apps'][string] = { appId: app.appId };
    if (app.identifierUris[0]) entry.identifierUri = app.identifierUris[0];
    if (spec.secret) {
      const kept = previous?.apps[spec.name]?.clientSecret;
      const valid = kept && (await directory.verifyClientSecret(app.appId, kept)).status === 'valid';
      entry.clientSecret = valid
        ? kept
        : (await directory.addPassword(tenant.id, app.id, { displayName: 'demo.json' })).secretText;
    }
    apps[spec.name] = entry;
  }
  if (options.adminApp)
    apps['Behalf Admin'] = { appId: options.adminApp.appId, clientSecret: options.adminApp.clientSecret };

  const description: DemoDescription = {
    authority: `${options.baseUrl}/${tenant.id}/v2.0`,
    tenantId: tenant.id,
    caCertificate: options.caCertificatePath ?? null,
    users,
    apps,
    urls: {
      behalf: options.baseUrl,
      signIn: `${options.baseUrl}/${tenant.id}/oauth2/v2.0/authorize`,
      // Behalf's own page: signs a newcomer in (SSO session) without any client app.
      myAccount: `${options.baseUrl}/${tenant.id}/account`,
      deviceLogin: `${options.baseUrl}/devicelogin`,
      openidConfiguration: `${options.baseUrl}/${tenant.id}/v2.0/.well-known/openid-configuration`,
      managementApi: `${options.baseUrl}/v1.0`,
      ...options.urls,
    },
  };
  writePrivate(file, JSON.stringify(description, null, 2) + '\n');
  options.logger.info('demo tenant ready', { tenantId: tenant.id, file });
  return description;
}

/** Finds a demo app by its fixed appId, or by display name in the tenant; redirect URIs follow the URL. */
async function ensureApplication(
  directory: Directory,
  tenantId: string,
  spec: DemoApp,
  baseUrl: string,
): Promise<Application> {
  const input = spec.input(baseUrl);
  const existing = await directory.getApplicationByAppId(spec.appId);
  if (!existing) return directory.createApplication(tenantId, input, { appId: spec.appId });
  // The port may differ from the last start: keep redirect URIs pointing at this Behalf.
  const sameRedirects =
    JSON.stringify(existing.web.redirectUris) ===
    JSON.stringify(input.web?.redirectUris ?? existing.web.redirectUris);
  return sameRedirects
    ? existing
    : directory.updateApplication(tenantId, existing.id, { web: { ...input.web } });
}

function newPassword(random: Random): string {
  // 96 bits, readable enough to type from the welcome text.
  return 'Demo-' + random.bytes(12).toString('base64url');
}

export function readDemoFile(file: string): DemoDescription | undefined {
  if (!existsSync(file)) return undefined;
  try {
    return JSON.parse(readFileSync(file, 'utf8')) as DemoDescription;
  } catch {
    return undefined;
  }
}

/** Mode 0600 from the first byte (written to a temporary file, then renamed into place). */
export function writePrivate(file: string, text: string): void {
  const temporary = `${file}.${process.pid}.tmp`;
  writeFileSync(temporary, text, { mode: 0o600 });
  chmodSync(temporary, 0o600);
  renameSync(temporary, file);
}
