/**
 * The framework-neutral request and response Easy Auth reasons about; the adapters (node:http,
 * Express, Fastify, fetch `Request`, the reverse proxy) translate to and from these.
 */
export type HeaderBag = Readonly<Record<string, string | readonly string[] | undefined>>;

export interface EdgeRequest {
  readonly method: string;
  /** Path and query, as on the request line. */
  readonly url: string;
  /** Header names in lower case. */
  readonly headers: HeaderBag;
  /** Whether the client reached us over HTTPS (Secure cookies, the callback URL's scheme). */
  readonly secure: boolean;
}

export interface EdgeResponse {
  readonly status: number;
  readonly headers: Record<string, string | string[]>;
  readonly body: string;
}

export function header(headers: HeaderBag, name: string): string | undefined {
  const value = headers[name];
  return Array.isArray(value) ? value[0] : (value as string | undefined);
}

export function jsonResponse(
  status: number,
  body: unknown,
  headers: Record<string, string | string[]> = {},
): EdgeResponse {
  return {
    status,
    headers: { 'content-type': 'application/json; charset=utf-8', ...headers },
    body: JSON.stringify(body),
  };
}

export function redirect(location: string, headers: Record<string, string | string[]> = {}): EdgeResponse {
  return { status: 302, headers: { location, 'cache-control': 'no-store', ...headers }, body: '' };
}

/**
 * Only same-site relative paths are followed after sign-in and sign-out: an absolute or
 * protocol-relative URL would make /.auth/login an open redirector.
 */
export function safeReturnPath(value: string | null | undefined): string {
  if (!value || !value.startsWith('/') || value.startsWith('//') || value.startsWith('/\\')) return '/';
  return value;
}
