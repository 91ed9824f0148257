import type { AppRoleAssignment, OAuth2PermissionGrant, ServicePrincipal } from '../../directory/model.ts';
import type { RequestedAccess } from './authorize-consent.ts';

/**
 * The directory writes consent performs, as a narrow structural port over the directory service
 * (`createDirectory`): user consent records a Principal grant, admin consent an AllPrincipals grant
 * plus an app role assignment per application permission (ED:v2-admin-consent.md; Graph
 * oAuth2PermissionGrant and appRoleAssignment resources).
 */
export interface ConsentDirectory {
  getServicePrincipalByAppId(tenantId: string, appId: string): Promise<ServicePrincipal | undefined>;
  createServicePrincipal(tenantId: string, input: { appId: string }): Promise<ServicePrincipal>;
  listPermissionGrants(query: {
    tenantId: string;
    clientId: string;
    resourceId: string;
  }): Promise<OAuth2PermissionGrant[]>;
  createGrant(
    tenantId: string,
    input: {
      clientId: string;
      consentType: 'AllPrincipals' | 'Principal';
      principalId: string | null;
      resourceId: string;
      scope: string;
    },
  ): Promise<OAuth2PermissionGrant>;
  updateGrant(tenantId: string, id: string, scope: string): Promise<OAuth2PermissionGrant>;
  listAppRoleAssignments(query: {
    tenantId: string;
    principalId: string;
    resourceId: string;
  }): Promise<AppRoleAssignment[]>;
  createAssignment(
    tenantId: string,
    input: { principalId: string; resourceId: string; appRoleId: string },
  ): Promise<AppRoleAssignment>;
}

export interface ConsentWriter {
  /** The client's service principal in the tenant, created on first consent (as Entra does). */
  ensureClient(tenantId: string, appId: string): Promise<ServicePrincipal>;
  record(
    tenantId: string,
    clientSp: ServicePrincipal,
    access: readonly RequestedAccess[],
    principal: { kind: 'user'; userId: string } | { kind: 'organization' },
  ): Promise<void>;
}

export function createConsentWriter(directory: ConsentDirectory): ConsentWriter {
  return {
    async ensureClient(tenantId, appId) {
      return (
        (await directory.getServicePrincipalByAppId(tenantId, appId)) ??
        (await directory.createServicePrincipal(tenantId, { appId }))
      );
    },
    async record(tenantId, clientSp, access, principal) {
      const principalId = principal.kind === 'user' ? principal.userId.toLowerCase() : null;
      for (const { resource, scopes, roles } of access) {
        if (scopes.length > 0) {
          const existing = (
            await directory.listPermissionGrants({
              tenantId,
              clientId: clientSp.id,
              resourceId: resource.sp.id,
            })
          ).find((g) =>
            principalId === null ? g.consentType === 'AllPrincipals' : g.principalId === principalId,
          );
          const values = scopes.map((s) => s.value);
          if (existing) {
            const merged = [...new Set([...existing.scope.split(' ').filter((v) => v !== ''), ...values])];
            await directory.updateGrant(tenantId, existing.id, merged.join(' '));
          } else {
            await directory.createGrant(tenantId, {
              clientId: clientSp.id,
              consentType: principalId === null ? 'AllPrincipals' : 'Principal',
              principalId,
              resourceId: resource.sp.id,
              scope: values.join(' '),
            });
          }
        }
        if (principal.kind !== 'organization' || roles.length === 0) continue;
        const held = new Set(
          (
            await directory.listAppRoleAssignments({
              tenantId,
              principalId: clientSp.id,
              resourceId: resource.sp.id,
            })
          ).map((a) => a.appRoleId),
        );
        for (const role of roles)
          if (!held.has(role.id))
            await directory.createAssignment(tenantId, {
              principalId: clientSp.id,
              resourceId: resource.sp.id,
              appRoleId: role.id,
            });
      }
    },
  };
}
