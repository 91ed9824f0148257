import { Pool } from 'undici';
import type { Dispatcher } from 'undici';

/**
 * The one outbound HTTP client of connections and the gateway: an undici Pool per origin (keep-alive,
 * no global fetch on the hot path: fetch costs ~10× more CPU per request, reference/performance.md
 * §2a), bounded by timeouts and a response size limit, retrying 429 and 503 with exponential backoff
 * and full jitter while honouring Retry-After (RFC 9110 §10.2.3), a bounded number of times.
 */
export interface OutboundRequest {
  readonly method: string;
  readonly url: string | URL;
  readonly headers?: Readonly<Record<string, string>>;
  readonly body?: string | Buffer;
  /** Overrides the client's timeout for this call (headers and body each). */
  readonly timeoutMs?: number;
  readonly maxResponseBytes?: number;
  /** Retry 429/503 (default true). */
  readonly retry?: boolean;
}

export interface OutboundResponse {
  readonly status: number;
  readonly headers: Readonly<Record<string, string | string[] | undefined>>;
  readonly body: Buffer;
  readonly attempts: number;
}

export type UpstreamFailure = 'unreachable' | 'timeout' | 'too-large';

/** Names the host and what went wrong; the gateway turns it into a 502/504 naming the host. */
export class UpstreamError extends Error {
  readonly failure: UpstreamFailure;
  readonly host: string;
  constructor(failure: UpstreamFailure, host: string, options?: { cause?: unknown }) {
    super(
      `${failure === 'timeout' ? 'timed out calling' : failure === 'too-large' ? 'response too large from' : 'could not reach'} ${host}`,
      options,
    );
    this.name = 'UpstreamError';
    this.failure = failure;
    this.host = host;
  }
}

export interface RetryPolicy {
  /** Total attempts including the first. */
  readonly maxAttempts: number;
  readonly baseDelayMs: number;
  readonly maxDelayMs: number;
  /** A Retry-After beyond this is not waited for: the 429/503 is returned as it is. */
  readonly maxRetryAfterMs: number;
}

export interface OutboundHttpOptions {
  readonly timeoutMs?: number;
  readonly maxResponseBytes?: number;
  readonly connectionsPerOrigin?: number;
  readonly retry?: Partial<RetryPolicy>;
  /** Extra trusted CA certificates (PEM), e.g. Behalf's local CA for its own demo APIs. */
  readonly ca?: string | readonly string[];
  /** A number in [0, 1): injected so tests can pin the jitter. */
  readonly random?: () => number;
  readonly sleep?: (ms: number) => Promise<void>;
  readonly now?: () => number;
}

export interface OutboundHttp {
  request(request: OutboundRequest): Promise<OutboundResponse>;
  close(): Promise<void>;
}

const RETRYABLE = new Set([429, 503]);

export const DEFAULT_RETRY: RetryPolicy = {
  maxAttempts: 3,
  baseDelayMs: 100,
  maxDelayMs: 2_000,
  maxRetryAfterMs: 5_000,
};

/** Retry-After is either delay-seconds or an HTTP-date (RFC 9110 §10.2.3). */
export function parseRetryAfter(value: string | string[] | undefined, now: number): number | undefined {
  const text = Array.isArray(value) ? value[0] : value;
  if (text === undefined || text.trim() === '') return undefined;
  if (/^\d+$/.test(text.trim())) return Number(text.trim()) * 1000;
  const date = Date.parse(text);
  return Number.isNaN(date) ? undefined : Math.max(0, date - now);
}

/** Exponential backoff with full jitter (AWS Architecture Blog, "Exponential Backoff And Jitter"). */
export function backoffDelay(attempt: number, policy: RetryPolicy, random: () => number): number {
  const ceiling = Math.min(policy.maxDelayMs, policy.baseDelayMs * 2 ** (attempt - 1));
  return Math.floor(random() * ceiling);
}

