import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { Clock } from '../../core/clock.ts';
import type { Random } from '../../core/ids.ts';
import { isGuid } from '../../core/ids.ts';
import type { Logger } from '../../core/logger.ts';
import { EntraError, entraError } from '../../idp/errors/entra-error.ts';
import type { TokenService } from '../../idp/token-service.ts';
import type { TokenVersion } from '../../idp/urls.ts';
import type { RouteModule } from '../server.ts';

export interface IdpRouteDeps {
  readonly tokens: TokenService;
  readonly clock: Clock;
  readonly random: Random;
  readonly logger: Logger;
}

// Recorded Entra headers (entra-protocol.md §1.3, §2).
const METADATA_HEADERS = {
  'cache-control': 'max-age=86400, private',
  'access-control-allow-origin': '*',
  'access-control-allow-methods': 'GET, OPTIONS',
};
const TOKEN_HEADERS = { 'cache-control': 'no-store, no-cache', pragma: 'no-cache', expires: '-1' };

type Params = { tenant: string };

/**
 * The Fastify binding of the token service: discovery (v1/v2), JWKS (v1/v2), instance discovery and
 * the token endpoints. Every failure leaves as Entra's JSON error body with a trace id (also sent as
 * `x-ms-request-id`) and a correlation id (the client's `client-request-id` when it sends a GUID —
 * UNCONFIRMED that Entra echoes it, MSAL compares them when present).
 */
export function idpTokenRoutes(deps: IdpRouteDeps): RouteModule {
  return async (app) => {
    await app.register(async (scope) => registerRoutes(scope, deps));
  };
}

function isClientFault(error: unknown): boolean {
  const status = (error as { statusCode?: unknown } | null)?.statusCode;
  return typeof status === 'number' && status >= 400 && status < 500;
}

function requestIds(request: FastifyRequest, random: Random) {
  const sent = request.headers['client-request-id'];
  const correlationId = typeof sent === 'string' && isGuid(sent) ? sent : random.uuid();
  return { traceId: random.uuid(), correlationId };
}

function registerRoutes(scope: FastifyInstance, deps: IdpRouteDeps): void {
  scope.addContentTypeParser(
    'application/x-www-form-urlencoded',
    { parseAs: 'string', bodyLimit: 256 * 1024 },
    (_request, body, done) => {
      const form: Record<string, string> = {};
      // The first occurrence wins; later duplicates are ignored rather than concatenated.
      for (const [key, value] of new URLSearchParams(body as string)) if (!(key in form)) form[key] = value;
      done(null, form);
    },
  );

  scope.setErrorHandler((error, request, reply) => {
    const ids = requestIds(request, deps.random);
    let wire: EntraError;
    if (error instanceof EntraError) wire = error;
    else if (isClientFault(error)) {
      // Framework faults (no or unparsable body, wrong content type): Entra reports the missing grant_type.
      wire = entraError(900144, { name: 'grant_type' });
    } else {
      deps.logger.error('token service failure', {
        url: request.url.split('?')[0],
        traceId: ids.traceId,
        error,
      });
      return reply
        .code(500)
        .headers({ ...TOKEN_HEADERS, 'x-ms-request-id': ids.traceId })
        .send({
          error: 'server_error',
          error_description: `An internal error occurred.\r\nTrace ID: ${ids.traceId}\r\nCorrelation ID: ${ids.correlationId}`,
          trace_id: ids.traceId,
          correlation_id: ids.correlationId,
        });
    }
    wire.withContext({ ...ids, now: deps.clock.now() });
    return reply.code(wire.status).headers(wire.headers()).send(wire.body());
  });

  const metadata =
    (build: (tenant: string) => Promise<unknown> | unknown) =>
    async (request: FastifyRequest, reply: FastifyReply) => {
      const body = await build((request.params as Params).tenant);
      return reply.headers(METADATA_HEADERS).header('x-ms-request-id', deps.random.uuid()).send(body);
    };

  for (const [path, version] of [
    ['/:tenant/v2.0/.well-known/openid-configuration', 2],
    ['/:tenant/.well-known/openid-configuration', 1],
  ] as const) {
    scope.get(
      path,
      metadata((tenant) => deps.tokens.discovery(tenant, version)),
    );
  }
  for (const [path, version] of [
    ['/:tenant/discovery/v2.0/keys', 2],
    ['/:tenant/discovery/keys', 1],
  ] as const) {
    scope.get(
      path,
      metadata((tenant) => deps.tokens.keys(tenant, version)),
    );
  }
  scope.get('/common/discovery/instance', async (request, reply) => {
    const query = request.query as Record<string, string | undefined>;
    return reply
      .headers(METADATA_HEADERS)
      .send(deps.tokens.instanceDiscovery(query['authorization_endpoint']));
  });

  for (const [path, version] of [
    ['/:tenant/oauth2/v2.0/token', 2],
    ['/:tenant/oauth2/token', 1],
  ] as const) {
    scope.post(path, async (request, reply) => tokenHandler(deps, version, request, reply));
  }
}

async function tokenHandler(
  deps: IdpRouteDeps,
  version: TokenVersion,
  request: FastifyRequest,
  reply: FastifyReply,
) {
  const form = request.body;
  if (form === null || typeof form !== 'object') throw entraError(900144, { name: 'grant_type' });
  const body = await deps.tokens.token({
    endpoint: version,
    tenantSegment: (request.params as Params).tenant,
    form: form as Record<string, string>,
    basic: basicCredentials(request.headers.authorization),
  });
  return reply.headers({ ...TOKEN_HEADERS, 'x-ms-request-id': deps.random.uuid() }).send(body);
}

/** RFC 6749 §2.3.1: client_id and secret are form-urlencoded before being joined and base64-encoded. */
function basicCredentials(header: string | undefined): { clientId: string; secret: string } | undefined {
  if (!header || !/^basic /i.test(header)) return undefined;
  const decoded = Buffer.from(header.slice(6).trim(), 'base64').toString('utf8');
  const colon = decoded.indexOf(':');
  if (colon < 0) throw entraError(9002313);
  try {
    return {
      clientId: decodeURIComponent(decoded.slice(0, colon).replace(/\+/g, ' ')),
      secret: decodeURIComponent(decoded.slice(colon + 1).replace(/\+/g, ' ')),
    };
  } catch {
    throw entraError(9002313);
  }
}
