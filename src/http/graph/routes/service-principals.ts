import type { AppRoleAssignment, OAuth2PermissionGrant, ServicePrincipal } from '../../../directory/model.ts';
import { parseFilter, parseListQuery } from '../odata.ts';
import type { GraphContext, GraphRoute } from '../router.ts';
import { collection, entity, noContent } from '../router.ts';
import { appRoleAssignmentBody, servicePrincipalBody, servicePrincipalPatch } from '../schemas.ts';
import { clean, parseBody } from '../validate.ts';
import { assignmentView, grantView, servicePrincipalView } from '../views.ts';
import { guidParam, withoutAnnotations } from './common.ts';
import { graphError } from '../errors.ts';

const FILTER = {
  id: (s: ServicePrincipal) => s.id,
  appId: (s: ServicePrincipal) => s.appId,
  displayName: (s: ServicePrincipal) => s.displayName,
  servicePrincipalNames: (s: ServicePrincipal) => s.servicePrincipalNames,
  servicePrincipalType: (s: ServicePrincipal) => s.servicePrincipalType,
  tags: (s: ServicePrincipal) => s.tags,
};

/**
 * `appRoleAssignedTo` (assignments granted on this SP as the resource) and `appRoleAssignments`
 * (assignments this SP holds) share the body `{principalId, resourceId, appRoleId}`; the URL's SP must
 * be the resource, respectively the principal.
 */
function assignmentRoutes(relation: 'appRoleAssignedTo' | 'appRoleAssignments'): GraphRoute[] {
  const role = relation === 'appRoleAssignedTo' ? 'resourceId' : 'principalId';
  const list = async (context: GraphContext, id: string): Promise<AppRoleAssignment[]> =>
    context.directory.listAppRoleAssignments({ tenantId: context.tenantId, [role]: id });
  return [
    {
      method: 'GET',
      path: `/servicePrincipals/{id}/${relation}`,
      access: 'applications.read',
      async handle(context) {
        const sp = await context.directory.requireServicePrincipal(context.tenantId, guidParam(context));
        return collection(
          context,
          `servicePrincipals('${sp.id}')/${relation}`,
          { items: (await list(context, sp.id)).map(assignmentView) },
          parseListQuery(context.query),
          'appRoleAssignment',
        );
      },
    },
    {
      method: 'POST',
      path: `/servicePrincipals/{id}/${relation}`,
      access: 'assignments.write',
      async handle(context) {
        const sp = await context.directory.requireServicePrincipal(context.tenantId, guidParam(context));
        const body = withoutAnnotations(parseBody(appRoleAssignmentBody, context.body, 'appRoleAssignment'));
        if (body[role].toLowerCase() !== sp.id)
          throw graphError.badRequest(
            `The ${role} of the body must be the service principal in the URL ('${sp.id}').`,
          );
        const created = await context.directory.createAssignment(context.tenantId, body);
        return entity(context, `servicePrincipals('${sp.id}')/${relation}`, assignmentView(created), 201);
      },
    },
    {
      method: 'DELETE',
      path: `/servicePrincipals/{id}/${relation}/{assignment}`,
      access: 'assignments.write',
      async handle(context) {
        const sp = guidParam(context);
        const found = await context.directory.getAssignment(context.tenantId, context.params.assignment!);
        if (!found || found[role] !== sp) throw graphError.notFoundId(context.params.assignment!);
        await context.directory.deleteAssignment(context.tenantId, found.id);
        return noContent;
      },
    },
  ];
}

export const servicePrincipalRoutes: GraphRoute[] = [
  {
    method: 'GET',
    path: '/servicePrincipals',
    access: 'applications.read',
    async handle(context) {
      const query = parseListQuery(context.query);
      const where = parseFilter<ServicePrincipal>(query.filter, FILTER, 'servicePrincipal');
      const page = await context.directory.listServicePrincipals(context.tenantId, {
        after: query.after,
        limit: query.top,
        where,
      });
      return collection(
        context,
        'servicePrincipals',
        { ...page, items: page.items.map(servicePrincipalView) },
        query,
        'servicePrincipal',
      );
    },
  },
  {
    method: 'POST',
    path: '/servicePrincipals',
    access: 'applications.write',
    async handle(context) {
      const body = clean(
        withoutAnnotations(parseBody(servicePrincipalBody, context.body, 'servicePrincipal')),
      );
      const sp = await context.directory.createServicePrincipal(context.tenantId, body);
      return entity(context, 'servicePrincipals', servicePrincipalView(sp), 201);
    },
  },
  {
    method: 'GET',
    path: '/servicePrincipals/{id}',
    access: 'applications.read',
    async handle(context) {
      const sp = await context.directory.requireServicePrincipal(context.tenantId, guidParam(context));
      return entity(context, 'servicePrincipals', servicePrincipalView(sp), 200, 'servicePrincipal');
    },
  },
  {
    method: 'PATCH',
    path: '/servicePrincipals/{id}',
    access: 'applications.write',
    async handle(context) {
      const changes = clean(
        withoutAnnotations(parseBody(servicePrincipalPatch, context.body, 'servicePrincipal')),
      );
      await context.directory.updateServicePrincipal(context.tenantId, guidParam(context), changes);
      return noContent;
    },
  },
  {
    method: 'DELETE',
    path: '/servicePrincipals/{id}',
    access: 'applications.write',
    async handle(context) {
      await context.directory.deleteServicePrincipal(context.tenantId, guidParam(context));
      return noContent;
    },
  },
  ...assignmentRoutes('appRoleAssignedTo'),
  ...assignmentRoutes('appRoleAssignments'),
  {
    method: 'GET',
    path: '/servicePrincipals/{id}/oauth2PermissionGrants',
    access: 'grants.read',
    async handle(context) {
      const sp = await context.directory.requireServicePrincipal(context.tenantId, guidParam(context));
      const grants: OAuth2PermissionGrant[] = await context.directory.listPermissionGrants({
        tenantId: context.tenantId,
        clientId: sp.id,
      });
      return collection(
        context,
        'oauth2PermissionGrants',
        { items: grants.map(grantView) },
        parseListQuery(context.query),
        'oAuth2PermissionGrant',
      );
    },
  },
];
