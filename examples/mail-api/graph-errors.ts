import { randomUUID } from 'node:crypto';

/**
 * Microsoft Graph's error envelope: `{"error":{"code","message","innerError":{date,request-id}}}`
 * (Graph "Error responses and resource types"). Clients such as connectors show `message` to users.
 */
export function graphError(status: number, code: string, message: string) {
  return {
    status,
    body: {
      error: {
        code,
        message,
        innerError: { date: new Date().toISOString().slice(0, 19), 'request-id': randomUUID() },
      },
    },
  };
}

/** Bob's case. Graph answers ErrorAccessDenied when the caller may not read the mailbox. */
export const ACCESS_DENIED = 'Access is denied. Check credentials and try again.';
