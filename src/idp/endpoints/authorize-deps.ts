import type { Clock } from '../../core/clock.ts';
import type { Random } from '../../core/ids.ts';
import type { Logger } from '../../core/logger.ts';
import type { Application, User } from '../../directory/model.ts';
import type { IdpDirectory } from '../directory-port.ts';
import type { Administrators } from '../session/administrators.ts';
import { CSRF_COOKIE } from '../session/csrf.ts';
import type { Csrf } from '../session/csrf.ts';
import { parseCookies, serializeCookie } from '../session/cookies.ts';
import type { DeviceCodes } from '../session/device-codes.ts';
import type { Interactions } from '../session/interactions.ts';
import type { Lockout } from '../session/lockout.ts';
import type { SsoSessions } from '../session/sso-session.ts';
import type { AuthorizationCodeStore } from '../stores/authorization-codes.ts';
import type { ConsentWriter } from './admin-consent-writer.ts';

/** Everything the interactive endpoints need, built once in the composition root. */
export interface InteractiveDeps {
  readonly directory: IdpDirectory;
  readonly consent: ConsentWriter;
  readonly administrators: Administrators;
  readonly codes: AuthorizationCodeStore;
  readonly sessions: SsoSessions;
  readonly lockout: Lockout;
  readonly csrf: Csrf;
  readonly interactions: Interactions;
  readonly deviceCodes: DeviceCodes;
  /** The public base URL (the device flow's verification_uri is absolute). */
  readonly baseUrl: () => string;
  readonly clock: Clock;
  readonly random: Random;
  readonly logger: Logger;
  /** Signs a front-channel ID token (response_type id_token / code id_token); absent = not offered. */
  readonly frontChannelIdToken?: (input: {
    tenantId: string;
    client: Application;
    user: User;
    nonce: string;
    authTime: number;
    sessionId: string;
    version: 1 | 2;
    code?: string;
  }) => Promise<string>;
}

/** One browser request: its cookies and the ids an error page shows. */
export interface BrowserContext {
  readonly cookieHeader: string | undefined;
  readonly correlationId: string;
  /** Form fields (POST) or query parameters. */
  readonly params: Readonly<Record<string, string | undefined>>;
}

/** The browser's CSRF cookie value, minted (with its Set-Cookie) when it has none yet. */
export function csrfCookieOf(
  deps: Pick<InteractiveDeps, 'csrf'>,
  browser: BrowserContext,
): { value: string; setCookie?: string } {
  const existing = parseCookies(browser.cookieHeader).get(CSRF_COOKIE);
  if (existing && existing.length >= 32 && existing.length <= 100) return { value: existing };
  const value = deps.csrf.newCookieValue();
  return { value, setCookie: serializeCookie(CSRF_COOKIE, value, { sameSite: 'Strict' }) };
}

export function csrfValid(deps: Pick<InteractiveDeps, 'csrf'>, browser: BrowserContext): boolean {
  return deps.csrf.verify(parseCookies(browser.cookieHeader).get(CSRF_COOKIE), browser.params.csrf_token);
}
