import { createHmac, timingSafeEqual } from 'node:crypto';
import type { Random } from '../../core/ids.ts';
import { opaqueToken } from '../../core/ids.ts';

/**
 * CSRF protection for every form (OWASP CSRF cheat sheet, "signed double-submit cookie"): a random
 * value in a SameSite=Strict `__Host-` cookie, and in each form an HMAC of it under a server key. A
 * cross-site page can neither read the cookie nor compute the token, and the __Host- prefix stops a
 * sibling subdomain from planting a cookie whose token it knows.
 */
export const CSRF_COOKIE = '__Host-behalf-csrf';

export interface Csrf {
  /** A fresh cookie value (when the browser has none yet). */
  newCookieValue(): string;
  tokenFor(cookieValue: string): string;
  verify(cookieValue: string | undefined, token: string | undefined): boolean;
}

export function createCsrf(key: Buffer, random: Random): Csrf {
  const mac = (value: string) =>
    createHmac('sha256', key)
      .update('csrf\0' + value)
      .digest();
  return {
    newCookieValue: () => opaqueToken(random, 32),
    tokenFor: (cookieValue) => mac(cookieValue).toString('base64url'),
    verify(cookieValue, token) {
      if (!cookieValue || !token || cookieValue.length > 200 || token.length > 200) return false;
      const expected = mac(cookieValue);
      const actual = Buffer.from(token, 'base64url');
      return actual.length === expected.length && timingSafeEqual(actual, expected);
    },
  };
}
