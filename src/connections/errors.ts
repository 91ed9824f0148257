import { WireError } from '../core/errors.ts';

/**
 * Errors of the connections API and the gateway. The body follows APIM's envelope
 * (`{ error: { code, message } }`) and adds what an agent needs to say something useful: a remediation
 * sentence and, when the fix is the user's own consent, a consent card.
 */
export interface ConsentCard {
  readonly consentUrl: string;
  readonly text: string;
  /** The connector's title, for "Connect to …" (a card is about a connector, not about one tool). */
  readonly connectorName: string;
}

export interface ConnectionErrorDetails {
  readonly remediation?: string;
  readonly consentCard?: ConsentCard;
  /** The upstream status when the error comes from the API behind the connector. */
  readonly upstreamStatus?: number;
  /** The argument or connection parameter at fault. */
  readonly parameter?: string;
  readonly correlationId?: string;
}

export class ConnectionError extends WireError {
  readonly status: number;
  readonly code: string;
  readonly details: ConnectionErrorDetails;
  readonly extraHeaders: Readonly<Record<string, string>>;
  constructor(
    status: number,
    code: string,
    message: string,
    details: ConnectionErrorDetails = {},
    headers: Readonly<Record<string, string>> = {},
  ) {
    super(message);
    this.name = 'ConnectionError';
    this.status = status;
    this.code = code;
    this.details = details;
    this.extraHeaders = headers;
  }
  body(): unknown {
    return { error: { code: this.code, message: this.message, ...this.details } };
  }
  override headers(): Record<string, string> {
    return { ...this.extraHeaders };
  }
  withCorrelationId(correlationId: string): ConnectionError {
    return new ConnectionError(
      this.status,
      this.code,
      this.message,
      { ...this.details, correlationId },
      this.extraHeaders,
    );
  }
}

export const connectionErrors = {
  notFound: (id: string) =>
    // The same answer whether the connection does not exist or belongs to someone else: a per-user
    // connection's existence is not the caller's business.
    new ConnectionError(404, 'ConnectionNotFound', `Connection '${id}' was not found.`),
  modeChange: () =>
    new ConnectionError(
      400,
      'ConnectionModeImmutable',
      'A shared (app-only) connection cannot be turned into a per-user connection; create a new per-user connection instead.',
    ),
  invalid: (message: string, parameter?: string) =>
    new ConnectionError(400, 'InvalidConnection', message, parameter ? { parameter } : {}),
  /** RFC 6750 §3: a missing or invalid bearer token is 401 with a WWW-Authenticate challenge. */
  unauthenticated: (message: string, error: 'invalid_token' | 'invalid_request' = 'invalid_token') =>
    new ConnectionError(
      401,
      'Unauthorized',
      message,
      { remediation: 'Sign in again and call with a token for Behalf Connections.' },
      { 'www-authenticate': `Bearer error="${error}", error_description="${message.replace(/"/g, "'")}"` },
    ),
  conflict: (id: string) =>
    new ConnectionError(
      409,
      'ConnectionConflict',
      `Connection '${id}' changed meanwhile; read it again and retry.`,
    ),
} as const;
