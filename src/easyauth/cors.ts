import type { EdgeRequest, EdgeResponse } from './edge.ts';
import { header } from './edge.ts';

/**
 * A CORS allowlist (the seeds' "allow-list the API Management domains"). Preflights are answered
 * before authentication because browsers never attach credentials to them (Fetch standard, CORS
 * protocol); an origin outside the list simply gets no CORS headers.
 */
export interface CorsOptions {
  /** Exact origins (`https://portal.contoso.test`) or `*` for any origin without credentials. */
  readonly allowedOrigins: readonly string[];
  readonly allowCredentials?: boolean;
  readonly maxAgeSeconds?: number;
}

export interface Cors {
  preflight(request: EdgeRequest): EdgeResponse | undefined;
  /** Headers to add to the actual response. */
  responseHeaders(request: EdgeRequest): Readonly<Record<string, string>>;
}

const NONE: Readonly<Record<string, string>> = Object.freeze({});

export function createCors(options: CorsOptions | undefined): Cors {
  const origins = new Set(options?.allowedOrigins ?? []);
  const any = origins.has('*');
  const allowed = (origin: string | undefined): origin is string => !!origin && (any || origins.has(origin));
  const base = (origin: string): Record<string, string> => ({
    'access-control-allow-origin': any && !options?.allowCredentials ? '*' : origin,
    vary: 'Origin',
    ...(options?.allowCredentials ? { 'access-control-allow-credentials': 'true' } : {}),
  });
  return {
    preflight(request) {
      if (request.method !== 'OPTIONS' || !header(request.headers, 'access-control-request-method'))
        return undefined;
      const origin = header(request.headers, 'origin');
      if (!allowed(origin)) return { status: 403, headers: { vary: 'Origin' }, body: '' };
      return {
        status: 204,
        headers: {
          ...base(origin),
          'access-control-allow-methods': 'GET, POST, PUT, PATCH, DELETE, OPTIONS',
          'access-control-allow-headers':
            header(request.headers, 'access-control-request-headers') ?? 'authorization, content-type',
          'access-control-max-age': String(options?.maxAgeSeconds ?? 600),
        },
        body: '',
      };
    },
    responseHeaders(request) {
      const origin = header(request.headers, 'origin');
      return allowed(origin) ? base(origin) : NONE;
    },
  };
}
