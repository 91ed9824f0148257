import { assignedRoles } from '../consent.ts';
import { entraError } from '../errors/entra-error.ts';
import { resolveScopes } from '../scopes.ts';
import type { Grant } from './grant.ts';
import { clientIdentity, defaultScopeOf, requireParam } from './grant.ts';

/**
 * `client_credentials` (ED:v2-oauth2-client-creds-grant-flow.md): v2 `scope={resource}/.default` only
 * (AADSTS1002012 otherwise), v1 `resource`. The token carries the client SP's app roles on the resource
 * (admin-consented application permissions) as `roles`, never `scp`; with `appRoleAssignmentRequired`
 * and no role the request is refused (AADSTS501051).
 */
export const clientCredentialsGrant: Grant = {
  needsTenant: true,
  async handle(request, deps) {
    const { form, client, tenant } = request;
    let scope: string;
    if (request.endpoint === 2) {
      if (form['resource'] !== undefined) throw entraError(901002);
      scope = requireParam(form, 'scope');
      const parts = scope.split(/\s+/).filter((s) => s !== '');
      if (parts.length !== 1 || !parts[0]!.endsWith('/.default')) {
        const bad = parts.find((p) => !p.endsWith('/.default')) ?? scope;
        if (parts.some((p) => p.endsWith('/.default')) && parts.length > 1)
          throw entraError(700022, { scope });
        throw entraError(1002012, { scope: bad });
      }
    } else {
      scope = defaultScopeOf(requireParam(form, 'resource'));
    }
    const resolved = await resolveScopes(deps.directory, tenant.id, scope, { clientAppId: client.app.appId });
    const roles = await assignedRoles(
      deps.directory,
      tenant.id,
      client.sp.id,
      resolved.resource,
      'Application',
    );
    if (roles.length === 0 && resolved.resource.sp.appRoleAssignmentRequired) {
      const assigned = await deps.directory.listAppRoleAssignments(
        tenant.id,
        client.sp.id,
        resolved.resource.sp.id,
      );
      if (assigned.length === 0) {
        throw entraError(501051, {
          appId: client.app.appId,
          name: client.app.displayName,
          resourceAppId: resolved.resource.sp.appId,
          resourceName: resolved.resource.sp.displayName,
        });
      }
    }
    return deps.issuance.issueAppToken({
      tenantId: tenant.id,
      client: clientIdentity(client),
      resolved,
      roles,
    });
  },
};
