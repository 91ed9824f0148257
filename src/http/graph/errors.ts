import { randomUUID } from 'node:crypto';
import type { FastifyError, FastifyReply, FastifyRequest } from 'fastify';
import type { Logger } from '../../core/logger.ts';
import { DirectoryError } from '../../directory/errors.ts';

/**
 * Microsoft Graph's error envelope (learn.microsoft.com/graph/errors):
 * `{"error":{"code","message","innerError":{"date","request-id","client-request-id"}}}`.
 * DirectoryError carries code and message; the request ids and date are added here, at the edge.
 */
export class GraphError extends DirectoryError {}

export const graphError = {
  badRequest: (message: string) => new GraphError(400, 'Request_BadRequest', message),
  unsupportedQuery: (message: string) => new GraphError(400, 'Request_UnsupportedQuery', message),
  notFoundId: (id: string) =>
    new GraphError(
      404,
      'Request_ResourceNotFound',
      `Resource '${id}' does not exist or one of its queried reference-property objects are not present.`,
    ),
  invalidId: (id: string) => new GraphError(400, 'Request_BadRequest', `Invalid object identifier '${id}'.`),
  noSegment: (segment: string) =>
    new GraphError(400, 'BadRequest', `Resource not found for the segment '${segment}'.`),
  notAllowed: (method: string, path: string) =>
    new GraphError(405, 'Request_BadRequest', `The ${method} method is not supported on '${path}'.`),
  emptyToken: () => new GraphError(401, 'InvalidAuthenticationToken', 'Access token is empty.'),
  invalidToken: () =>
    new GraphError(
      401,
      'InvalidAuthenticationToken',
      'Access token validation failure. Invalid audience, signature, issuer or lifetime.',
    ),
  denied: () =>
    new GraphError(403, 'Authorization_RequestDenied', 'Insufficient privileges to complete the operation.'),
  notAdministrator: () =>
    new GraphError(
      403,
      'Authorization_RequestDenied',
      "Insufficient privileges to complete the operation: the signed-in user is not an administrator of this tenant, and a delegated permission never exceeds the user's own rights.",
    ),
};

const REQUEST_IDS = new WeakMap<FastifyRequest, string>();

/** Graph gives every request a GUID `request-id` and echoes the caller's `client-request-id`. */
export function requestIds(request: FastifyRequest) {
  let requestId = REQUEST_IDS.get(request);
  if (!requestId) {
    requestId = randomUUID();
    REQUEST_IDS.set(request, requestId);
  }
  const header = request.headers['client-request-id'];
  const clientRequestId = typeof header === 'string' && /^[\w-]{1,64}$/.test(header) ? header : requestId;
  return { requestId, clientRequestId };
}

export function sendGraphError(
  request: FastifyRequest,
  reply: FastifyReply,
  status: number,
  code: string,
  message: string,
) {
  const { requestId, clientRequestId } = requestIds(request);
  return reply
    .code(status)
    .header('request-id', requestId)
    .header('client-request-id', clientRequestId)
    .header('content-type', 'application/json')
    .send({
      error: {
        code,
        message,
        innerError: {
          date: new Date().toISOString().replace(/\.\d+Z$/, ''),
          'request-id': requestId,
          'client-request-id': clientRequestId,
        },
      },
    });
}

// Framework faults turned into Graph's own wording for the same situations.
const FRAMEWORK_FAULTS: Record<string, { status: number; code: string; message: string }> = {
  FST_ERR_CTP_INVALID_JSON_BODY: {
    status: 400,
    code: 'BadRequest',
    message:
      'Unable to read JSON request payload. Please ensure Content-Type header is set and payload is of valid JSON format.',
  },
  FST_ERR_CTP_EMPTY_JSON_BODY: {
    status: 400,
    code: 'BadRequest',
    message: 'Empty Payload. JSON content expected.',
  },
  FST_ERR_CTP_BODY_TOO_LARGE: {
    status: 413,
    code: 'Request_EntityTooLarge',
    message: 'The request body is larger than the server accepts.',
  },
  FST_ERR_CTP_INVALID_MEDIA_TYPE: {
    status: 415,
    code: 'BadRequest',
    message: "Unsupported Content-Type: send the body as 'application/json'.",
  },
  FST_ERR_CTP_INVALID_CONTENT_LENGTH: {
    status: 400,
    code: 'BadRequest',
    message: 'The Content-Length header does not match the body.',
  },
};

export function graphErrorHandler(logger: Logger) {
  return (error: FastifyError, request: FastifyRequest, reply: FastifyReply) => {
    if (error instanceof DirectoryError)
      return sendGraphError(request, reply, error.status, error.code, error.message);
    const fault = error.code ? FRAMEWORK_FAULTS[error.code] : undefined;
    if (fault) return sendGraphError(request, reply, fault.status, fault.code, fault.message);
    if (error.statusCode !== undefined && error.statusCode >= 400 && error.statusCode < 500)
      return sendGraphError(
        request,
        reply,
        error.statusCode,
        'BadRequest',
        error.message.replace(/\n[\s\S]*/, ''),
      );
    logger.error('management API error', { method: request.method, url: request.url.split('?')[0], error });
    return sendGraphError(
      request,
      reply,
      500,
      'generalException',
      'An internal error occurred. The details are in the server log.',
    );
  };
}
