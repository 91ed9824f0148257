import type { TokenVersion } from './urls.ts';

/** What a grant produced, before the endpoint version shapes it for the wire. */
export interface IssuedTokens {
  readonly accessToken: string;
  readonly iat: number;
  readonly exp: number;
  /** Space-separated granted scopes as Entra writes them back; absent for client credentials. */
  readonly scope?: string;
  /** The resource as the client named it (v1 responses echo it). */
  readonly resource: string;
  readonly refreshToken?: string;
  readonly idToken?: string;
  readonly clientInfo?: string;
}

/**
 * v2 responses use JSON numbers; v1 responses use strings and add `expires_on`, `not_before` and
 * `resource` (entra-protocol.md §2.6, §2.7).
 */
export function tokenResponseBody(tokens: IssuedTokens, endpoint: TokenVersion): Record<string, unknown> {
  const expiresIn = tokens.exp - tokens.iat;
  const body: Record<string, unknown> = { token_type: 'Bearer' };
  if (tokens.scope !== undefined) body['scope'] = tokens.scope;
  if (endpoint === 2) {
    body['expires_in'] = expiresIn;
    body['ext_expires_in'] = expiresIn;
  } else {
    body['expires_in'] = String(expiresIn);
    body['ext_expires_in'] = String(expiresIn);
    body['expires_on'] = String(tokens.exp);
    body['not_before'] = String(tokens.iat);
    body['resource'] = tokens.resource;
  }
  body['access_token'] = tokens.accessToken;
  if (tokens.refreshToken !== undefined) body['refresh_token'] = tokens.refreshToken;
  if (tokens.idToken !== undefined) body['id_token'] = tokens.idToken;
  if (tokens.clientInfo !== undefined) body['client_info'] = tokens.clientInfo;
  return body;
}
