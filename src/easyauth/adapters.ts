import type { IncomingMessage, ServerResponse } from 'node:http';
import type { TLSSocket } from 'node:tls';
import type { Decision, EasyAuth } from './easy-auth.ts';
import { applyIdentity } from './easy-auth.ts';
import type { EdgeRequest, EdgeResponse } from './edge.ts';
import type { Principal } from './principal.ts';
import type { Requirement } from './requirement.ts';

/**
 * Easy Auth for the common Node.js server shapes. Each adapter strips incoming `X-MS-*` headers,
 * adds the App Service identity headers, and exposes the principal; none imports its framework.
 */
const principals = new WeakMap<object, Principal>();

/** The caller of a request Easy Auth let through (undefined for anonymous requests). */
export function principalOf(request: object): Principal | undefined {
  return principals.get(request);
}

export function edgeRequestOf(req: IncomingMessage): EdgeRequest {
  return {
    method: req.method ?? 'GET',
    url: req.url ?? '/',
    headers: req.headers,
    secure: (req.socket as TLSSocket).encrypted === true,
  };
}

export function sendEdgeResponse(res: ServerResponse, response: EdgeResponse): void {
  res.writeHead(response.status, response.headers).end(response.body);
}

function applyDecision(
  req: IncomingMessage,
  res: ServerResponse,
  decision: Decision,
): Principal | undefined | false {
  if (decision.action === 'respond') {
    sendEdgeResponse(res, decision.response);
    return false;
  }
  applyIdentity(req.headers, decision.requestHeaders);
  for (const [name, value] of Object.entries(decision.responseHeaders)) res.setHeader(name, value);
  if (decision.principal) principals.set(req, decision.principal);
  return decision.principal;
}

/**
 * node:http: `const who = await authenticate(auth, req, res, { scopes: ['Mail.Read'] }); if (who === false) return;`
 * — `false` means Easy Auth has already answered (challenge, redirect, /.auth page).
 */
export async function authenticate(
  auth: EasyAuth,
  req: IncomingMessage,
  res: ServerResponse,
  requirement?: Requirement,
): Promise<Principal | undefined | false> {
  return applyDecision(req, res, await auth.decide(edgeRequestOf(req), requirement));
}

/** Express/Connect: `app.get('/x', expressMiddleware(auth, { scopes }), handler)`; read `principalOf(req)`. */
export function expressMiddleware(auth: EasyAuth, requirement?: Requirement) {
  return (req: IncomingMessage, res: ServerResponse, next: (error?: unknown) => void): void => {
    auth.decide(edgeRequestOf(req), requirement).then((decision) => {
      if (applyDecision(req, res, decision) !== false) next();
    }, next);
  };
}

/** The slice of Fastify's request and reply a preHandler needs (Easy Auth does not import Fastify). */
interface FastifyLikeRequest {
  readonly raw: IncomingMessage;
  readonly headers: Record<string, unknown>;
}
interface FastifyLikeReply {
  code(status: number): FastifyLikeReply;
  header(name: string, value: string | string[]): FastifyLikeReply;
  send(body: string): unknown;
}

/** Fastify: `app.get('/x', { preHandler: fastifyPreHandler(auth, { scopes }) }, handler)`. */
export function fastifyPreHandler(auth: EasyAuth, requirement?: Requirement) {
  return async (request: FastifyLikeRequest, reply: FastifyLikeReply): Promise<void> => {
    const decision = await auth.decide(edgeRequestOf(request.raw), requirement);
    if (decision.action === 'respond') {
      reply.code(decision.response.status);
      for (const [name, value] of Object.entries(decision.response.headers)) reply.header(name, value);
      await reply.send(decision.response.body);
      return;
    }
    applyIdentity(request.headers, decision.requestHeaders);
    for (const [name, value] of Object.entries(decision.responseHeaders)) reply.header(name, value);
    if (decision.principal) {
      principals.set(request, decision.principal);
      principals.set(request.raw, decision.principal);
    }
  };
}

/**
 * Web-standard handlers (`fetch(request) → Response`: Deno/Bun-style servers, Hono, Next route handlers):
 * the handler receives a copy of the request with the identity headers, and the principal.
 */
export function protectFetchHandler(
  auth: EasyAuth,
  handler: (request: Request, principal: Principal | undefined) => Response | Promise<Response>,
  requirement?: Requirement,
): (request: Request) => Promise<Response> {
  return async (request) => {
    const url = new URL(request.url);
    const headers: Record<string, string> = {};
    request.headers.forEach((value, name) => {
      headers[name] = value;
    });
    const decision = await auth.decide(
      { method: request.method, url: url.pathname + url.search, headers, secure: url.protocol === 'https:' },
      requirement,
    );
    if (decision.action === 'respond') {
      const out = new Headers();
      for (const [name, value] of Object.entries(decision.response.headers))
        for (const v of Array.isArray(value) ? value : [value]) out.append(name, v);
      return new Response(
        decision.response.status === 204 || decision.response.body === '' ? null : decision.response.body,
        {
          status: decision.response.status,
          headers: out,
        },
      );
    }
    const forwarded = new Headers(request.headers);
    for (const name of [...forwarded.keys()]) if (name.startsWith('x-ms-')) forwarded.delete(name);
    for (const [name, value] of Object.entries(decision.requestHeaders)) forwarded.set(name, value);
    const response = await handler(new Request(request, { headers: forwarded }), decision.principal);
    for (const [name, value] of Object.entries(decision.responseHeaders)) response.headers.set(name, value);
    return response;
  };
}
