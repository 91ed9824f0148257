import Fastify from 'fastify';
import type { FastifyError, FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { isWireError } from '../core/errors.ts';
import type { Logger } from '../core/logger.ts';

export interface TlsMaterial {
  readonly key: string;
  readonly cert: string;
}

/** A feature's routes: a Fastify plugin registered under the app, given the services it needs. */
export type RouteModule = (app: FastifyInstance) => Promise<void> | void;

export interface HttpServerOptions {
  readonly logger: Logger;
  readonly tls?: TlsMaterial;
  /** Bodies above this are refused with 413 before they are parsed. */
  readonly bodyLimit?: number;
  readonly routes: readonly RouteModule[];
}

/**
 * The HTTP edge. Wire errors are serialised here and only here; anything else is logged and answered
 * with a bare 500, so no stack trace or internal message reaches a client (ARCHITECTURE.md, "Two error
 * families"). Feature plugins may install their own error handler to shape framework errors (bad JSON,
 * oversized bodies) into their protocol's envelope.
 */
export async function createHttpServer(options: HttpServerOptions): Promise<FastifyInstance> {
  const app = Fastify({
    ...(options.tls ? { https: { key: options.tls.key, cert: options.tls.cert } } : {}),
    bodyLimit: options.bodyLimit ?? 1024 * 1024,
    logger: false,
    // Entra accepts both /path and /path/; so do we.
    routerOptions: { ignoreTrailingSlash: true, maxParamLength: 500 },
    keepAliveTimeout: 65_000,
  });
  app.setErrorHandler(defaultErrorHandler(options.logger));
  app.setNotFoundHandler((request, reply) =>
    reply
      .code(404)
      .send({ error: 'not_found', message: `No route for ${request.method} ${request.url.split('?')[0]}` }),
  );
  for (const route of options.routes) await app.register(route);
  return app;
}

export function defaultErrorHandler(logger: Logger) {
  return (error: FastifyError, request: FastifyRequest, reply: FastifyReply) => {
    if (isWireError(error)) return reply.code(error.status).headers(error.headers()).send(error.body());
    const status = error.statusCode;
    if (status !== undefined && status >= 400 && status < 500) {
      // Framework-level client faults (malformed JSON, body too large, unsupported media type).
      return reply.code(status).send({ error: 'invalid_request', message: clientFaultMessage(error) });
    }
    logger.error('unhandled error', { method: request.method, url: request.url.split('?')[0], error });
    return reply.code(500).send({
      error: 'server_error',
      message: 'An internal error occurred. The details are in the server log.',
    });
  };
}

/** A framework error's message, phrased for a client and free of internals. */
export function clientFaultMessage(error: FastifyError): string {
  switch (error.code) {
    case 'FST_ERR_CTP_INVALID_JSON_BODY':
    case 'FST_ERR_CTP_EMPTY_JSON_BODY':
      return 'The request body is not valid JSON.';
    case 'FST_ERR_CTP_BODY_TOO_LARGE':
      return 'The request body is too large.';
    case 'FST_ERR_CTP_INVALID_MEDIA_TYPE':
      return `Unsupported content type.`;
    default:
      return error.message.replace(/\n[\s\S]*/, '');
  }
}
