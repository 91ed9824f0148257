import type { FastifyError, FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { isWireError } from '../../core/errors.ts';
import type { Logger } from '../../core/logger.ts';
import type { WorkloadIdentityIssuer } from '../../connections/acquisition/workload-identity.ts';
import { WORKLOAD_IDENTITY_PATH } from '../../connections/acquisition/workload-identity.ts';
import type { CallerVerifier } from '../../connections/caller-verifier.ts';
import type { ConsentFlow } from '../../connections/consent-flow.ts';
import { ConnectionError } from '../../connections/errors.ts';
import { BEHALF_REDIRECT_PATH } from '../../connections/consent-flow.ts';
import { resolveDynamicValues } from '../../gateway/dynamic-values.ts';
import type { Gateway } from '../../gateway/invoke.ts';
import type { RouteModule } from '../server.ts';
import { clientFaultMessage } from '../server.ts';

/**
 * The gateway's HTTP face: `POST /apim/{connectorId}/{connectionId}/{operationId}` with JSON arguments
 * and APIM's path style `/apim/{connectorId}/{connectionId}/{path}`; the consent link and the
 * connector redirect URLs; the workload-identity issuer's discovery document and JWKS.
 * `{connectionId}` may be `default`: the caller's own connection, SSO, or a shared one.
 */
export interface GatewayRoutesOptions {
  readonly gateway: Gateway;
  readonly verifier: CallerVerifier;
  readonly consent: ConsentFlow;
  readonly issuer: WorkloadIdentityIssuer;
  readonly logger: Logger;
}

const AUTO = new Set(['default', '-', '_']);
/** `$` keeps it apart from any real API path relayed in APIM's path style. */
export const DYNAMIC_VALUES_SEGMENT = '$dynamicValues';

const badRequest = (message: string) =>
  new ConnectionError(400, 'BadRequest', message, { remediation: message });

function envelopeErrors(logger: Logger) {
  return (error: FastifyError, request: FastifyRequest, reply: FastifyReply) => {
    if (isWireError(error)) return reply.code(error.status).headers(error.headers()).send(error.body());
    const status = error.statusCode;
    if (status !== undefined && status >= 400 && status < 500)
      return reply.code(status).send({ error: { code: 'BadRequest', message: clientFaultMessage(error) } });
    logger.error('gateway route failed', { method: request.method, url: request.url.split('?')[0], error });
    return reply
      .code(500)
      .send({ error: { code: 'InternalServerError', message: 'An internal error occurred.' } });
  };
}

const page = (title: string, text: string) =>
  `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>${title}</title>` +
  `<meta name="viewport" content="width=device-width"></head><body style="font-family:system-ui;max-width:36rem;margin:4rem auto">` +
  `<h1>${title}</h1><p>${text}</p></body></html>`;

const escape = (text: string) => text.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);

