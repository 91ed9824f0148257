import { WireError } from '../../core/errors.ts';
import { parseRegistrationRequest, RegistrationError } from './dynamic-registration.ts';

/**
 * OAuth Client ID Metadata Documents (draft-ietf-oauth-client-id-metadata-document; MCP authorization
 * 2025-11-25, "Client ID Metadata Documents"): a client with no prior relationship to Behalf uses an
 * https URL as its `client_id`, and the JSON document served there is its registration. These are the
 * pure rules: which `client_id` values are such URLs (draft §3), and what a fetched document must say
 * (draft §4.1) before Behalf treats it as a public client. Fetching is client-metadata-document-fetch.ts.
 */
export interface ClientMetadata {
  /** The URL, exactly as the client sent it and as the document names itself. */
  readonly clientId: string;
  /** `client_name`, when the document has one: the client's own claim, never trusted alone. */
  readonly clientName: string | undefined;
  /** What the consent page shows: the name followed by the host that vouches for it. */
  readonly displayName: string;
  readonly redirectUris: readonly string[];
}

/**
 * An OAuth error about the client (RFC 6749 §5.2 `invalid_client`) or the request (`invalid_request`),
 * with a description that says exactly which rule failed. Never a redirect: the client is unverified.
 */
export class ClientMetadataError extends WireError {
  readonly status: number;
  readonly code: 'invalid_client' | 'invalid_request';
  constructor(code: ClientMetadataError['code'], description: string, status = 400) {
    super(description);
    this.code = code;
    this.status = status;
  }
  body() {
    return { error: this.code, error_description: this.message };
  }
  override headers() {
    return { 'cache-control': 'no-store' };
  }
}

const MAX_CLIENT_ID_LENGTH = 2000;
const MAX_DISPLAY_NAME = 256;
// RFC 7591 §2 / draft §4.1: methods built on a secret shared with the authorization server; a document
// anyone can read cannot carry one.
const SHARED_SECRET_METHODS = ['client_secret_basic', 'client_secret_post', 'client_secret_jwt'];

/**
 * Whether `client_id` claims to be a metadata document URL (so it must then satisfy the rules) rather
 * than an application's appId. Any absolute http(s) URL does: an `http:` one is refused, not ignored.
 */
export function looksLikeClientIdUrl(clientId: string | undefined): clientId is string {
  return clientId !== undefined && /^https?:\/\//i.test(clientId);
}

const invalidClient = (clientId: string, reason: string) =>
  new ClientMetadataError('invalid_client', `The client_id '${clientId.slice(0, 200)}' ${reason}`);

/**
 * Draft §3: the https scheme, a path, no `.`/`..` segments, no fragment, no user name or password.
 * Checked on the string as sent, since `new URL` silently removes dot segments.
 */
export function checkClientIdUrl(clientId: string): URL {
  if (clientId.length > MAX_CLIENT_ID_LENGTH)
    throw invalidClient(clientId, `is longer than ${MAX_CLIENT_ID_LENGTH} characters.`);
  let url: URL;
  try {
    url = new URL(clientId);
  } catch {
    throw invalidClient(clientId, 'is not a valid URL.');
  }
  if (url.protocol !== 'https:')
    throw invalidClient(
      clientId,
      'is not an https URL: client ID metadata documents are fetched over https only.',
    );
  if (url.username !== '' || url.password !== '')
    throw invalidClient(clientId, 'must not contain a user name or password.');
  if (clientId.includes('#')) throw invalidClient(clientId, 'must not contain a fragment.');
  const rawPath = /^https:\/\/[^/?#]*([^?#]*)/i.exec(clientId)?.[1] ?? '';
  if (rawPath === '' || rawPath === '/')
    throw invalidClient(clientId, 'must contain a path: the URL of the client ID metadata document.');
  if (rawPath.split('/').some((segment) => /^(\.|%2e){1,2}$/i.test(segment)))
    throw invalidClient(clientId, "must not contain '.' or '..' path segments.");
  return url;
}

/** The consent page names the host that serves the document, so `client_name` cannot pose as another app. */
export function displayNameFor(clientName: string | undefined, host: string): string {
  if (clientName === undefined) return host;
  const room = MAX_DISPLAY_NAME - host.length - 3;
  const name = clientName.length > room ? `${clientName.slice(0, Math.max(room - 1, 1))}…` : clientName;
  return `${name} (${host})`;
}

/** Draft §4.1: the document fetched from `clientId`, checked as Behalf's registration of a public client. */
export function parseClientMetadataDocument(clientId: string, document: unknown): ClientMetadata {
  const url = checkClientIdUrl(clientId);
  const refuse = (reason: string) =>
    new ClientMetadataError(
      'invalid_client',
      `The client ID metadata document at ${clientId.slice(0, 200)} ${reason}`,
    );
  if (typeof document !== 'object' || document === null || Array.isArray(document))
    throw refuse('is not a JSON object.');
  const metadata = document as Record<string, unknown>;
  // Simple string comparison (draft §4.1, RFC 3986 §6.2.1): a document served at one URL cannot speak
  // for another client.
  if (metadata['client_id'] !== clientId)
    throw refuse(
      typeof metadata['client_id'] === 'string'
        ? `names another client_id ('${metadata['client_id'].slice(0, 200)}'); it must be exactly the document's URL.`
        : "has no client_id: it must be exactly the document's URL.",
    );
  if ('client_secret' in metadata || 'client_secret_expires_at' in metadata)
    throw refuse('must not contain client_secret or client_secret_expires_at.');
  const method = metadata['token_endpoint_auth_method'];
  if (method !== undefined && method !== 'none')
    throw refuse(
      SHARED_SECRET_METHODS.includes(String(method))
        ? `declares token_endpoint_auth_method '${String(method)}', a shared secret, which a public document cannot carry; use 'none' with PKCE.`
        : `declares token_endpoint_auth_method '${String(method).slice(0, 50)}', which Behalf does not support for client ID metadata documents; use 'none' with PKCE.`,
    );
  let parsed;
  try {
    // The same rules as RFC 7591 registration: redirect URIs, grant and response types, client_name.
    parsed = parseRegistrationRequest(metadata);
  } catch (error) {
    if (error instanceof RegistrationError) throw refuse(`is not valid: ${error.message}`);
    throw error;
  }
  const clientName = typeof metadata['client_name'] === 'string' ? parsed.clientName : undefined;
  return {
    clientId,
    clientName,
    displayName: displayNameFor(clientName, url.host),
    redirectUris: parsed.redirectUris,
  };
}

/** Draft §4.1 / RFC 6749 §3.1.2.3: the redirect URI must be exactly one the document lists. */
export function checkRedirectUriOf(metadata: ClientMetadata, redirectUri: string | undefined): string {
  if (redirectUri === undefined || redirectUri === '')
    throw new ClientMetadataError(
      'invalid_request',
      'redirect_uri is required for a client identified by a client ID metadata document.',
    );
  if (!metadata.redirectUris.includes(redirectUri))
    throw new ClientMetadataError(
      'invalid_request',
      `The redirect_uri '${redirectUri.slice(0, 200)}' is not one of the redirect_uris of the client ID metadata document at ${metadata.clientId.slice(0, 200)}.`,
    );
  return redirectUri;
}
