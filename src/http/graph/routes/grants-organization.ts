import type { OAuth2PermissionGrant } from '../../../directory/model.ts';
import { graphError } from '../errors.ts';
import { parseFilter, parseListQuery } from '../odata.ts';
import type { GraphRoute } from '../router.ts';
import { collection, entity, noContent } from '../router.ts';
import { grantBody, grantPatch, organizationBody } from '../schemas.ts';
import { clean, parseBody } from '../validate.ts';
import { grantView, organizationView } from '../views.ts';
import { guidParam } from './common.ts';

const GRANT_FILTER = {
  id: (g: OAuth2PermissionGrant) => g.id,
  clientId: (g: OAuth2PermissionGrant) => g.clientId,
  resourceId: (g: OAuth2PermissionGrant) => g.resourceId,
  principalId: (g: OAuth2PermissionGrant) => g.principalId,
  consentType: (g: OAuth2PermissionGrant) => g.consentType,
};

export const grantRoutes: GraphRoute[] = [
  {
    method: 'GET',
    path: '/oauth2PermissionGrants',
    access: 'grants.read',
    async handle(context) {
      const query = parseListQuery(context.query);
      const where = parseFilter<OAuth2PermissionGrant>(query.filter, GRANT_FILTER, 'oAuth2PermissionGrant');
      const page = await context.directory.listGrants(context.tenantId, {
        after: query.after,
        limit: query.top,
        where,
      });
      return collection(
        context,
        'oauth2PermissionGrants',
        { ...page, items: page.items.map(grantView) },
        query,
        'oAuth2PermissionGrant',
      );
    },
  },
  {
    method: 'POST',
    path: '/oauth2PermissionGrants',
    access: 'grants.write',
    async handle(context) {
      const {
        '@odata.type': _t,
        startTime: _s,
        expiryTime: _e,
        ...input
      } = parseBody(grantBody, context.body, 'oAuth2PermissionGrant');
      void [_t, _s, _e];
      const grant = await context.directory.createGrant(context.tenantId, clean(input));
      return entity(context, 'oauth2PermissionGrants', grantView(grant), 201);
    },
  },
  {
    method: 'GET',
    path: '/oauth2PermissionGrants/{id}',
    access: 'grants.read',
    async handle(context) {
      const grant = await context.directory.getGrant(context.tenantId, context.params.id!);
      if (!grant) throw graphError.notFoundId(context.params.id!);
      return entity(context, 'oauth2PermissionGrants', grantView(grant), 200, 'oAuth2PermissionGrant');
    },
  },
  {
    method: 'PATCH',
    path: '/oauth2PermissionGrants/{id}',
    access: 'grants.write',
    async handle(context) {
      const { scope } = parseBody(grantPatch, context.body, 'oAuth2PermissionGrant');
      await context.directory.updateGrant(context.tenantId, context.params.id!, scope);
      return noContent;
    },
  },
  {
    method: 'DELETE',
    path: '/oauth2PermissionGrants/{id}',
    access: 'grants.write',
    async handle(context) {
      await context.directory.deleteGrant(context.tenantId, context.params.id!);
      return noContent;
    },
  },
];

export const organizationRoutes: GraphRoute[] = [
  {
    method: 'GET',
    path: '/organization',
    access: 'organization.read',
    async handle(context) {
      const tenant = await context.directory.requireTenant(context.tenantId);
      return collection(
        context,
        'organization',
        { items: [organizationView(tenant)] },
        parseListQuery(context.query),
        'organization',
      );
    },
  },
  {
    method: 'GET',
    path: '/organization/{id}',
    access: 'organization.read',
    async handle(context) {
      const id = guidParam(context);
      if (id !== context.tenantId) throw graphError.notFoundId(id);
      return entity(context, 'organization', organizationView(await context.directory.requireTenant(id)));
    },
  },
  {
    // Behalf extension (Graph has no tenant creation): an administrator of the home tenant creates a
    // tenant with its verified domains; it comes provisioned with Graph and Behalf Admin.
    method: 'POST',
    path: '/organization',
    access: 'organization.write',
    async handle(context) {
      if (context.tenantId !== context.homeTenantId()) throw graphError.denied();
      const body = parseBody(organizationBody, context.body, 'organization');
      const ordered = [...body.verifiedDomains].sort(
        (a, b) => Number(b.isDefault ?? false) - Number(a.isDefault ?? false),
      );
      const tenant = await context.directory.createTenant({
        displayName: body.displayName,
        domains: ordered.map((d) => d.name),
      });
      return entity(context, 'organization', organizationView(tenant), 201);
    },
  },
];