export function gatewayRoutes(options: GatewayRoutesOptions): RouteModule {
  const { gateway, verifier, consent, issuer } = options;
  return (app: FastifyInstance) => {
    app.register(async (scope) => {
      scope.setErrorHandler(envelopeErrors(options.logger));
      scope.addContentTypeParser('*', { parseAs: 'string' }, (_req, body, done) => done(null, body));

      // A parameter's choices (x-ms-dynamic-values / -list), run through the same path as a call.
      // Body: { parameter, arguments? }; `parameter` may be `body/{property}`.
      scope.post<{ Params: { connectorId: string; connectionId: string; operationId: string } }>(
        `/apim/:connectorId/:connectionId/:operationId/${DYNAMIC_VALUES_SEGMENT}`,
        async (request) => {
          const caller = await verifier.verify(request.headers.authorization);
          const { connectorId, connectionId, operationId } = request.params;
          const body = request.body as { parameter?: unknown; arguments?: unknown } | null | undefined;
          if (typeof body !== 'object' || body === null || typeof body.parameter !== 'string')
            throw badRequest('The body must be { "parameter": "<name>", "arguments": { … } }.');
          const args = body.arguments ?? {};
          if (typeof args !== 'object' || args === null || Array.isArray(args))
            throw badRequest('"arguments" must be a JSON object.');
          return resolveDynamicValues(gateway, caller, {
            connectorId,
            ...(AUTO.has(connectionId) ? {} : { connectionId }),
            operationId: decodeURIComponent(operationId),
            parameter: body.parameter,
            arguments: args as Record<string, unknown>,
          });
        },
      );

      scope.all<{ Params: { connectorId: string; connectionId: string; '*': string } }>(
        '/apim/:connectorId/:connectionId/*',
        async (request, reply) => {
          const caller = await verifier.verify(request.headers.authorization);
          const { connectorId, connectionId } = request.params;
          const rest = request.params['*'];
          const correlationHeader = request.headers['x-ms-client-request-id'];
          const correlationId =
            typeof correlationHeader === 'string' && correlationHeader.length <= 100
              ? correlationHeader
              : undefined;
          const agentHeader = request.headers['x-ms-agent'];
          const common = {
            connectorId,
            ...(AUTO.has(connectionId) ? {} : { connectionId }),
            ...(correlationId !== undefined ? { correlationId } : {}),
            ...(typeof agentHeader === 'string' ? { agent: agentHeader.slice(0, 200) } : {}),
          };
          let operationId: string;
          let args: Record<string, unknown>;
          const body = request.body;
          if (request.method === 'POST' && !rest.includes('/')) {
            // The operation style: the body is the arguments object.
            if (body !== undefined && body !== null && (typeof body !== 'object' || Array.isArray(body)))
              return reply.code(400).send({
                error: { code: 'BadRequest', message: 'The body must be a JSON object of arguments.' },
              });
            operationId = decodeURIComponent(rest);
            args = (body as Record<string, unknown> | undefined) ?? {};
          } else {
            const found = await gateway.operationFor(caller, connectorId, request.method, `/${rest}`);
            operationId = found.operation.operationId;
            args = { ...(request.query as Record<string, unknown>), ...found.pathArguments };
            const bodyParameter = found.operation.parameters.find((p) => p.in === 'body');
            if (bodyParameter && body !== undefined) args[bodyParameter.name] = body;
          }
          const result = await gateway.invoke(caller, { ...common, operationId, arguments: args });
          reply.code(result.status).header('x-ms-correlation-id', result.correlationId);
          if (result.rawBody !== undefined) {
            // No policy changed the body: relay the upstream bytes as APIM does, without a parse and
            // a re-serialisation.
            if (result.rawBody.length === 0) return reply.send();
            return reply.header('content-type', result.contentType ?? 'text/plain').send(result.rawBody);
          }
          if (result.body === undefined) return reply.send();
          if (typeof result.body === 'string')
            return reply.header('content-type', result.contentType ?? 'text/plain').send(result.body);
          return reply
            .header('content-type', 'application/json; charset=utf-8')
            .send(JSON.stringify(result.body));
        },
      );

      scope.get<{ Params: { connectorId: string }; Querystring: { ticket?: string } }>(
        '/consent/:connectorId',
        async (request, reply) => {
          const authorize = await consent.begin(request.params.connectorId, request.query.ticket ?? '');
          return reply.redirect(authorize, 302);
        },
      );

      const finish = async (request: FastifyRequest, reply: FastifyReply) => {
        try {
          const result = await consent.complete(request.query as Record<string, string>);
          return reply
            .type('text/html; charset=utf-8')
            .send(
              page(
                'Connected',
                `You can close this window and go back: ${escape(result.connectorId)} is ready to use.`,
              ),
            );
        } catch (error) {
          if (!isWireError(error)) throw error;
          const body = error.body() as { error?: { message?: string } };
          return reply
            .code(error.status)
            .type('text/html; charset=utf-8')
            .send(page('Not connected', escape(body.error?.message ?? 'The sign-in did not complete.')));
        }
      };
      scope.get('/redirect/:connectorId', finish);
      scope.get(BEHALF_REDIRECT_PATH, finish);

      scope.get(`${WORKLOAD_IDENTITY_PATH}/.well-known/openid-configuration`, async () => issuer.discovery());
      scope.get(`${WORKLOAD_IDENTITY_PATH}/.well-known/jwks.json`, async () => issuer.jwks());
    });
  };
}
