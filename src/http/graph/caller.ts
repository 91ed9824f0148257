import { graphError } from './errors.ts';

/** Who is calling the management API, as the token service's verifier established it. */
export interface GraphCaller {
  readonly tenantId: string;
  /** The calling client's appId (`appid` / `azp`). */
  readonly appId: string;
  /** Application permissions (`roles` of an app-only token). */
  readonly roles: readonly string[];
  /** Delegated permissions (`scp` of a user token). */
  readonly scopes: readonly string[];
  /** The signed-in user's object id, for delegated tokens. */
  readonly oid?: string;
  /** For delegated tokens: whether the signed-in user administers the tenant. */
  readonly userIsAdministrator?: boolean;
}

/**
 * Validates a bearer token for the Graph audience (`https://graph.microsoft.com` or the Graph appId)
 * and returns the caller, or undefined when the token is not acceptable. Injected: the token service
 * provides the real one; tests may sign their own.
 */
export type VerifyBearer = (token: string) => Promise<GraphCaller | undefined>;

export type Access =
  | 'applications.read'
  | 'applications.write'
  | 'users.read'
  | 'users.write'
  | 'groups.read'
  | 'groups.write'
  | 'grants.read'
  | 'grants.write'
  | 'assignments.write'
  | 'organization.read'
  | 'organization.write';

const READ_DIRECTORY = ['Directory.Read.All', 'Directory.ReadWrite.All'];
// Which Graph permissions (as app roles or delegated scopes: Graph uses the same values for both)
// allow what, after learn.microsoft.com/graph/permissions-reference.
const PERMISSIONS: Record<Access, readonly string[]> = {
  'applications.read': ['Application.Read.All', 'Application.ReadWrite.All', ...READ_DIRECTORY],
  'applications.write': ['Application.ReadWrite.All', 'Directory.ReadWrite.All'],
  'users.read': ['User.Read.All', 'User.ReadWrite.All', 'User.ReadBasic.All', ...READ_DIRECTORY],
  'users.write': ['User.ReadWrite.All', 'Directory.ReadWrite.All'],
  'groups.read': ['Group.Read.All', 'Group.ReadWrite.All', ...READ_DIRECTORY],
  'groups.write': ['Group.ReadWrite.All', 'Directory.ReadWrite.All'],
  'grants.read': [
    'DelegatedPermissionGrant.ReadWrite.All',
    'Application.Read.All',
    'Application.ReadWrite.All',
    ...READ_DIRECTORY,
  ],
  'grants.write': ['DelegatedPermissionGrant.ReadWrite.All', 'Directory.ReadWrite.All'],
  'assignments.write': ['AppRoleAssignment.ReadWrite.All', 'Directory.ReadWrite.All'],
  'organization.read': ['User.Read', 'Application.Read.All', 'Application.ReadWrite.All', ...READ_DIRECTORY],
  'organization.write': ['Directory.ReadWrite.All'],
};

export function requireAccess(caller: GraphCaller, access: Access): void {
  // A delegated permission never exceeds the user's own rights (Entra's "effective permissions"):
  // writes through a user token need a tenant administrator, whatever the organisation consented.
  if (caller.oid !== undefined && access.endsWith('.write') && caller.userIsAdministrator !== true) {
    throw graphError.notAdministrator();
  }
  const allowed = PERMISSIONS[access];
  if (caller.roles.some((r) => allowed.includes(r)) || caller.scopes.some((s) => allowed.includes(s))) return;
  throw graphError.denied();
}

export function bearerToken(header: string | undefined): string {
  const match = header?.match(/^Bearer\s+(\S+)\s*$/i);
  if (!match) throw graphError.emptyToken();
  return match[1]!;
}
