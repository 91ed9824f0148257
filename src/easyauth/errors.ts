import { WireError } from '../core/errors.ts';

/**
 * The errors a protected resource answers with, shaped by RFC 6750 §3: `invalid_token` (401) when the
 * token cannot be trusted, `insufficient_scope` (403) when it is valid but does not carry the right
 * permission. The challenge repeats `error` and `error_description` so clients that read only headers
 * (MSAL, the Azure SDKs' challenge handling) see the reason too.
 * https://www.rfc-editor.org/rfc/rfc6750#section-3
 */
export type BearerErrorCode = 'invalid_token' | 'insufficient_scope' | 'invalid_request';

export interface ChallengeParameters {
  readonly realm?: string;
  /** Entra's hint to clients: where to sign in, and which resource to ask a token for. */
  readonly authorizationUri?: string;
  readonly resourceId?: string;
}

export class BearerError extends WireError {
  readonly status: number;
  readonly code: BearerErrorCode | undefined;
  readonly description: string;
  /** For insufficient_scope: the scopes (or roles) that would have been enough (RFC 6750 §3). */
  readonly scope: readonly string[];
  challenge: ChallengeParameters = {};

  constructor(
    status: number,
    code: BearerErrorCode | undefined,
    description: string,
    scope: readonly string[] = [],
  ) {
    super(description);
    this.name = 'BearerError';
    this.status = status;
    this.code = code;
    this.description = description;
    this.scope = scope;
  }

  body(): unknown {
    return { error: this.code ?? 'unauthorized', error_description: this.description };
  }

  override headers(): Record<string, string> {
    return { 'www-authenticate': challengeHeader(this) };
  }
}

/** A request without credentials: RFC 6750 §3.1 says the challenge then carries no error code. */
export function missingToken(): BearerError {
  return new BearerError(401, undefined, 'No bearer token or session was presented.');
}

export function invalidToken(description: string): BearerError {
  return new BearerError(401, 'invalid_token', description);
}

export function insufficientScope(description: string, scope: readonly string[]): BearerError {
  return new BearerError(403, 'insufficient_scope', description, scope);
}

function quote(value: string): string {
  // RFC 6750 §3: error_description is limited to %x20-21 / %x23-5B / %x5D-7E (no " or \).
  return '"' + value.replace(/[^\x20-\x7e]|["\\]/g, "'") + '"';
}

export function challengeHeader(error: BearerError): string {
  const params: string[] = [];
  const { realm, authorizationUri, resourceId } = error.challenge;
  params.push(`realm=${quote(realm ?? '')}`);
  if (authorizationUri) params.push(`authorization_uri=${quote(authorizationUri)}`);
  if (resourceId) params.push(`resource_id=${quote(resourceId)}`);
  if (error.code) {
    params.push(`error=${quote(error.code)}`);
    params.push(`error_description=${quote(error.description)}`);
  }
  if (error.scope.length > 0) params.push(`scope=${quote(error.scope.join(' '))}`);
  return 'Bearer ' + params.join(', ');
}
