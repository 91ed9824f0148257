import { createServer as createHttpServer } from 'node:http';
import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import type { AddressInfo } from 'node:net';
import type { Readable } from 'node:stream';
import { Pool } from 'undici';
import type { Dispatcher } from 'undici';
import type { Logger } from '../core/logger.ts';
import { silentLogger } from '../core/logger.ts';
import { edgeRequestOf, sendEdgeResponse } from './adapters.ts';
import { isSpoofableHeader } from './client-principal.ts';
import type { EasyAuthOptions } from './easy-auth.ts';
import { createEasyAuth } from './easy-auth.ts';
import { jsonResponse } from './edge.ts';
import type { Requirement } from './requirement.ts';

/**
 * `behalf protect`: Easy Auth as a reverse proxy in front of an app written in anything. The app
 * receives the App Service identity headers and never sees a client-supplied `X-MS-*` header.
 */
export interface ReverseProxyOptions extends EasyAuthOptions {
  /** `http://127.0.0.1:3000` (an HTTPS upstream works too). */
  readonly upstream: string;
  readonly port: number;
  readonly host?: string;
  /** Serve HTTPS with this key and certificate (PEM). */
  readonly tls?: { readonly key: string; readonly cert: string };
  /** Applied to every request (e.g. a scope every caller must hold). */
  readonly requirement?: Requirement;
  /** Upstream connections kept open. */
  readonly connections?: number;
  readonly logger?: Logger;
}

export interface ReverseProxy {
  readonly url: string;
  readonly server: Server;
  close(): Promise<void>;
}

// RFC 9110 §7.6.1: connection-specific fields are not forwarded by a proxy.
const HOP_BY_HOP = new Set([
  'connection',
  'keep-alive',
  'proxy-authenticate',
  'proxy-authorization',
  'proxy-connection',
  'te',
  'trailer',
  'transfer-encoding',
  'upgrade',
  'host',
]);

/**
 * Streams the upstream body to the client. Not `stream.pipeline`: on Node 20 it allocates an
 * AbortController per call and aborts it on completion, building a DOMException (with its stack) for
 * every proxied response, a visible share of the proxy's CPU. An upstream failure mid-body destroys
 * the client response and rejects (logged by the caller); a client that goes away stops the upstream.
 */
function relay(body: Readable, res: ServerResponse): Promise<void> {
  return new Promise((resolve, reject) => {
    body.on('error', (error) => {
      res.destroy(error);
      reject(error);
    });
    res.once('close', () => {
      if (!body.readableEnded) body.destroy();
      resolve();
    });
    body.pipe(res);
  });
}

export async function startReverseProxy(options: ReverseProxyOptions): Promise<ReverseProxy> {
  const auth = createEasyAuth(options);
  const logger = options.logger ?? silentLogger;
  const upstream = new URL(options.upstream);
  const pool = new Pool(upstream.origin, { connections: options.connections ?? 32, pipelining: 1 });

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const edge = edgeRequestOf(req);
    const decision = await auth.decide(edge, options.requirement);
    if (decision.action === 'respond') return sendEdgeResponse(res, decision.response);
    const headers: Record<string, string | string[]> = {};
    for (const [name, value] of Object.entries(req.headers))
      if (value !== undefined && !HOP_BY_HOP.has(name) && !isSpoofableHeader(name)) headers[name] = value;
    Object.assign(headers, decision.requestHeaders);
    headers['x-forwarded-for'] = req.socket.remoteAddress ?? '';
    headers['x-forwarded-proto'] = edge.secure ? 'https' : 'http';
    headers['x-forwarded-host'] = req.headers.host ?? '';
    const hasBody = req.method !== 'GET' && req.method !== 'HEAD';
    let upstreamResponse: Dispatcher.ResponseData;
    try {
      upstreamResponse = await pool.request({
        method: (req.method ?? 'GET') as Dispatcher.HttpMethod,
        path: upstream.pathname.replace(/\/$/, '') + (req.url ?? '/'),
        headers,
        body: hasBody ? req : null,
      });
    } catch (error) {
      logger.warn('upstream request failed', { upstream: upstream.origin, error });
      return sendEdgeResponse(
        res,
        jsonResponse(502, {
          error: 'bad_gateway',
          error_description: 'The upstream application did not answer.',
        }),
      );
    }
    const outHeaders: Record<string, string | string[]> = {};
    for (const [name, value] of Object.entries(upstreamResponse.headers))
      if (value !== undefined && !HOP_BY_HOP.has(name)) outHeaders[name] = value;
    Object.assign(outHeaders, decision.responseHeaders);
    res.writeHead(upstreamResponse.statusCode, outHeaders);
    await relay(upstreamResponse.body, res);
  }

  const listener = (req: IncomingMessage, res: ServerResponse) => {
    handle(req, res).catch((error: unknown) => {
      logger.error('easy auth proxy error', { method: req.method, url: req.url?.split('?')[0], error });
      if (!res.headersSent)
        sendEdgeResponse(
          res,
          jsonResponse(500, { error: 'server_error', error_description: 'An internal error occurred.' }),
        );
      else res.destroy();
    });
  };
  const server = options.tls
    ? createHttpsServer({ key: options.tls.key, cert: options.tls.cert }, listener)
    : createHttpServer(listener);
  server.keepAliveTimeout = 65_000;
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port, options.host ?? '127.0.0.1', () => resolve());
  });
  const { port } = server.address() as AddressInfo;
  const host = options.host && options.host !== '0.0.0.0' ? options.host : '127.0.0.1';
  return {
    url: `${options.tls ? 'https' : 'http'}://${host.includes(':') ? `[${host}]` : host}:${port}`,
    server,
    async close() {
      await new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      });
      await pool.close();
    },
  };
}
