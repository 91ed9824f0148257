import type { Application } from '../../../directory/model.ts';
import { graphError } from '../errors.ts';
import { guidParam, withoutAnnotations } from './common.ts';
import { parseFilter, parseListQuery } from '../odata.ts';
import type { GraphContext, GraphRoute } from '../router.ts';
import { collection, entity, noContent } from '../router.ts';
import {
  addPasswordBody,
  applicationBody,
  federatedCredentialBody,
  federatedCredentialPatch,
  removePasswordBody,
} from '../schemas.ts';
import { clean, parseBody } from '../validate.ts';
import { applicationView, federatedCredentialView, passwordView } from '../views.ts';

const FILTER = {
  id: (a: Application) => a.id,
  appId: (a: Application) => a.appId,
  displayName: (a: Application) => a.displayName,
  identifierUris: (a: Application) => a.identifierUris,
  signInAudience: (a: Application) => a.signInAudience,
  tags: (a: Application) => a.tags,
};

const idParam = (context: GraphContext) => guidParam(context);

function applicationInput(body: unknown, creating: boolean) {
  const parsed = withoutAnnotations(parseBody(applicationBody, body, 'application'));
  if (creating && parsed.displayName === undefined)
    throw graphError.badRequest("Property 'displayName' is required.");
  const { isFallbackPublicClient, ...rest } = parsed;
  return clean({ ...rest, ...(isFallbackPublicClient != null ? { isFallbackPublicClient } : {}) });
}

export const applicationRoutes: GraphRoute[] = [
  {
    method: 'GET',
    path: '/applications',
    access: 'applications.read',
    async handle(context) {
      const query = parseListQuery(context.query);
      const where = parseFilter<Application>(query.filter, FILTER, 'application');
      const page = await context.directory.listApplications(context.tenantId, {
        after: query.after,
        limit: query.top,
        where,
      });
      return collection(
        context,
        'applications',
        { ...page, items: page.items.map(applicationView) },
        query,
        'application',
      );
    },
  },
  {
    method: 'POST',
    path: '/applications',
    access: 'applications.write',
    async handle(context) {
      const app = await context.directory.createApplication(
        context.tenantId,
        applicationInput(context.body, true),
      );
      return entity(context, 'applications', applicationView(app), 201);
    },
  },
  {
    method: 'GET',
    path: '/applications/{id}',
    access: 'applications.read',
    async handle(context) {
      const app = await context.directory.requireApplication(context.tenantId, idParam(context));
      return entity(context, 'applications', applicationView(app), 200, 'application');
    },
  },
  {
    method: 'PATCH',
    path: '/applications/{id}',
    access: 'applications.write',
    async handle(context) {
      if (context.body && typeof context.body === 'object' && 'passwordCredentials' in context.body)
        throw graphError.badRequest(
          'passwordCredentials cannot be updated with PATCH; use addPassword and removePassword.',
        );
      await context.directory.updateApplication(
        context.tenantId,
        idParam(context),
        applicationInput(context.body, false),
      );
      return noContent;
    },
  },
  {
    method: 'DELETE',
    path: '/applications/{id}',
    access: 'applications.write',
    async handle(context) {
      await context.directory.deleteApplication(context.tenantId, idParam(context));
      return noContent;
    },
  },
  {
    method: 'POST',
    path: '/applications/{id}/addPassword',
    access: 'applications.write',
    async handle(context) {
      const body = parseBody(addPasswordBody, context.body ?? {}, 'passwordCredential');
      const { '@odata.type': _t, ...input } = body.passwordCredential ?? {};
      void _t;
      const created = await context.directory.addPassword(context.tenantId, idParam(context), clean(input));
      return {
        status: 200,
        body: {
          '@odata.context': `${context.serviceRoot}/$metadata#microsoft.graph.passwordCredential`,
          ...passwordView(created),
        },
      };
    },
  },
  {
    method: 'POST',
    path: '/applications/{id}/removePassword',
    access: 'applications.write',
    async handle(context) {
      const { keyId } = parseBody(removePasswordBody, context.body, 'passwordCredential');
      await context.directory.removePassword(context.tenantId, idParam(context), keyId);
      return noContent;
    },
  },
  {
    method: 'GET',
    path: '/applications/{id}/federatedIdentityCredentials',
    access: 'applications.read',
    async handle(context) {
      const app = await context.directory.requireApplication(context.tenantId, idParam(context));
      const query = parseListQuery(context.query);
      return collection(
        context,
        `applications('${app.id}')/federatedIdentityCredentials`,
        { items: app.federatedIdentityCredentials.map(federatedCredentialView) },
        query,
        'federatedIdentityCredential',
      );
    },
  },
  {
    method: 'POST',
    path: '/applications/{id}/federatedIdentityCredentials',
    access: 'applications.write',
    async handle(context) {
      const { '@odata.type': _t, ...input } = parseBody(
        federatedCredentialBody,
        context.body,
        'federatedIdentityCredential',
      );
      void _t;
      const id = idParam(context);
      const created = await context.directory.addFederatedCredential(context.tenantId, id, clean(input));
      return entity(
        context,
        `applications('${id}')/federatedIdentityCredentials`,
        federatedCredentialView(created),
        201,
      );
    },
  },
  {
    method: 'GET',
    path: '/applications/{id}/federatedIdentityCredentials/{credential}',
    access: 'applications.read',
    async handle(context) {
      const id = idParam(context);
      const found = await context.directory.getFederatedCredential(
        context.tenantId,
        id,
        context.params.credential!,
      );
      return entity(
        context,
        `applications('${id}')/federatedIdentityCredentials`,
        federatedCredentialView(found),
      );
    },
  },
  {
    method: 'PATCH',
    path: '/applications/{id}/federatedIdentityCredentials/{credential}',
    access: 'applications.write',
    async handle(context) {
      const { '@odata.type': _t, ...changes } = parseBody(
        federatedCredentialPatch,
        context.body,
        'federatedIdentityCredential',
      );
      void _t;
      await context.directory.updateFederatedCredential(
        context.tenantId,
        idParam(context),
        context.params.credential!,
        clean(changes),
      );
      return noContent;
    },
  },
  {
    method: 'DELETE',
    path: '/applications/{id}/federatedIdentityCredentials/{credential}',
    access: 'applications.write',
    async handle(context) {
      await context.directory.removeFederatedCredential(
        context.tenantId,
        idParam(context),
        context.params.credential!,
      );
      return noContent;
    },
  },
];
