import type { Clock } from '../core/clock.ts';

/**
 * Easy Auth's token store: what a browser session signed in with, kept server-side so the cookie stays
 * small and never carries a refresh token. The port lets a deployment keep sessions across restarts.
 */
export interface SessionTokens {
  readonly idTokenClaims: Record<string, unknown>;
  readonly idToken: string;
  readonly accessToken: string | undefined;
  readonly refreshToken: string | undefined;
  /** Epoch ms. */
  readonly accessTokenExpiresAt: number;
}

export interface TokenStore {
  get(sessionId: string): Promise<SessionTokens | undefined>;
  set(sessionId: string, tokens: SessionTokens, expiresAt: number): Promise<void>;
  delete(sessionId: string): Promise<void>;
}

export function memoryTokenStore(clock: Clock): TokenStore {
  const entries = new Map<string, { tokens: SessionTokens; expiresAt: number }>();
  return {
    async get(id) {
      const entry = entries.get(id);
      if (!entry) return undefined;
      if (entry.expiresAt <= clock.now()) {
        entries.delete(id);
        return undefined;
      }
      return entry.tokens;
    },
    async set(id, tokens, expiresAt) {
      entries.set(id, { tokens, expiresAt });
    },
    async delete(id) {
      entries.delete(id);
    },
  };
}
