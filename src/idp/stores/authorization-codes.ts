import type { Clock } from '../../core/clock.ts';
import type { Random } from '../../core/ids.ts';
import { opaqueToken } from '../../core/ids.ts';
import type { RecordStore } from '../../storage/record-store.ts';
import { tokenDigest } from './hash.ts';

const KIND = 'idp.authorization_code';
// A redeemed or expired code stays recorded this long, so a late replay is still recognised (and
// revokes what it issued) rather than looking like garbage.
const RETENTION_MS = 24 * 3600 * 1000;

export interface AuthorizationCodeGrant {
  readonly tenantId: string;
  readonly clientId: string;
  readonly redirectUri: string;
  readonly userId: string;
  /** The scope string as consented at /authorize (space-separated, as requested). */
  readonly scopes: string;
  readonly codeChallenge?: string | undefined;
  readonly codeChallengeMethod?: 'S256' | 'plain' | undefined;
  readonly nonce?: string | undefined;
  /** Seconds since the epoch when the user authenticated. */
  readonly authTime: number;
  readonly sessionId?: string | undefined;
  /** Authentication methods for `amr` (e.g. ["pwd"]). */
  readonly authMethods?: readonly string[] | undefined;
}

export interface StoredCode extends AuthorizationCodeGrant {
  readonly expiresAt: number;
  readonly redeemedAt?: number;
  /** The refresh-token family the redemption started: revoked if the code is replayed. */
  readonly familyId?: string;
}

export interface AuthorizationCodeStore {
  issue(grant: AuthorizationCodeGrant): Promise<string>;
  find(code: string): Promise<{ code: StoredCode; version: number; id: string } | undefined>;
  /** Marks the code redeemed; false when someone else redeemed it first (compare-and-swap). */
  markRedeemed(id: string, version: number, code: StoredCode, familyId: string): Promise<boolean>;
}

export function createAuthorizationCodeStore(deps: {
  store: RecordStore;
  clock: Clock;
  random: Random;
  lifetimeSeconds: number;
}): AuthorizationCodeStore {
  const { store, clock, random } = deps;
  return {
    async issue(grant) {
      const code = opaqueToken(random, 32);
      const expiresAt = clock.now() + deps.lifetimeSeconds * 1000;
      await store.insert<StoredCode>({
        kind: KIND,
        id: tokenDigest(code),
        partition: grant.tenantId,
        data: { ...grant, expiresAt },
        expiresAt: expiresAt + RETENTION_MS,
      });
      return code;
    },
    async find(code) {
      const record = await store.get<StoredCode>(KIND, tokenDigest(code));
      return record ? { code: record.data, version: record.version, id: record.id } : undefined;
    },
    async markRedeemed(id, version, code, familyId) {
      const updated = await store.update<StoredCode>(KIND, id, version, {
        ...code,
        redeemedAt: clock.now(),
        familyId,
      });
      return updated !== undefined;
    },
  };
}
