import { appRoleAssignmentRepository } from './app-role-assignments.ts';
import { applicationRepository } from './applications.ts';
import { credentialRepository } from './credentials.ts';
import type { DirectoryDeps } from './deps.ts';
import { grantRepository } from './grants.ts';
import { groupRepository } from './groups.ts';
import { provisionTenant } from './provisioning.ts';
import { servicePrincipalRepository } from './service-principals.ts';
import { tenantRepository } from './tenants.ts';
import { userRepository } from './users.ts';

/**
 * The directory service: every repository over one store, with Entra's rules. The token service reads
 * through it (getApplicationByAppId, resolveServicePrincipal, verifyClientSecret, listPermissionGrants,
 * listAppRoleAssignments, listGroupIdsOf…); the management API reads and writes through it.
 */
export function createDirectory(deps: DirectoryDeps) {
  const tenants = tenantRepository(deps);
  const users = userRepository(deps, tenants);
  const groups = groupRepository(deps);
  const applications = applicationRepository(deps, tenants);
  const servicePrincipals = servicePrincipalRepository(deps, tenants, applications);
  const credentials = credentialRepository(deps, applications);
  const grants = grantRepository(deps, servicePrincipals, users);
  const assignments = appRoleAssignmentRepository(deps, servicePrincipals, users, groups);
  const directory = {
    ...tenants,
    ...users,
    ...groups,
    ...applications,
    ...servicePrincipals,
    ...credentials,
    ...grants,
    ...assignments,
    deleteApplication: (tenantId: string, id: string) =>
      applications.deleteApplication(tenantId, id, servicePrincipals.deleteServicePrincipalIn),
    /** A new tenant gets the Graph and Behalf Admin service principals, as Entra tenants come with Graph. */
    createTenant: async (input: Parameters<typeof tenants.createTenant>[0]) => {
      const tenant = await tenants.createTenant(input);
      await provisionTenant(directory, tenant.id);
      return tenant;
    },
  };
  return directory;
}

export type Directory = ReturnType<typeof createDirectory>;
