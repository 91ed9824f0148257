import type {
  Application,
  AppRoleAssignment,
  OAuth2PermissionGrant,
  ServicePrincipal,
  Tenant,
  User,
} from '../directory/model.ts';
import type { SecretCheck } from '../directory/credentials.ts';

/**
 * The narrow read view of the directory the token service needs. The directory service satisfies it
 * (an adapter in directory-adapter.ts maps its methods); unit tests use an in-memory fake. The token
 * service never writes the directory.
 */
export interface IdpDirectory {
  /** By tenant GUID or any verified domain (case-insensitive). */
  getTenant(idOrDomain: string): Promise<Tenant | undefined>;
  getApplicationByAppId(appId: string): Promise<Application | undefined>;
  getServicePrincipalByAppId(tenantId: string, appId: string): Promise<ServicePrincipal | undefined>;
  /** By appId or any of its servicePrincipalNames (identifier URIs). */
  resolveServicePrincipal(
    tenantId: string,
    appIdOrIdentifierUri: string,
  ): Promise<ServicePrincipal | undefined>;
  getUser(tenantId: string, userId: string): Promise<User | undefined>;
  getUserByUpn(tenantId: string, userPrincipalName: string): Promise<User | undefined>;
  verifyUserPassword(tenantId: string, userId: string, password: string): Promise<boolean>;
  /** Which password credential of the app a secret matches (expired ones reported as such). */
  verifyClientSecret(appId: string, secret: string): Promise<SecretCheck>;
  /** Grants held by a client SP on a resource SP (both object ids). */
  listPermissionGrants(
    tenantId: string,
    clientSpId: string,
    resourceSpId: string,
  ): Promise<OAuth2PermissionGrant[]>;
  /** Assignments held by a principal (user, SP) on a resource SP, including through the user's groups. */
  listAppRoleAssignments(
    tenantId: string,
    principalId: string,
    resourceSpId: string,
  ): Promise<AppRoleAssignment[]>;
}
