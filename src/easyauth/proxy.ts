import { createServer as createHttpServer } from 'node:http';
import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import type { AddressInfo } from 'node:net';
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

/** An upstream failure before the response started: the caller answers 502. */
class UpstreamUnavailable extends Error {}

/**
 * Relays one upstream exchange straight into the client's response from undici's dispatch callbacks:
 * no response `Readable`, `pipe` or `finished()` listeners per request (undici's `request` and
 * `stream` build those, a visible share of the proxy's CPU). Backpressure: a full client socket
 * pauses the upstream until it drains. A client that goes away aborts the upstream request; an
 * upstream that fails mid-body destroys the client response and rejects (logged by the caller).
 */
class Relay implements Dispatcher.DispatchHandler {
  readonly #res: ServerResponse;
  readonly #extraHeaders: Readonly<Record<string, string>>;
  readonly #resolve: () => void;
  readonly #reject: (error: Error) => void;
  #controller: Dispatcher.DispatchController | undefined;
  #done = false;

  constructor(
    res: ServerResponse,
    extraHeaders: Readonly<Record<string, string>>,
    resolve: () => void,
    reject: (error: Error) => void,
  ) {
    this.#res = res;
    this.#extraHeaders = extraHeaders;
    this.#resolve = resolve;
    this.#reject = reject;
    res.once('close', this.#clientClosed);
  }

  readonly #clientClosed = () => {
    if (!this.#done) this.#controller?.abort(new Error('the client closed the connection'));
  };

  #finish(error?: Error) {
    if (this.#done) return;
    this.#done = true;
    this.#res.off('close', this.#clientClosed);
    if (error) this.#reject(error);
    else this.#resolve();
  }

  onRequestStart(controller: Dispatcher.DispatchController): void {
    this.#controller = controller;
    if (this.#res.destroyed) controller.abort(new Error('the client closed the connection'));
  }

  onResponseStart(
    _controller: Dispatcher.DispatchController,
    statusCode: number,
    headers: Record<string, string | string[] | undefined>,
  ): void {
    // 1xx interim responses are the upstream connection's business, not the client's.
    if (statusCode < 200) return;
    const out: Record<string, string | string[]> = {};
    for (const name of Object.keys(headers)) {
      const value = headers[name];
      if (value !== undefined && !HOP_BY_HOP.has(name)) out[name] = value;
    }
    Object.assign(out, this.#extraHeaders);
    this.#res.writeHead(statusCode, out);
  }

  onResponseData(controller: Dispatcher.DispatchController, chunk: Buffer): void {
    if (!this.#res.write(chunk)) {
      controller.pause();
      this.#res.once('drain', () => controller.resume());
    }
  }

  onResponseEnd(): void {
    this.#res.end();
    this.#finish();
  }

  onResponseError(_controller: Dispatcher.DispatchController, error: Error): void {
    const res = this.#res;
    if (res.destroyed && !res.writableFinished) return this.#finish(); // the client left first
    if (!res.headersSent) return this.#finish(new UpstreamUnavailable('upstream failed', { cause: error }));
    res.destroy(error);
    this.#finish(error);
  }
}

export async function startReverseProxy(options: ReverseProxyOptions): Promise<ReverseProxy> {
  const auth = createEasyAuth(options);
  const logger = options.logger ?? silentLogger;
  const upstream = new URL(options.upstream);
  const pathPrefix = upstream.pathname.replace(/\/$/, '');
  const pool = new Pool(upstream.origin, { connections: options.connections ?? 32, pipelining: 1 });

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const edge = edgeRequestOf(req);
    const decision = await auth.decide(edge, options.requirement);
    if (decision.action === 'respond') return sendEdgeResponse(res, decision.response);
    const incoming = req.headers;
    const headers: Record<string, string | string[]> = {};
    for (const name of Object.keys(incoming)) {
      const value = incoming[name];
      if (value !== undefined && !HOP_BY_HOP.has(name) && !isSpoofableHeader(name)) headers[name] = value;
    }
    Object.assign(headers, decision.requestHeaders);
    headers['x-forwarded-for'] = req.socket.remoteAddress ?? '';
    headers['x-forwarded-proto'] = edge.secure ? 'https' : 'http';
    headers['x-forwarded-host'] = incoming.host ?? '';
    const hasBody = req.method !== 'GET' && req.method !== 'HEAD';
    try {
      await new Promise<void>((resolve, reject) => {
        pool.dispatch(
          {
            method: (req.method ?? 'GET') as Dispatcher.HttpMethod,
            path: pathPrefix + (req.url ?? '/'),
            headers,
            body: hasBody ? req : null,
          },
          new Relay(res, decision.responseHeaders, resolve, reject),
        );
      });
    } catch (error) {
      if (!(error instanceof UpstreamUnavailable)) throw error;
      logger.warn('upstream request failed', { upstream: upstream.origin, error: error.cause });
      sendEdgeResponse(
        res,
        jsonResponse(502, {
          error: 'bad_gateway',
          error_description: 'The upstream application did not answer.',
        }),
      );
    }
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
