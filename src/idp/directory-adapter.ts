import type { Directory } from '../directory/directory.ts';
import type { IdpDirectory } from './directory-port.ts';

/** The directory service seen through the token service's narrow port. */
export function idpDirectoryFrom(directory: Directory): IdpDirectory {
  return {
    getTenant: (idOrDomain) => directory.getTenant(idOrDomain),
    getApplicationByAppId: (appId) => directory.getApplicationByAppId(appId),
    getServicePrincipalByAppId: (tenantId, appId) => directory.getServicePrincipalByAppId(tenantId, appId),
    resolveServicePrincipal: (tenantId, identifier) =>
      directory.resolveServicePrincipal(tenantId, identifier),
    getUser: (tenantId, userId) => directory.getUser(tenantId, userId),
    async getUserByUpn(tenantId, upn) {
      const user = await directory.getUserByUpn(upn);
      return user && user.tenantId === tenantId ? user : undefined;
    },
    async verifyUserPassword(tenantId, userId, password) {
      const user = await directory.getUser(tenantId, userId);
      return user !== undefined && (await directory.verifyUserPassword(userId, password));
    },
    verifyClientSecret: (appId, secret) => directory.verifyClientSecret(appId, secret),
    listPermissionGrants: (tenantId, clientId, resourceId) =>
      directory.listPermissionGrants({ tenantId, clientId, resourceId }),
    listAppRoleAssignments: (tenantId, principalId, resourceId) =>
      directory.listAppRoleAssignments({ tenantId, principalId, resourceId }),
  };
}
