import { createServer as createHttpServer } from 'node:http';
import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import type { AddressInfo } from 'node:net';
import { authenticate } from '../src/easyauth/index.ts';
import type { EasyAuth, Principal, Requirement } from '../src/easyauth/index.ts';

/**
 * The demo APIs' shared plumbing: a route table (method + path pattern + Easy Auth requirement), JSON
 * in and out, HTTP or HTTPS. Deliberately framework-free: it is what an API author writes with node:http.
 */
export interface ApiRequest {
  readonly principal: Principal;
  readonly params: Record<string, string>;
  readonly query: URLSearchParams;
  readonly body: unknown;
}
export interface ApiResult {
  readonly status: number;
  readonly body?: unknown;
}
export interface Route {
  readonly method: string;
  readonly pattern: RegExp;
  readonly requirement: Requirement;
  handle(request: ApiRequest): ApiResult | Promise<ApiResult>;
}

export interface ServeOptions {
  readonly port?: number;
  readonly host?: string;
  readonly tls?: { readonly key: string; readonly cert: string };
  /** The URL clients use (defaults to http(s)://host:port). */
  readonly publicHost?: string;
}

export interface RunningApi {
  readonly url: string;
  close(): Promise<void>;
}

export async function serveApi(
  auth: EasyAuth,
  routes: readonly Route[],
  notFound: (path: string) => ApiResult,
  badRequest: (message: string) => ApiResult,
  options: ServeOptions,
): Promise<RunningApi> {
  async function handle(req: IncomingMessage, res: ServerResponse) {
    const url = new URL(req.url ?? '/', 'http://x');
    let route: Route | undefined;
    let params: Record<string, string> = {};
    for (const candidate of routes) {
      const match = candidate.method === req.method ? candidate.pattern.exec(url.pathname) : null;
      if (match) {
        route = candidate;
        params = Object.fromEntries(
          Object.entries(match.groups ?? {}).map(([k, v]) => [k, decodeURIComponent(v)]),
        );
        break;
      }
    }
    // Authentication runs before routing results are disclosed, so unknown paths also need a token.
    const principal = await authenticate(auth, req, res, route?.requirement);
    if (principal === false) return;
    if (!route || !principal) return send(res, notFound(url.pathname));
    let body: unknown;
    if (req.method === 'POST') {
      const text = await readBody(req);
      try {
        body = text ? JSON.parse(text) : undefined;
      } catch {
        return send(res, badRequest('The request body is not valid JSON.'));
      }
    }
    send(res, await route.handle({ principal, params, query: url.searchParams, body }));
  }
  const listener = (req: IncomingMessage, res: ServerResponse) => {
    handle(req, res).catch(() => {
      if (!res.headersSent) res.writeHead(500, { 'content-type': 'application/json' });
      res.end(
        JSON.stringify({ error: { code: 'InternalServerError', message: 'An internal error occurred.' } }),
      );
    });
  };
  const server: Server = options.tls ? createHttpsServer(options.tls, listener) : createHttpServer(listener);
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 0, options.host ?? '127.0.0.1', () => resolve());
  });
  const { port } = server.address() as AddressInfo;
  return {
    url: `${options.tls ? 'https' : 'http'}://${options.publicHost ?? options.host ?? '127.0.0.1'}:${port}`,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}

function send(res: ServerResponse, result: ApiResult) {
  if (result.body === undefined) return void res.writeHead(result.status).end();
  res
    .writeHead(result.status, { 'content-type': 'application/json; charset=utf-8' })
    .end(JSON.stringify(result.body));
}

function readBody(req: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size > 1024 * 1024) req.destroy(new Error('body too large'));
      else chunks.push(chunk);
    });
    req.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    req.on('error', reject);
  });
}
