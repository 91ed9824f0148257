import { WireError } from '../core/errors.ts';

/**
 * A directory rule was broken or an object is missing. Carries Microsoft Graph's error `code` and HTTP
 * status; the Graph edge wraps `body()` with the `innerError` (date, request ids) only it knows.
 */
export class DirectoryError extends WireError {
  readonly status: number;
  readonly code: string;
  constructor(status: number, code: string, message: string) {
    super(message);
    this.status = status;
    this.code = code;
    this.name = 'DirectoryError';
  }
  body(): { error: { code: string; message: string } } {
    return { error: { code: this.code, message: this.message } };
  }
}

/** Graph answers schema and rule violations with 400 Request_BadRequest. */
export function badRequest(message: string): DirectoryError {
  return new DirectoryError(400, 'Request_BadRequest', message);
}

/** Graph's wording for a missing object, whatever its type. */
export function notFound(id: string): DirectoryError {
  return new DirectoryError(
    404,
    'Request_ResourceNotFound',
    `Resource '${id}' does not exist or one of its queried reference-property objects are not present.`,
  );
}

/** A unique property (identifierUris, userPrincipalName, a grant…) is already taken. */
export function conflict(message: string): DirectoryError {
  return new DirectoryError(400, 'Request_MultipleObjectsWithSameKeyValue', message);
}

/** Someone else changed the object between our read and our write (compare-and-swap lost). */
export function concurrentChange(): DirectoryError {
  return new DirectoryError(409, 'Request_Conflict', 'The object was changed by another request; retry.');
}
