import { chmodSync, existsSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import type { Logger } from '../core/logger.ts';
import type { Directory } from './directory.ts';
import { ADMIN_GRAPH_ROLES, GRAPH_PERMISSIONS } from './graph-permissions.ts';
import type { Application, Tenant } from './model.ts';
import { MICROSOFT_GRAPH_APP_ID, MICROSOFT_GRAPH_RESOURCE } from './model.ts';
import { BEHALF_ADMIN_APP_ID, ignoreDuplicate, provisionTenant } from './provisioning.ts';

export interface BootstrapOptions {
  readonly homeTenant?: { displayName: string; domain: string };
}

export interface BootstrapResult {
  readonly homeTenant: Tenant;
  readonly graph: Application;
  readonly admin: Application;
}

export const DEFAULT_HOME_TENANT = { displayName: 'Behalf', domain: 'behalf.test' } as const;
const ADMIN_SECRET_NAME = 'admin-credential.json';

/**
 * Idempotent start-up: the home tenant, the Microsoft Graph resource application (well-known appId and
 * permission ids), the Behalf Admin application, and in every tenant their service principals and the
 * admin's Graph role assignments. Safe when several nodes start at once.
 */
export async function bootstrapDirectory(
  directory: Directory,
  options: BootstrapOptions = {},
): Promise<BootstrapResult> {
  const home = options.homeTenant ?? DEFAULT_HOME_TENANT;
  const homeTenant =
    (await directory.getTenant(home.domain)) ??
    (await ignoreDuplicate(() =>
      directory.createTenant({ displayName: home.displayName, domains: [home.domain] }),
    )) ??
    (await directory.getTenant(home.domain));
  if (!homeTenant) throw new Error(`the home tenant ${home.domain} could not be created`);

  const graph = await ensureApplication(directory, homeTenant.id, MICROSOFT_GRAPH_APP_ID, {
    displayName: 'Microsoft Graph',
    identifierUris: [MICROSOFT_GRAPH_RESOURCE],
    signInAudience: 'AzureADMultipleOrgs',
    api: {
      requestedAccessTokenVersion: 1,
      oauth2PermissionScopes: GRAPH_PERMISSIONS.filter((p) => p.scopeId).map((p) => ({
        id: p.scopeId!,
        value: p.value,
        type: p.userConsent ? ('User' as const) : ('Admin' as const),
        adminConsentDisplayName: p.description,
        adminConsentDescription: p.description,
        userConsentDisplayName: p.userConsent ? p.description : null,
        userConsentDescription: p.userConsent ? p.description : null,
      })),
    },
    appRoles: GRAPH_PERMISSIONS.filter((p) => p.roleId).map((p) => ({
      id: p.roleId!,
      value: p.value,
      displayName: p.description,
      description: p.description,
      allowedMemberTypes: ['Application' as const],
    })),
  });
  const admin = await ensureApplication(directory, homeTenant.id, BEHALF_ADMIN_APP_ID, {
    displayName: 'Behalf Admin',
    signInAudience: 'AzureADMultipleOrgs',
    tags: ['behalf:admin'],
    requiredResourceAccess: [
      {
        resourceAppId: MICROSOFT_GRAPH_APP_ID,
        resourceAccess: ADMIN_GRAPH_ROLES.map((value) => ({
          id: GRAPH_PERMISSIONS.find((p) => p.value === value)!.roleId!,
          type: 'Role' as const,
        })),
      },
    ],
  });
  for (const tenant of await directory.listTenants()) await provisionTenant(directory, tenant.id);
  return { homeTenant, graph, admin };
}

async function ensureApplication(
  directory: Directory,
  tenantId: string,
  appId: string,
  input: Parameters<Directory['createApplication']>[1],
): Promise<Application> {
  const existing = await directory.getApplicationByAppId(appId);
  if (existing) return existing;
  await ignoreDuplicate(() => directory.createApplication(tenantId, input, { appId }));
  const created = await directory.getApplicationByAppId(appId);
  if (!created) throw new Error(`the built-in application ${appId} could not be created`);
  return created;
}

export interface AdminCredential {
  authority: string;
  tenantId: string;
  clientId: string;
  clientSecret: string;
}

/**
 * Writes `<dataDir>/admin-credential.json` (mode 0600) with a client secret of Behalf Admin, once: on a
 * restart the file is kept as long as its secret still verifies; a stale file (new database, removed
 * secret) is replaced and the older admin secrets are removed so they do not pile up.
 */
export async function ensureAdminCredential(options: {
  directory: Directory;
  file: string;
  authority: string;
  tenantId: string;
  logger?: Logger;
}): Promise<AdminCredential> {
  const { directory, file } = options;
  const existing = readCredential(file);
  if (existing && existing.clientId === BEHALF_ADMIN_APP_ID) {
    const check = await directory.verifyClientSecret(existing.clientId, existing.clientSecret);
    if (check.status === 'valid') {
      if (existing.authority !== options.authority || existing.tenantId !== options.tenantId) {
        const updated = { ...existing, authority: options.authority, tenantId: options.tenantId };
        writeCredential(file, updated);
        return updated;
      }
      return existing;
    }
  }
  const admin = await directory.getApplicationByAppId(BEHALF_ADMIN_APP_ID);
  if (!admin) throw new Error('Behalf Admin is missing: run bootstrapDirectory first');
  const created = await directory.addPassword(admin.tenantId, admin.id, { displayName: ADMIN_SECRET_NAME });
  for (const old of admin.passwordCredentials)
    if (old.displayName === ADMIN_SECRET_NAME)
      await directory.removePassword(admin.tenantId, admin.id, old.keyId).catch(() => undefined);
  const credential: AdminCredential = {
    authority: options.authority,
    tenantId: options.tenantId,
    clientId: BEHALF_ADMIN_APP_ID,
    clientSecret: created.secretText,
  };
  writeCredential(file, credential);
  options.logger?.info('wrote the administrator credential', { file, clientId: credential.clientId });
  return credential;
}

function readCredential(file: string): AdminCredential | undefined {
  if (!existsSync(file)) return undefined;
  try {
    const parsed = JSON.parse(readFileSync(file, 'utf8')) as Partial<AdminCredential>;
    if (
      typeof parsed.authority === 'string' &&
      typeof parsed.tenantId === 'string' &&
      typeof parsed.clientId === 'string' &&
      typeof parsed.clientSecret === 'string'
    )
      return parsed as AdminCredential;
  } catch {
    // A damaged file is replaced below.
  }
  return undefined;
}

/** Written to a temporary file with mode 0600 and renamed, so no reader ever sees a partial secret. */
function writeCredential(file: string, credential: AdminCredential): void {
  const temporary = `${file}.${process.pid}.tmp`;
  writeFileSync(temporary, JSON.stringify(credential, null, 2) + '\n', { mode: 0o600 });
  chmodSync(temporary, 0o600);
  renameSync(temporary, file);
}
