import { DirectoryError } from './errors.ts';
import type { Directory } from './directory.ts';
import { ADMIN_GRAPH_ROLES, GRAPH_PERMISSIONS } from './graph-permissions.ts';
import { MICROSOFT_GRAPH_APP_ID } from './model.ts';

/**
 * Behalf's own administrator application. Its appId is fixed, like the first-party apps of Entra
 * (Azure CLI, Graph Explorer), so every node and every restart finds the same object; what protects it
 * is its secret, which is per installation.
 */
export const BEHALF_ADMIN_APP_ID = 'be4a1f00-ad00-4a00-8000-000000000001';

/** Tolerates a concurrent start on another node creating the same object first. */
export async function ignoreDuplicate<T>(work: () => Promise<T>): Promise<T | undefined> {
  try {
    return await work();
  } catch (error) {
    if (error instanceof DirectoryError && error.code === 'Request_MultipleObjectsWithSameKeyValue')
      return undefined;
    throw error;
  }
}

/**
 * What every tenant holds: Microsoft Graph's service principal (the management API's audience) and the
 * Behalf Admin service principal with the Graph write roles, so the admin credential can obtain a
 * management token in any tenant through the ordinary client-credentials grant.
 */
export async function provisionTenant(directory: Directory, tenantId: string): Promise<void> {
  if (!(await directory.getApplicationByAppId(MICROSOFT_GRAPH_APP_ID))) return;
  const graph =
    (await directory.getServicePrincipalByAppId(tenantId, MICROSOFT_GRAPH_APP_ID)) ??
    (await ignoreDuplicate(() =>
      directory.createServicePrincipal(tenantId, { appId: MICROSOFT_GRAPH_APP_ID }),
    )) ??
    (await directory.getServicePrincipalByAppId(tenantId, MICROSOFT_GRAPH_APP_ID));
  if (!graph || !(await directory.getApplicationByAppId(BEHALF_ADMIN_APP_ID))) return;
  const admin =
    (await directory.getServicePrincipalByAppId(tenantId, BEHALF_ADMIN_APP_ID)) ??
    (await ignoreDuplicate(() =>
      directory.createServicePrincipal(tenantId, { appId: BEHALF_ADMIN_APP_ID }),
    )) ??
    (await directory.getServicePrincipalByAppId(tenantId, BEHALF_ADMIN_APP_ID));
  if (!admin) return;
  const held = new Set(
    (await directory.listAppRoleAssignments({ tenantId, principalId: admin.id, resourceId: graph.id })).map(
      (a) => a.appRoleId,
    ),
  );
  for (const value of ADMIN_GRAPH_ROLES) {
    const roleId = GRAPH_PERMISSIONS.find((p) => p.value === value)!.roleId!;
    if (held.has(roleId)) continue;
    await ignoreDuplicate(() =>
      directory.createAssignment(tenantId, {
        principalId: admin.id,
        resourceId: graph.id,
        appRoleId: roleId,
      }),
    );
  }
}
