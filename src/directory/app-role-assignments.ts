import { DuplicateKeyError } from '../core/errors.ts';
import type { DirectoryDeps } from './deps.ts';
import { KIND, isoNow } from './deps.ts';
import { badRequest, conflict, notFound } from './errors.ts';
import type { groupRepository } from './groups.ts';
import type { AppRoleAssignment } from './model.ts';
import { DEFAULT_ACCESS_ROLE_ID } from './model.ts';
import type { servicePrincipalRepository } from './service-principals.ts';
import type { userRepository } from './users.ts';

export interface NewAppRoleAssignment {
  principalId: string;
  resourceId: string;
  appRoleId: string;
}

const uniqueAssignmentKey = (a: NewAppRoleAssignment) =>
  `assignment:${a.principalId}:${a.resourceId}:${a.appRoleId}`.toLowerCase();

export function appRoleAssignmentRepository(
  deps: DirectoryDeps,
  servicePrincipals: ReturnType<typeof servicePrincipalRepository>,
  users: ReturnType<typeof userRepository>,
  groups: ReturnType<typeof groupRepository>,
) {
  const { store } = deps;

  async function resolvePrincipal(tenantId: string, id: string) {
    const user = await users.getUser(tenantId, id);
    if (user) return { type: 'User' as const, displayName: user.displayName };
    const group = await groups.getGroup(tenantId, id);
    if (group) return { type: 'Group' as const, displayName: group.displayName };
    const sp = await servicePrincipals.getServicePrincipal(tenantId, id);
    if (sp) return { type: 'ServicePrincipal' as const, displayName: sp.displayName };
    throw notFound(id);
  }

  async function createAssignment(tenantId: string, input: NewAppRoleAssignment): Promise<AppRoleAssignment> {
    const resource = await servicePrincipals.requireServicePrincipal(tenantId, input.resourceId);
    const principal = await resolvePrincipal(tenantId, input.principalId);
    const appRoleId = input.appRoleId.toLowerCase();
    if (appRoleId !== DEFAULT_ACCESS_ROLE_ID) {
      const role = resource.appRoles.find((r) => r.id.toLowerCase() === appRoleId);
      // Graph: "Permission being assigned was not found on application '{appId}'."
      if (!role || !role.isEnabled)
        throw badRequest(`Permission being assigned was not found on application '${resource.appId}'.`);
      const memberType = principal.type === 'ServicePrincipal' ? 'Application' : 'User';
      if (!role.allowedMemberTypes.includes(memberType))
        throw badRequest(
          `App role '${role.value ?? role.id}' cannot be assigned to a ${principal.type === 'ServicePrincipal' ? 'service principal' : 'user or group'} (allowedMemberTypes: ${role.allowedMemberTypes.join(', ')}).`,
        );
    }
    const assignment: AppRoleAssignment = {
      id: deps.random.bytes(32).toString('base64url'),
      tenantId,
      appRoleId,
      principalId: input.principalId.toLowerCase(),
      principalType: principal.type,
      principalDisplayName: principal.displayName,
      resourceId: resource.id,
      resourceDisplayName: resource.displayName,
      createdDateTime: isoNow(deps),
    };
    try {
      await store.insert({
        kind: KIND.assignment,
        id: assignment.id,
        partition: tenantId,
        data: assignment,
        uniqueKeys: [uniqueAssignmentKey(assignment)],
        indexKeys: ['principal:' + assignment.principalId, 'resource:' + assignment.resourceId],
      });
    } catch (error) {
      if (error instanceof DuplicateKeyError)
        throw conflict('Permission being assigned already exists on the object');
      throw error;
    }
    return assignment;
  }

  async function getAssignment(tenantId: string, id: string): Promise<AppRoleAssignment | undefined> {
    const record = await store.get<AppRoleAssignment>(KIND.assignment, id);
    return record && record.partition === tenantId ? record.data : undefined;
  }

  async function deleteAssignment(tenantId: string, id: string): Promise<void> {
    if (!(await getAssignment(tenantId, id))) throw notFound(id);
    await store.delete(KIND.assignment, id);
  }

  /** Assignments held by a principal, or granted on a resource, or both (the token service's `roles`). */
  async function listAppRoleAssignments(query: {
    tenantId: string;
    principalId?: string;
    resourceId?: string;
  }): Promise<AppRoleAssignment[]> {
    const key =
      query.principalId !== undefined
        ? 'principal:' + query.principalId.toLowerCase()
        : query.resourceId !== undefined
          ? 'resource:' + query.resourceId.toLowerCase()
          : undefined;
    if (key === undefined) throw badRequest('A principalId or a resourceId is required.');
    const found = await store.findByIndex<AppRoleAssignment>(KIND.assignment, key, {
      partition: query.tenantId,
      limit: 1000,
    });
    return found
      .map((r) => r.data)
      .filter((a) => query.resourceId === undefined || a.resourceId === query.resourceId.toLowerCase());
  }

  return { createAssignment, getAssignment, deleteAssignment, listAppRoleAssignments };
}
