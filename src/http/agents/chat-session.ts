import { createHash, timingSafeEqual } from 'node:crypto';
import type { Random } from '../../core/ids.ts';
import { opaqueToken } from '../../core/ids.ts';
import type { Envelope } from '../../crypto/envelope.ts';

/**
 * The /chat page's cookies, both sealed with the store's envelope encryption (AES-256-GCM, associated
 * data naming the cookie, so one cannot be replayed as the other) and `__Host-` prefixed (Secure, Path=/,
 * no Domain: RFC 6265bis §4.1.3.2), HttpOnly, SameSite=Lax. The session holds the person's token for
 * Behalf Connections, which the page uses as the on-behalf-of assertion for their tool calls and never
 * shows; the flow cookie holds the PKCE verifier and state of one sign-in (RFC 7636, RFC 6749 §10.12).
 */
export const SESSION_COOKIE = '__Host-behalf-chat';
export const FLOW_COOKIE = '__Host-behalf-chat-flow';
const FLOW_SECONDS = 600;

export interface ChatSession {
  /** Random per sign-in; doubles as the forms' anti-forgery token. */
  readonly sid: string;
  readonly token: string;
  /** Seconds since the epoch; the token's own expiry. */
  readonly exp: number;
}

export interface SignInFlow {
  readonly state: string;
  readonly verifier: string;
  readonly returnTo: string;
  readonly exp: number;
}

export function readCookie(header: string | undefined, name: string): string | undefined {
  for (const part of (header ?? '').split(';')) {
    const eq = part.indexOf('=');
    if (eq > 0 && part.slice(0, eq).trim() === name) return part.slice(eq + 1).trim();
  }
  return undefined;
}

export function setCookie(name: string, value: string, maxAgeSeconds: number): string {
  return `${name}=${value}; Path=/; Secure; HttpOnly; SameSite=Lax; Max-Age=${Math.max(0, Math.floor(maxAgeSeconds))}`;
}

export const clearCookie = (name: string) => setCookie(name, '', 0);

export function createChatCookies(envelope: Envelope, random: Random, nowSeconds: () => number) {
  function seal(kind: string, value: object): string {
    return envelope.encrypt(JSON.stringify(value), `behalf:chat-cookie:${kind}`);
  }
  function open<T extends { exp: number }>(kind: string, sealed: string | undefined): T | undefined {
    if (!sealed) return undefined;
    try {
      const value = JSON.parse(envelope.decryptText(sealed, `behalf:chat-cookie:${kind}`)) as T;
      return typeof value.exp === 'number' && value.exp > nowSeconds() ? value : undefined;
    } catch {
      return undefined;
    }
  }
  return {
    newFlow(returnTo: string): { flow: SignInFlow; cookie: string; challenge: string } {
      const flow: SignInFlow = {
        state: opaqueToken(random, 16),
        verifier: opaqueToken(random, 32),
        returnTo,
        exp: nowSeconds() + FLOW_SECONDS,
      };
      const challenge = createHash('sha256').update(flow.verifier).digest('base64url');
      return { flow, challenge, cookie: setCookie(FLOW_COOKIE, seal('flow', flow), FLOW_SECONDS) };
    },
    flow: (header: string | undefined) => open<SignInFlow>('flow', readCookie(header, FLOW_COOKIE)),
    newSession(token: string, exp: number): string {
      const session: ChatSession = { sid: opaqueToken(random, 16), token, exp };
      return setCookie(SESSION_COOKIE, seal('session', session), exp - nowSeconds());
    },
    session: (header: string | undefined) => open<ChatSession>('session', readCookie(header, SESSION_COOKIE)),
  };
}

export function sameText(a: string, b: string): boolean {
  const x = Buffer.from(a);
  const y = Buffer.from(b);
  return x.length === y.length && timingSafeEqual(x, y);
}