export function createOutboundHttp(options: OutboundHttpOptions = {}): OutboundHttp {
  const timeoutMs = options.timeoutMs ?? 30_000;
  const maxBytes = options.maxResponseBytes ?? 10 * 1024 * 1024;
  const policy: RetryPolicy = { ...DEFAULT_RETRY, ...options.retry };
  const random = options.random ?? Math.random;
  const sleep = options.sleep ?? ((ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms)));
  const now = options.now ?? Date.now;
  const pools = new Map<string, Pool>();

  const poolFor = (url: URL): Pool => {
    let pool = pools.get(url.origin);
    if (!pool) {
      pool = new Pool(url.origin, {
        connections: options.connectionsPerOrigin ?? 64,
        keepAliveTimeout: 30_000,
        ...(options.ca ? { connect: { ca: options.ca as string | string[] } } : {}),
      });
      pools.set(url.origin, pool);
    }
    return pool;
  };

  const once = async (url: URL, request: OutboundRequest): Promise<Omit<OutboundResponse, 'attempts'>> => {
    const limit = request.maxResponseBytes ?? maxBytes;
    const timeout = request.timeoutMs ?? timeoutMs;
    let response: Dispatcher.ResponseData;
    try {
      response = await poolFor(url).request({
        origin: url.origin,
        path: url.pathname + url.search,
        method: request.method as Dispatcher.HttpMethod,
        headers: { ...request.headers },
        ...(request.body !== undefined ? { body: request.body } : {}),
        headersTimeout: timeout,
        bodyTimeout: timeout,
      });
    } catch (error) {
      throw transportFailure(error, url.host);
    }
    const declared = Number(response.headers['content-length']);
    if (Number.isFinite(declared) && declared > limit) {
      response.body.destroy();
      throw new UpstreamError('too-large', url.host);
    }
    if (Number.isFinite(declared)) {
      // A declared length within the limit (undici refuses a body that differs from it): read it whole,
      // which costs less than iterating the stream (measured: ~2% of a gateway call).
      try {
        const body = Buffer.from(await response.body.arrayBuffer());
        return { status: response.statusCode, headers: response.headers, body };
      } catch (error) {
        throw transportFailure(error, url.host);
      }
    }
    const chunks: Buffer[] = [];
    let size = 0;
    try {
      for await (const chunk of response.body) {
        size += (chunk as Buffer).length;
        if (size > limit) {
          response.body.destroy();
          throw new UpstreamError('too-large', url.host);
        }
        chunks.push(chunk as Buffer);
      }
    } catch (error) {
      if (error instanceof UpstreamError) throw error;
      throw transportFailure(error, url.host);
    }
    return { status: response.statusCode, headers: response.headers, body: Buffer.concat(chunks) };
  };

  return {
    async request(request) {
      const url = typeof request.url === 'string' ? new URL(request.url) : request.url;
      const attemptsAllowed = request.retry === false ? 1 : Math.max(1, policy.maxAttempts);
      for (let attempt = 1; ; attempt++) {
        const response = await once(url, request);
        if (!RETRYABLE.has(response.status) || attempt >= attemptsAllowed)
          return { ...response, attempts: attempt };
        const retryAfter = parseRetryAfter(response.headers['retry-after'], now());
        if (retryAfter !== undefined && retryAfter > policy.maxRetryAfterMs)
          return { ...response, attempts: attempt };
        await sleep(retryAfter ?? backoffDelay(attempt, policy, random));
      }
    },
    async close() {
      await Promise.all([...pools.values()].map((pool) => pool.close()));
      pools.clear();
    },
  };
}

/** A failed connection or read: the upstream took too long, or could not be reached. */
function transportFailure(error: unknown, host: string): UpstreamError {
  return new UpstreamError(isTimeout(error) ? 'timeout' : 'unreachable', host, { cause: error });
}

function isTimeout(error: unknown): boolean {
  const code = (error as { code?: string } | null)?.code;
  return (
    code === 'UND_ERR_HEADERS_TIMEOUT' ||
    code === 'UND_ERR_BODY_TIMEOUT' ||
    code === 'UND_ERR_CONNECT_TIMEOUT'
  );
}
