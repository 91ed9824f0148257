import { WireError } from '../../core/errors.ts';
import { AADSTS, fillTemplate } from './aadsts.ts';
import type { AadstsCode } from './aadsts.ts';

/** Per-request facts Entra stamps on every error body (entra-protocol.md §5.1). */
export interface ErrorContext {
  readonly traceId: string;
  readonly correlationId: string;
  /** Milliseconds since the epoch. */
  readonly now: number;
}

export interface EntraErrorOptions {
  /** A JSON string challenge (`claims`), as Entra sends with consent and conditional-access errors. */
  readonly claims?: string;
  /**
   * Where Entra answers one code with another `error` depending on the endpoint: AADSTS90002 is
   * `invalid_request` at /token but `invalid_tenant` on discovery (entra-protocol.md §1.3).
   */
  readonly error?: string;
}

const ZERO_GUID = '00000000-0000-0000-0000-000000000000';

/** Entra's timestamp style in error bodies: `2016-01-09 02:02:12Z`. */
export function entraTimestamp(epochMs: number): string {
  return new Date(epochMs)
    .toISOString()
    .replace('T', ' ')
    .replace(/\.\d+Z$/, 'Z');
}

/**
 * An Entra token-endpoint error. Only the code and its parameters travel with it; the message, status
 * and OAuth `error` come from the one AADSTS table, and the trace/correlation trailer is added by the
 * HTTP edge (which knows the request) through `withContext`.
 */
export class EntraError extends WireError {
  readonly code: AadstsCode;
  readonly params: Readonly<Record<string, string | number>>;
  readonly options: EntraErrorOptions;
  context: ErrorContext | undefined;

  constructor(
    code: AadstsCode,
    params: Readonly<Record<string, string | number>> = {},
    options: EntraErrorOptions = {},
  ) {
    super(`AADSTS${code}`);
    this.name = 'EntraError';
    this.code = code;
    this.params = params;
    this.options = options;
  }

  get status(): number {
    return AADSTS[this.code].status;
  }

  get error(): string {
    return this.options.error ?? AADSTS[this.code].error;
  }

  get description(): string {
    return `AADSTS${this.code}: ${fillTemplate(AADSTS[this.code].message, this.params)}`;
  }

  withContext(context: ErrorContext): this {
    this.context = context;
    return this;
  }

  override headers(): Record<string, string> {
    const headers: Record<string, string> = {
      'cache-control': 'no-store, no-cache',
      pragma: 'no-cache',
    };
    if (this.context) headers['x-ms-request-id'] = this.context.traceId;
    // RFC 6749 §5.2: a failed HTTP Basic authentication answers 401 with a challenge.
    if (this.status === 401) headers['www-authenticate'] = 'Basic realm="login.microsoftonline.com"';
    return headers;
  }

  override body(): Record<string, unknown> {
    const context = this.context ?? { traceId: ZERO_GUID, correlationId: ZERO_GUID, now: 0 };
    const timestamp = entraTimestamp(context.now);
    const entry = AADSTS[this.code];
    // The trailer is joined with \r\n exactly as Entra does (recorded responses, §5.1).
    const trailer = `\r\nTrace ID: ${context.traceId}\r\nCorrelation ID: ${context.correlationId}\r\nTimestamp: ${timestamp}`;
    return {
      error: this.error,
      error_description: this.description + trailer,
      error_codes: [this.code],
      timestamp,
      trace_id: context.traceId,
      correlation_id: context.correlationId,
      error_uri: `https://login.microsoftonline.com/error?code=${this.code}`,
      ...('suberror' in entry ? { suberror: entry.suberror } : {}),
      ...(this.options.claims !== undefined ? { claims: this.options.claims } : {}),
    };
  }
}

export function entraError(
  code: AadstsCode,
  params: Readonly<Record<string, string | number>> = {},
  options: EntraErrorOptions = {},
): EntraError {
  return new EntraError(code, params, options);
}
