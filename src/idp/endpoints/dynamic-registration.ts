import { WireError } from '../../core/errors.ts';

/**
 * RFC 7591 dynamic client registration, as MCP clients use it (MCP authorization 2025-11-25, "Dynamic
 * Client Registration"): the request becomes a public client application in the tenant whose redirect
 * URIs are exactly the ones given; it has no secret (`token_endpoint_auth_method: none`), so PKCE S256
 * is required at /authorize, as for every public client.
 */
export interface RegistrationRequest {
  readonly clientName: string;
  readonly redirectUris: readonly string[];
  readonly grantTypes: readonly string[];
}

/** RFC 7591 §3.2.2 error response. */
export class RegistrationError extends WireError {
  readonly status = 400;
  readonly code: 'invalid_redirect_uri' | 'invalid_client_metadata';
  constructor(code: RegistrationError['code'], description: string) {
    super(description);
    this.code = code;
  }
  body() {
    return { error: this.code, error_description: this.message };
  }
  override headers() {
    return { 'cache-control': 'no-store' };
  }
}

export class RegistrationRateLimitedError extends WireError {
  readonly status = 429;
  readonly retryAfterSeconds: number;
  constructor(retryAfterSeconds: number) {
    super('Too many client registrations from this address; try again later.');
    this.retryAfterSeconds = retryAfterSeconds;
  }
  body() {
    return { error: 'slow_down', error_description: this.message };
  }
  override headers() {
    return { 'retry-after': String(this.retryAfterSeconds), 'cache-control': 'no-store' };
  }
}

const GRANT_TYPES = ['authorization_code', 'refresh_token'];
const MAX_REDIRECT_URIS = 10;
const MAX_URI_LENGTH = 2000;
const LOOPBACK_HOSTS = ['localhost', '127.0.0.1', '[::1]'];

const invalidMetadata = (message: string) => new RegistrationError('invalid_client_metadata', message);
const invalidRedirect = (message: string) => new RegistrationError('invalid_redirect_uri', message);

/**
 * HTTPS anywhere; plain HTTP only on loopback (RFC 8252 §7.3, native apps' local listener); a private-use
 * scheme only in reverse-domain form (RFC 8252 §7.1, `com.example.app:/callback`), so a registration
 * cannot claim `javascript:` or `data:`. No fragments (RFC 6749 §3.1.2).
 */
function checkRedirectUri(value: unknown): string {
  if (typeof value !== 'string' || value.length === 0 || value.length > MAX_URI_LENGTH)
    throw invalidRedirect('Each redirect URI must be a non-empty string of at most 2000 characters.');
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    throw invalidRedirect(`'${value.slice(0, 100)}' is not an absolute URI.`);
  }
  if (url.hash !== '' || value.includes('#'))
    throw invalidRedirect('A redirect URI must not contain a fragment.');
  const scheme = url.protocol.slice(0, -1);
  if (scheme === 'https') return value;
  if (scheme === 'http') {
    if (LOOPBACK_HOSTS.includes(url.hostname)) return value;
    throw invalidRedirect('Plain http redirect URIs are allowed only on localhost (RFC 8252 §7.3).');
  }
  if (/^[a-z][a-z0-9+-]*(\.[a-z0-9+-]+)+$/.test(scheme)) return value;
  throw invalidRedirect(
    `The scheme '${scheme}:' is not allowed: use https, http on localhost, or a reverse-domain private-use scheme.`,
  );
}

function stringList(body: Record<string, unknown>, name: string): unknown[] | undefined {
  const value = body[name];
  if (value === undefined) return undefined;
  if (!Array.isArray(value)) throw invalidMetadata(`'${name}' must be an array.`);
  return value;
}

export function parseRegistrationRequest(body: unknown): RegistrationRequest {
  if (typeof body !== 'object' || body === null || Array.isArray(body))
    throw invalidMetadata('The registration request must be a JSON object.');
  const metadata = body as Record<string, unknown>;
  const redirects = stringList(metadata, 'redirect_uris');
  if (!redirects || redirects.length === 0)
    throw invalidRedirect('redirect_uris is required: the authorization code flow needs one.');
  if (redirects.length > MAX_REDIRECT_URIS)
    throw invalidRedirect(`At most ${MAX_REDIRECT_URIS} redirect URIs may be registered.`);
  const redirectUris = [...new Set(redirects.map(checkRedirectUri))];

  const method = metadata['token_endpoint_auth_method'];
  // Only public clients are registered: a secret handed to any caller of an open endpoint protects nothing.
  if (method !== undefined && method !== 'none')
    throw invalidMetadata(
      `token_endpoint_auth_method '${String(method)}' is not supported; register a public client ('none') and use PKCE.`,
    );
  const grantTypes = (stringList(metadata, 'grant_types') ?? ['authorization_code']).map(String);
  const unknownGrant = grantTypes.find((g) => !GRANT_TYPES.includes(g));
  if (unknownGrant !== undefined)
    throw invalidMetadata(`grant_type '${unknownGrant}' is not supported; use ${GRANT_TYPES.join(', ')}.`);
  const responseTypes = (stringList(metadata, 'response_types') ?? ['code']).map(String);
  if (responseTypes.some((r) => r !== 'code'))
    throw invalidMetadata("Only response_type 'code' is supported.");

  const name = metadata['client_name'];
  if (name !== undefined && (typeof name !== 'string' || name.trim() === '' || name.length > 200))
    throw invalidMetadata('client_name must be a non-empty string of at most 200 characters.');
  return {
    clientName: typeof name === 'string' ? name.trim() : 'MCP client',
    redirectUris,
    grantTypes: grantTypes.includes('authorization_code')
      ? grantTypes
      : ['authorization_code', ...grantTypes],
  };
}

/** RFC 7591 §3.2.1: the registered metadata, with the values the server chose. No secret is issued. */
export function registrationResponse(
  request: RegistrationRequest,
  clientId: string,
  issuedAtSeconds: number,
) {
  return {
    client_id: clientId,
    client_id_issued_at: issuedAtSeconds,
    client_name: request.clientName,
    redirect_uris: request.redirectUris,
    grant_types: request.grantTypes,
    response_types: ['code'],
    token_endpoint_auth_method: 'none',
  };
}
