import { createHash } from 'node:crypto';

/** Codes and refresh tokens are stored under their SHA-256: a database leak yields no usable token. */
export function tokenDigest(token: string): string {
  return createHash('sha256').update(token, 'utf8').digest('base64url');
}
