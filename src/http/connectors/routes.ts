import type { FastifyError, FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { isWireError } from '../../core/errors.ts';
import type { Logger } from '../../core/logger.ts';
import type { ConnectorRegistry } from '../../connections/connector-registry.ts';
import type { PackageFiles } from '../../connectors/package.ts';
import { API_DEFINITION, API_PROPERTIES } from '../../connectors/package.ts';
import type { Access, GraphCaller, VerifyBearer } from '../graph/caller.ts';
import { bearerToken, requireAccess } from '../graph/caller.ts';
import { graphError } from '../graph/errors.ts';
import type { RouteModule } from '../server.ts';
import { clientFaultMessage } from '../server.ts';

export interface ConnectorRoutesOptions {
  readonly registry: ConnectorRegistry;
  /**
   * The management API's bearer verification (the Graph management API's, so one admin token serves
   * both). Connectors are app definitions: reading needs Application.Read.All (or
   * Directory.Read.All), writing Application.ReadWrite.All (or Directory.ReadWrite.All).
   */
  readonly verifyBearer: VerifyBearer;
  readonly logger: Logger;
}

export const CONNECTORS_PATH = '/v1.0/behalf/connectors';
/** Real packages reach several MB (Shopranos: 184 operations). */
const BODY_LIMIT = 25 * 1024 * 1024;

interface UploadBody {
  apiDefinition?: unknown;
  apiDefinitionName?: unknown;
  apiProperties?: unknown;
  icon?: unknown;
  script?: unknown;
  secret?: unknown;
}

class BadRequest extends Error {}

function asText(value: unknown): string | undefined {
  if (value === undefined || value === null) return undefined;
  return typeof value === 'string' ? value : JSON.stringify(value, null, 2);
}

/** The upload: file texts (or JSON values), icon as base64, secret write-only. */
function parseUpload(body: unknown): { files: PackageFiles; secret: string | undefined } {
  if (typeof body !== 'object' || body === null) throw new BadRequest('The body must be a JSON object.');
  const b = body as UploadBody;
  const definition = asText(b.apiDefinition);
  if (definition === undefined) throw new BadRequest('"apiDefinition" is required.');
  if (b.secret !== undefined && typeof b.secret !== 'string')
    throw new BadRequest('"secret" must be a string.');
  if (b.icon !== undefined && typeof b.icon !== 'string') throw new BadRequest('"icon" must be base64 text.');
  if (b.script !== undefined && typeof b.script !== 'string') throw new BadRequest('"script" must be text.');
  const properties = asText(b.apiProperties);
  return {
    files: {
      apiDefinition: {
        name: typeof b.apiDefinitionName === 'string' ? b.apiDefinitionName : API_DEFINITION,
        text: definition,
      },
      ...(properties !== undefined ? { apiProperties: { name: API_PROPERTIES, text: properties } } : {}),
      ...(typeof b.icon === 'string' ? { icon: new Uint8Array(Buffer.from(b.icon, 'base64')) } : {}),
      ...(typeof b.script === 'string' ? { script: b.script } : {}),
    },
    secret: typeof b.secret === 'string' ? b.secret : undefined,
  };
}

function errorHandler(logger: Logger) {
  return (error: FastifyError, request: FastifyRequest, reply: FastifyReply) => {
    if (isWireError(error)) return reply.code(error.status).headers(error.headers()).send(error.body());
    if (error instanceof BadRequest)
      return reply.code(400).send({ error: { code: 'BadRequest', message: error.message } });
    const status = error.statusCode;
    if (status !== undefined && status >= 400 && status < 500)
      return reply.code(status).send({ error: { code: 'BadRequest', message: clientFaultMessage(error) } });
    logger.error('connector API error', { method: request.method, url: request.url.split('?')[0], error });
    return reply
      .code(500)
      .send({ error: { code: 'InternalServerError', message: 'An internal error occurred.' } });
  };
}

/** The connector management API (create/update/get/list/delete/download), Graph-style envelopes. */
export function connectorRoutes(options: ConnectorRoutesOptions): RouteModule {
  const { registry } = options;
  const authorize = async (request: FastifyRequest, access: Access): Promise<GraphCaller> => {
    const caller = await options.verifyBearer(bearerToken(request.headers.authorization));
    if (!caller) throw graphError.invalidToken();
    requireAccess(caller, access);
    return caller;
  };
  return (app: FastifyInstance) => {
    app.register(async (scope) => {
      scope.setErrorHandler(errorHandler(options.logger));
      scope.post(CONNECTORS_PATH, { bodyLimit: BODY_LIMIT }, async (request, reply) => {
        const caller = await authorize(request, 'applications.write');
        const { files, secret } = parseUpload(request.body);
        const result = await registry.create(caller.tenantId, files, secret);
        return reply
          .code(201)
          .header('location', `${CONNECTORS_PATH}/${result.connector.id}`)
          .send({ ...result.connector, diagnostics: result.diagnostics });
      });
      scope.put<{ Params: { id: string } }>(
        `${CONNECTORS_PATH}/:id`,
        { bodyLimit: BODY_LIMIT },
        async (request) => {
          const caller = await authorize(request, 'applications.write');
          const { files, secret } = parseUpload(request.body);
          const result = await registry.update(caller.tenantId, request.params.id, files, secret);
          return { ...result.connector, diagnostics: result.diagnostics };
        },
      );
      scope.get(CONNECTORS_PATH, async (request) => {
        const caller = await authorize(request, 'applications.read');
        return { value: await registry.list(caller.tenantId) };
      });
      scope.get<{ Params: { id: string } }>(`${CONNECTORS_PATH}/:id`, async (request) => {
        const caller = await authorize(request, 'applications.read');
        return registry.get(caller.tenantId, request.params.id);
      });
      scope.get<{ Params: { id: string } }>(`${CONNECTORS_PATH}/:id/package`, async (request) => {
        const caller = await authorize(request, 'applications.read');
        const pkg = await registry.download(caller.tenantId, request.params.id);
        return {
          apiDefinitionName: pkg.apiDefinition.name,
          apiDefinition: pkg.apiDefinition.text,
          ...(pkg.apiProperties ? { apiProperties: pkg.apiProperties.text } : {}),
          ...(pkg.icon ? { icon: Buffer.from(pkg.icon).toString('base64') } : {}),
          ...(pkg.script !== undefined ? { script: pkg.script } : {}),
        };
      });
      scope.delete<{ Params: { id: string } }>(`${CONNECTORS_PATH}/:id`, async (request, reply) => {
        const caller = await authorize(request, 'applications.write');
        await registry.delete(caller.tenantId, request.params.id);
        return reply.code(204).send();
      });
    });
  };
}
