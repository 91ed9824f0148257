import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { Logger } from '../../core/logger.ts';
import type { Directory } from '../../directory/directory.ts';
import type { RouteModule } from '../server.ts';
import type { VerifyBearer } from './caller.ts';
import { bearerToken, requireAccess } from './caller.ts';
import { graphError, graphErrorHandler, requestIds } from './errors.ts';
import type { GraphRoute } from './router.ts';
import { matchRoute } from './router.ts';
import { applicationRoutes } from './routes/applications.ts';
import { grantRoutes, organizationRoutes } from './routes/grants-organization.ts';
import { servicePrincipalRoutes } from './routes/service-principals.ts';
import { groupRoutes, userAssignmentRoutes, userRoutes } from './routes/users-groups.ts';

export interface GraphApiOptions {
  readonly directory: Directory;
  readonly verifyBearer: VerifyBearer;
  readonly logger: Logger;
  /** The home tenant (known after bootstrap): only its administrators may create tenants. */
  readonly homeTenantId: () => string | undefined;
  /** Bodies above this get 413 in Graph's envelope. */
  readonly bodyLimit?: number;
}

export const GRAPH_ROUTES: readonly GraphRoute[] = [
  ...applicationRoutes,
  ...servicePrincipalRoutes,
  ...userRoutes,
  ...userAssignmentRoutes,
  ...groupRoutes,
  ...grantRoutes,
  ...organizationRoutes,
];

const KEYED = /^(applications|servicePrincipals)\(appId='([^']*)'\)$/;

/**
 * Graph's alternate key: `applications(appId='…')` / `servicePrincipals(appId='…')` stand for the object
 * with that appId in the caller's tenant (learn.microsoft.com/graph/api/application-get).
 */
async function resolveAlternateKey(directory: Directory, tenantId: string, path: string): Promise<string> {
  const [first, ...rest] = path.split('/').filter((s) => s !== '');
  const match = first?.match(KEYED);
  if (!match) return path;
  const [, collection, appId] = match as unknown as [string, 'applications' | 'servicePrincipals', string];
  const found =
    collection === 'applications'
      ? await directory.getApplicationByAppId(appId)
      : await directory.getServicePrincipalByAppId(tenantId, appId);
  if (!found || found.tenantId !== tenantId) throw graphError.notFoundId(appId);
  return ['', collection, found.id, ...rest].join('/');
}

/** The management API at `/v1.0/…`: Microsoft Graph's shapes over the Behalf directory. */
export function graphApiRoutes(options: GraphApiOptions): RouteModule {
  return async (app: FastifyInstance) => {
    app.setErrorHandler(graphErrorHandler(options.logger));
    const handler = async (request: FastifyRequest, reply: FastifyReply) => {
      const { requestId, clientRequestId } = requestIds(request);
      reply.header('request-id', requestId).header('client-request-id', clientRequestId);
      const caller = await options.verifyBearer(bearerToken(request.headers.authorization));
      if (!caller) throw graphError.invalidToken();
      const rawPath = request.url.split('?')[0]!.replace(/^\/v1\.0/, '');
      let path: string;
      try {
        path = decodeURIComponent(rawPath);
      } catch {
        throw graphError.badRequest('The request URL is not correctly percent-encoded.');
      }
      path = await resolveAlternateKey(options.directory, caller.tenantId, path);
      const { route, params } = matchRoute(GRAPH_ROUTES, request.method, path);
      requireAccess(caller, route.access);
      const host = request.headers.host ?? request.host;
      const response = await route.handle({
        directory: options.directory,
        caller,
        tenantId: caller.tenantId,
        homeTenantId: options.homeTenantId,
        params,
        body: request.body,
        query: request.query as Record<string, unknown>,
        serviceRoot: `${request.protocol}://${host}/v1.0`,
        path: rawPath,
      });
      reply.code(response.status);
      if (response.headers) reply.headers(response.headers);
      if (response.body === undefined) return reply.send();
      return reply.header('content-type', 'application/json;odata.metadata=minimal').send(response.body);
    };
    const routeOptions = options.bodyLimit !== undefined ? { bodyLimit: options.bodyLimit } : {};
    app.route({ method: ['GET', 'POST', 'PATCH', 'DELETE'], url: '/v1.0/*', handler, ...routeOptions });
  };
}
