/**
 * The Entra object model with Microsoft Graph v1.0 field names, so that what the management API returns
 * is what a Graph client expects (shared/reference/entra-protocol.md §6). Stored shapes keep secrets only
 * as hashes: `StoredPasswordCredential` never holds `secretText`, `User` never holds a password.
 */

export interface Tenant {
  /** GUID, the `tid` claim. */
  id: string;
  displayName: string;
  /** Verified domains; the first is the default (`contoso.test`). */
  verifiedDomains: { name: string; isDefault: boolean; isInitial: boolean }[];
  createdDateTime: string;
}

export interface User {
  id: string;
  tenantId: string;
  userPrincipalName: string;
  displayName: string;
  mail: string | null;
  givenName: string | null;
  surname: string | null;
  accountEnabled: boolean;
  createdDateTime: string;
}

/** Kept apart from `User` so no code path that serialises a user can touch it. */
export interface UserPasswordHash {
  userId: string;
  /** Self-describing memory-hard KDF output (e.g. `scrypt$N$r$p$salt$hash`). */
  hash: string;
}

export interface Group {
  id: string;
  tenantId: string;
  displayName: string;
  description: string | null;
  mailNickname: string | null;
  securityEnabled: boolean;
  /** Member object ids (users, groups or service principals). */
  members: string[];
  createdDateTime: string;
}

export type SignInAudience =
  'AzureADMyOrg' | 'AzureADMultipleOrgs' | 'AzureADandPersonalMicrosoftAccount' | 'PersonalMicrosoftAccount';

export interface PermissionScope {
  id: string;
  value: string;
  type: 'User' | 'Admin';
  isEnabled: boolean;
  adminConsentDisplayName: string | null;
  adminConsentDescription: string | null;
  userConsentDisplayName: string | null;
  userConsentDescription: string | null;
}

export interface PreAuthorizedApplication {
  appId: string;
  /** Ids of the exposed scopes the pre-authorized client may use without consent. */
  delegatedPermissionIds: string[];
}

export interface ApiApplication {
  requestedAccessTokenVersion: 1 | 2 | null;
  oauth2PermissionScopes: PermissionScope[];
  preAuthorizedApplications: PreAuthorizedApplication[];
  knownClientApplications: string[];
  acceptMappedClaims: boolean | null;
}

export interface AppRole {
  id: string;
  value: string | null;
  displayName: string | null;
  description: string | null;
  allowedMemberTypes: ('User' | 'Application')[];
  isEnabled: boolean;
  origin?: string;
}

export interface RequiredResourceAccess {
  resourceAppId: string;
  resourceAccess: { id: string; type: 'Scope' | 'Role' }[];
}

export interface WebApplication {
  redirectUris: string[];
  homePageUrl: string | null;
  logoutUrl: string | null;
  implicitGrantSettings: { enableIdTokenIssuance: boolean; enableAccessTokenIssuance: boolean };
}

/** What the API shows: never the secret. */
export interface PasswordCredential {
  keyId: string;
  displayName: string | null;
  /** First three characters of the secret, as Graph shows it. */
  hint: string | null;
  startDateTime: string;
  endDateTime: string;
  customKeyIdentifier: null;
  secretText: null;
}

/** What the store holds: a keyed hash of the secret (fast: the secret is high-entropy). */
export interface StoredPasswordCredential extends Omit<PasswordCredential, 'secretText'> {
  secretHash: string;
}

export interface KeyCredential {
  keyId: string;
  displayName: string | null;
  type: 'AsymmetricX509Cert';
  usage: 'Verify';
  /** Base64 DER of the certificate. */
  key: string;
  /** Base64 SHA-1 thumbprint (the `x5t` a client assertion names). */
  customKeyIdentifier: string;
  startDateTime: string;
  endDateTime: string;
}

export interface FederatedIdentityCredential {
  id: string;
  name: string;
  issuer: string;
  subject: string;
  audiences: string[];
  description: string | null;
}

export interface Application {
  id: string;
  tenantId: string;
  appId: string;
  displayName: string;
  description: string | null;
  identifierUris: string[];
  signInAudience: SignInAudience;
  api: ApiApplication;
  appRoles: AppRole[];
  requiredResourceAccess: RequiredResourceAccess[];
  web: WebApplication;
  spa: { redirectUris: string[] };
  publicClient: { redirectUris: string[] };
  isFallbackPublicClient: boolean;
  passwordCredentials: StoredPasswordCredential[];
  keyCredentials: KeyCredential[];
  federatedIdentityCredentials: FederatedIdentityCredential[];
  publisherDomain: string | null;
  tags: string[];
  createdDateTime: string;
}

export interface ServicePrincipal {
  id: string;
  tenantId: string;
  appId: string;
  displayName: string;
  appDisplayName: string;
  /** Home tenant of the application. */
  appOwnerOrganizationId: string;
  accountEnabled: boolean;
  appRoleAssignmentRequired: boolean;
  /** appId and the identifierUris of the application: what `resource` and scope prefixes resolve by. */
  servicePrincipalNames: string[];
  servicePrincipalType: 'Application' | 'ManagedIdentity' | 'Legacy';
  /** Copies of the application's, kept in sync by the directory, as Graph shows them on the SP. */
  appRoles: AppRole[];
  oauth2PermissionScopes: PermissionScope[];
  tags: string[];
  createdDateTime: string;
}

export interface OAuth2PermissionGrant {
  id: string;
  tenantId: string;
  /** Object id of the client's service principal (not its appId). */
  clientId: string;
  consentType: 'AllPrincipals' | 'Principal';
  /** The user, for Principal grants; null for AllPrincipals. */
  principalId: string | null;
  /** Object id of the resource's service principal. */
  resourceId: string;
  /** Space-separated permission values. */
  scope: string;
}

export interface AppRoleAssignment {
  id: string;
  tenantId: string;
  appRoleId: string;
  principalId: string;
  principalType: 'User' | 'Group' | 'ServicePrincipal';
  principalDisplayName: string | null;
  resourceId: string;
  resourceDisplayName: string | null;
  createdDateTime: string;
}

/** Microsoft Graph's well-known identity: the audience of management API tokens. */
export const MICROSOFT_GRAPH_APP_ID = '00000003-0000-0000-c000-000000000000';
export const MICROSOFT_GRAPH_RESOURCE = 'https://graph.microsoft.com';
/** "Default access": an assignment without a specific app role. */
export const DEFAULT_ACCESS_ROLE_ID = '00000000-0000-0000-0000-000000000000';
