/**
 * The two error families (ARCHITECTURE.md, "Two error families").
 *
 * A `WireError` is meant for the client: it knows its HTTP status, headers and body, and is
 * serialised exactly once, at the HTTP edge. Every other error is internal: the edge logs it and
 * answers with a generic server error, so a stack trace or a secret in a message never leaks.
 */
export abstract class WireError extends Error {
  abstract readonly status: number;
  /** The body as the protocol defines it (OAuth JSON, Graph envelope, problem details, …). */
  abstract body(): unknown;
  headers(): Record<string, string> {
    return {};
  }
}

/** A failure the caller cannot fix: logged with its cause, never serialised. */
export class InternalError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'InternalError';
  }
}

/** A unique-key or primary-key collision in a store; repositories turn it into a precise wire error. */
export class DuplicateKeyError extends Error {
  readonly kind: string;
  readonly key: string;
  constructor(kind: string, key: string) {
    super(`duplicate ${kind} key ${key}`);
    this.kind = kind;
    this.key = key;
    this.name = 'DuplicateKeyError';
  }
}

export function isWireError(error: unknown): error is WireError {
  return error instanceof WireError;
}
