import { ConnectionError } from '../connections/errors.ts';
import type { UpstreamError } from '../connections/outbound-http.ts';

/**
 * What an upstream failure means to the person behind the agent, as a table keyed by status: the
 * status comes back unchanged (5xx becomes 502: the gateway is healthy, the API is not) with a
 * remediation sentence the agent can say. Bodies are not echoed beyond the API's own error message.
 */
export interface FailureContext {
  readonly connectorTitle: string;
  readonly operation: string;
  readonly host: string;
  /** The API's own error message, if its body had one (Graph / APIM `error.message`, `message`). */
  readonly upstreamMessage?: string;
  readonly delegated: boolean;
}

interface Explanation {
  readonly code: string;
  readonly remediation: (ctx: FailureContext) => string;
}

const BY_STATUS: Readonly<Record<number, Explanation>> = {
  400: {
    code: 'UpstreamBadRequest',
    remediation: (c) =>
      `${c.host} did not accept the request for '${c.operation}'${c.upstreamMessage ? `: ${c.upstreamMessage}` : ''}. Check the arguments.`,
  },
  401: {
    code: 'UpstreamUnauthorized',
    remediation: (c) =>
      c.delegated
        ? `${c.connectorTitle} no longer accepts your sign-in. Reconnect: sign in to ${c.connectorTitle} again, then retry.`
        : `${c.connectorTitle} did not accept the connection's credentials. Ask its owner to reconnect it.`,
  },
  403: {
    code: 'UpstreamForbidden',
    remediation: (c) =>
      `You might not have access to '${c.operation}' in ${c.connectorTitle}${c.upstreamMessage ? ` (${c.upstreamMessage})` : ''}. Ask the owner of the data or an administrator for access.`,
  },
  404: {
    code: 'UpstreamNotFound',
    remediation: (c) => `${c.host} has no such item for '${c.operation}'. Check the identifiers you passed.`,
  },
  409: {
    code: 'UpstreamConflict',
    remediation: (c) => `${c.host} reported a conflict; read the item again and retry.`,
  },
  429: {
    code: 'UpstreamThrottled',
    remediation: (c) => `${c.host} is throttling requests; wait a little and retry.`,
  },
};

const SERVER_ERROR: Explanation = {
  code: 'UpstreamError',
  remediation: (c) => `${c.host} failed to answer '${c.operation}'; retry later or tell its owner.`,
};

const OTHER_CLIENT_ERROR: Explanation = {
  code: 'UpstreamRequestFailed',
  remediation: (c) =>
    `${c.host} refused '${c.operation}'${c.upstreamMessage ? `: ${c.upstreamMessage}` : ''}.`,
};

export function upstreamFailure(status: number, ctx: FailureContext, retryAfter?: string): ConnectionError {
  const explanation = BY_STATUS[status] ?? (status >= 500 ? SERVER_ERROR : OTHER_CLIENT_ERROR);
  const remediation = explanation.remediation(ctx);
  return new ConnectionError(
    status >= 500 ? 502 : status,
    explanation.code,
    `${ctx.connectorTitle}: ${ctx.host} answered ${status} to '${ctx.operation}'.`,
    { remediation, upstreamStatus: status },
    retryAfter !== undefined ? { 'retry-after': retryAfter } : {},
  );
}

/** Unreachable, timed out or too large: 502/504 naming the host. */
export function transportFailure(error: UpstreamError, ctx: { connectorTitle: string }): ConnectionError {
  const timeout = error.failure === 'timeout';
  return new ConnectionError(
    timeout ? 504 : 502,
    timeout
      ? 'UpstreamTimeout'
      : error.failure === 'too-large'
        ? 'UpstreamResponseTooLarge'
        : 'UpstreamUnreachable',
    `${ctx.connectorTitle}: ${error.message}.`,
    {
      remediation: timeout
        ? `${error.host} did not answer in time; retry later.`
        : error.failure === 'too-large'
          ? `${error.host} sent more than the gateway accepts; ask for fewer items.`
          : `${error.host} cannot be reached; check that the API is running and its host name is right.`,
    },
  );
}

/** The API's own error message from a JSON error body, bounded: never the whole body. */
export function upstreamMessage(body: unknown): string | undefined {
  if (!body || typeof body !== 'object') return undefined;
  const record = body as Record<string, unknown>;
  const error = record['error'];
  const message =
    (error && typeof error === 'object' ? (error as Record<string, unknown>)['message'] : undefined) ??
    (typeof error === 'string' ? (record['error_description'] ?? error) : undefined) ??
    record['message'];
  return typeof message === 'string' ? message.split('\n')[0]!.slice(0, 300) : undefined;
}
