import { createHash } from 'node:crypto';
import type { Clock } from '../../core/clock.ts';
import type { Random } from '../../core/ids.ts';
import { opaqueToken } from '../../core/ids.ts';
import type { RecordStore } from '../../storage/record-store.ts';
import { clearCookie, parseCookies, serializeCookie } from './cookies.ts';
import type { Sealer } from './seal.ts';

/**
 * Single sign-on sessions. A browser holds one cookie per tenant listing its session ids (several when
 * more than one account signed in: the account picker). The cookie is sealed with the tenant as
 * associated data and every session record names its tenant, so a cookie is worthless in another
 * tenant; the store holds only a hash of each session id, so a database dump signs nobody in.
 */
export interface SsoSession {
  /** Hash of the session id: also the opaque handle the account picker posts back. */
  readonly handle: string;
  readonly tenantId: string;
  readonly userId: string;
  /** Epoch seconds of the password check (the `auth_time` claim, `max_age`). */
  readonly authTime: number;
}

interface SessionData {
  tenantId: string;
  userId: string;
  authTime: number;
}

const KIND = 'idp.sso-session';
// Entra's browser session lasts until the browser closes, bounded server-side; a working day is enough
// for a local IdP and keeps a forgotten session from living forever.
const LIFETIME_MS = 24 * 3600 * 1000;
const MAX_SESSIONS_PER_BROWSER = 5;

export interface BrowserSessions {
  readonly sessions: readonly SsoSession[];
  /** The raw ids from the cookie that are still live (to write the cookie back). */
  readonly ids: readonly string[];
}

export interface SsoSessions {
  cookieName(tenantId: string): string;
  read(tenantId: string, cookieHeader: string | undefined): Promise<BrowserSessions>;
  /** Starts a session and returns the Set-Cookie value listing it first; replaces the user's older one. */
  create(
    tenantId: string,
    userId: string,
    current: BrowserSessions,
  ): Promise<{ session: SsoSession; setCookie: string }>;
  /** Ends every session of this browser in the tenant (logout) and returns the clearing Set-Cookie. */
  end(tenantId: string, current: BrowserSessions): Promise<string>;
}

export function createSsoSessions(deps: {
  store: RecordStore;
  clock: Clock;
  random: Random;
  sealer: Sealer;
}): SsoSessions {
  const { store, clock, random, sealer } = deps;
  const hash = (id: string) => createHash('sha256').update(id).digest('base64url');
  const cookieName = (tenantId: string) => `__Host-behalf-sso-${tenantId}`;

  async function read(tenantId: string, cookieHeader: string | undefined): Promise<BrowserSessions> {
    const sealed = parseCookies(cookieHeader).get(cookieName(tenantId));
    const opened = sealed ? sealer.open(sealed, 'sso:' + tenantId) : undefined;
    if (!opened) return { sessions: [], ids: [] };
    const ids = opened.split(' ').filter((id) => id.length > 0);
    const sessions: SsoSession[] = [];
    const live: string[] = [];
    for (const id of ids.slice(0, MAX_SESSIONS_PER_BROWSER)) {
      const record = await store.get<SessionData>(KIND, hash(id));
      // The tenant check is the second lock: a record of another tenant never counts here.
      if (!record || record.data.tenantId !== tenantId) continue;
      live.push(id);
      sessions.push({ handle: record.id, ...record.data });
    }
    return { sessions, ids: live };
  }

  async function create(tenantId: string, userId: string, current: BrowserSessions) {
    const id = opaqueToken(random, 32);
    const data: SessionData = { tenantId, userId, authTime: Math.floor(clock.now() / 1000) };
    await store.insert({
      kind: KIND,
      id: hash(id),
      partition: tenantId,
      data,
      indexKeys: [`user:${tenantId}:${userId}`],
      expiresAt: clock.now() + LIFETIME_MS,
    });
    const kept: string[] = [];
    for (const [index, existing] of current.ids.entries()) {
      const session = current.sessions[index];
      if (session?.userId === userId) await store.delete(KIND, session.handle);
      else kept.push(existing);
    }
    const ids = [id, ...kept].slice(0, MAX_SESSIONS_PER_BROWSER);
    return {
      session: { handle: hash(id), ...data },
      setCookie: serializeCookie(cookieName(tenantId), sealer.seal(ids.join(' '), 'sso:' + tenantId), {
        sameSite: 'Lax',
      }),
    };
  }

  async function end(tenantId: string, current: BrowserSessions) {
    for (const session of current.sessions) await store.delete(KIND, session.handle);
    return clearCookie(cookieName(tenantId));
  }

  return { cookieName, read, create, end };
}
