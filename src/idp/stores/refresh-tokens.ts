import type { Clock } from '../../core/clock.ts';
import type { Random } from '../../core/ids.ts';
import { opaqueToken } from '../../core/ids.ts';
import type { RecordStore } from '../../storage/record-store.ts';
import { tokenDigest } from './hash.ts';

const TOKEN = 'idp.refresh_token';
const FAMILY = 'idp.refresh_family';
// An expired token is kept a little longer so its use is answered "expired" (AADSTS700082), not "unknown".
const RETENTION_MS = 7 * 24 * 3600 * 1000;

/** What a refresh token stands for. Opaque on the wire; stored under its SHA-256. */
export interface RefreshGrant {
  readonly tenantId: string;
  readonly clientId: string;
  readonly userId: string;
  /** The scope string of the original request (what a refresh without `scope` asks again). */
  readonly scopes: string;
  readonly authTime: number;
  readonly authMethods: readonly string[];
  readonly sessionId?: string | undefined;
}

export interface StoredRefreshToken extends RefreshGrant {
  readonly familyId: string;
  readonly issuedAt: number;
  readonly expiresAt: number;
  /** Set when the token was exchanged for a newer one (rotation). */
  readonly rotatedAt?: number;
}

interface Family {
  readonly revokedAt?: number;
}

export type RefreshUse =
  | { readonly outcome: 'ok'; readonly token: StoredRefreshToken }
  | { readonly outcome: 'unknown' }
  | { readonly outcome: 'expired'; readonly token: StoredRefreshToken }
  | { readonly outcome: 'revoked' }
  /** An already-rotated token used after the grace window: the whole family is now revoked. */
  | { readonly outcome: 'reused' };

export interface FamilyChoice {
  readonly id: string;
  readonly isNew: boolean;
}

export interface RefreshTokenStore {
  /** Issues a token in an existing family, a new family with a chosen id, or a fresh family. */
  issue(grant: RefreshGrant, family?: FamilyChoice): Promise<{ token: string; familyId: string }>;
  /**
   * Uses a token once: marks it rotated. A token already rotated is accepted again only within the
   * grace window (concurrent clients racing on one token); after it, the family is revoked (OAuth 2.0
   * Security BCP, RFC 9700 §4.14.2: refresh token rotation with reuse detection).
   */
  use(token: string): Promise<RefreshUse>;
  revokeFamily(familyId: string): Promise<void>;
}

export function createRefreshTokenStore(deps: {
  store: RecordStore;
  clock: Clock;
  random: Random;
  lifetimeSeconds: number;
  reuseGraceSeconds: number;
}): RefreshTokenStore {
  const { store, clock, random } = deps;

  async function familyRevoked(familyId: string): Promise<boolean> {
    const family = await store.get<Family>(FAMILY, familyId);
    return family === undefined || family.data.revokedAt !== undefined;
  }

  async function revokeFamily(familyId: string): Promise<void> {
    for (let attempt = 0; attempt < 5; attempt++) {
      const family = await store.get<Family>(FAMILY, familyId);
      if (!family || family.data.revokedAt !== undefined) return;
      if (await store.update<Family>(FAMILY, familyId, family.version, { revokedAt: clock.now() })) return;
    }
  }

  return {
    async issue(grant, family) {
      const now = clock.now();
      const familyId = family?.id ?? random.uuid();
      const expiresAt = now + deps.lifetimeSeconds * 1000;
      const token = opaqueToken(random, 48);
      await store.transaction(async (tx) => {
        if (!family || family.isNew) {
          await tx.insert<Family>({ kind: FAMILY, id: familyId, partition: grant.tenantId, data: {} });
        }
        await tx.insert<StoredRefreshToken>({
          kind: TOKEN,
          id: tokenDigest(token),
          partition: grant.tenantId,
          data: { ...grant, familyId, issuedAt: now, expiresAt },
          indexKeys: [`family:${familyId}`],
          expiresAt: expiresAt + RETENTION_MS,
        });
      });
      return { token, familyId };
    },

    async use(token) {
      const id = tokenDigest(token);
      const record = await store.get<StoredRefreshToken>(TOKEN, id);
      if (!record) return { outcome: 'unknown' };
      const stored = record.data;
      if (await familyRevoked(stored.familyId)) return { outcome: 'revoked' };
      const now = clock.now();
      if (now >= stored.expiresAt) return { outcome: 'expired', token: stored };
      if (stored.rotatedAt !== undefined) {
        if (now - stored.rotatedAt <= deps.reuseGraceSeconds * 1000) return { outcome: 'ok', token: stored };
        await revokeFamily(stored.familyId);
        return { outcome: 'reused' };
      }
      const updated = await store.update<StoredRefreshToken>(TOKEN, id, record.version, {
        ...stored,
        rotatedAt: now,
      });
      // Lost the race to a concurrent use: that use rotated it a moment ago, inside the grace window.
      if (!updated)
        return deps.reuseGraceSeconds > 0 ? { outcome: 'ok', token: stored } : { outcome: 'reused' };
      return { outcome: 'ok', token: stored };
    },

    revokeFamily,
  };
}
