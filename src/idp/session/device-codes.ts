import { createHash } from 'node:crypto';
import type { Clock } from '../../core/clock.ts';
import { DuplicateKeyError } from '../../core/errors.ts';
import type { Random } from '../../core/ids.ts';
import { opaqueToken } from '../../core/ids.ts';
import type { RecordStore } from '../../storage/record-store.ts';

/**
 * Pending device authorizations (RFC 8628; ED:v2-oauth2-device-code.md). The device holds the
 * `device_code` (stored only as a hash), the user types the short `user_code` on the verification page.
 * A record goes pending → approved | declined, and is deleted by the one token request that redeems it.
 */
export interface DeviceAuthorization {
  readonly tenantId: string;
  readonly clientId: string;
  readonly endpoint: 1 | 2;
  /** The scope as requested (v2), or `{resource}/.default` for v1. */
  readonly scope: string;
  readonly userCode: string;
  /** Epoch milliseconds. */
  readonly expiresAt: number;
  readonly status: 'pending' | 'approved' | 'declined';
  readonly userId?: string;
  readonly authTime?: number;
  readonly sessionId?: string;
}

const KIND = 'idp.device-code';
// Entra's device codes live 15 minutes (expires_in 900) and ask for a poll every 5 seconds.
export const DEVICE_CODE_LIFETIME_SECONDS = 900;
export const DEVICE_CODE_INTERVAL_SECONDS = 5;
// After expiry the record is kept a little, so a late poll learns expired_token rather than a bad code.
const RETENTION_MS = 10 * 60 * 1000;
// No 0/O, 1/I/L, 5/S, 2/Z: a code read off one screen and typed on another survives the trip.
const USER_CODE_ALPHABET = 'ABCDEFGHJKMNPQRTUVWXY346789';
const USER_CODE_LENGTH = 9;

export interface DeviceCodes {
  start(input: {
    tenantId: string;
    clientId: string;
    endpoint: 1 | 2;
    scope: string;
  }): Promise<{ deviceCode: string; userCode: string; authorization: DeviceAuthorization }>;
  /** By the code the user typed (case and separators forgiven); undefined when unknown or expired. */
  findByUserCode(userCode: string): Promise<{ id: string; authorization: DeviceAuthorization } | undefined>;
  findByDeviceCode(
    deviceCode: string,
  ): Promise<{ id: string; version: number; authorization: DeviceAuthorization } | undefined>;
  /** The user's answer; false when the authorization is no longer pending. */
  answer(
    id: string,
    answer:
      { status: 'approved'; userId: string; authTime: number; sessionId: string } | { status: 'declined' },
  ): Promise<boolean>;
  /** Single use: of two racing redemptions exactly one deletes the record. */
  redeem(id: string, version: number): Promise<boolean>;
}

export function normalizeUserCode(typed: string): string {
  return typed.toUpperCase().replace(/[^A-Z0-9]/g, '');
}

export function createDeviceCodes(deps: { store: RecordStore; clock: Clock; random: Random }): DeviceCodes {
  const { store, clock, random } = deps;
  const hash = (deviceCode: string) => createHash('sha256').update(deviceCode).digest('base64url');
  const newUserCode = () =>
    [...random.bytes(USER_CODE_LENGTH)]
      .map((b) => USER_CODE_ALPHABET[b % USER_CODE_ALPHABET.length])
      .join('');

  return {
    async start(input) {
      const deviceCode = opaqueToken(random, 32);
      const expiresAt = clock.now() + DEVICE_CODE_LIFETIME_SECONDS * 1000;
      for (let attempt = 0; ; attempt++) {
        const userCode = newUserCode();
        const authorization: DeviceAuthorization = { ...input, userCode, expiresAt, status: 'pending' };
        try {
          await store.insert({
            kind: KIND,
            id: hash(deviceCode),
            partition: input.tenantId,
            data: authorization,
            uniqueKeys: [`user-code:${userCode}`],
            expiresAt: expiresAt + RETENTION_MS,
          });
          return { deviceCode, userCode, authorization };
        } catch (error) {
          // A user-code collision among live codes: draw another.
          if (!(error instanceof DuplicateKeyError) || attempt >= 5) throw error;
        }
      }
    },
    async findByUserCode(typed) {
      const userCode = normalizeUserCode(typed);
      if (userCode.length !== USER_CODE_LENGTH) return undefined;
      const record = await store.findByUniqueKey<DeviceAuthorization>(KIND, `user-code:${userCode}`);
      if (!record || record.data.expiresAt <= clock.now()) return undefined;
      return { id: record.id, authorization: record.data };
    },
    async findByDeviceCode(deviceCode) {
      if (deviceCode.length > 200) return undefined;
      const record = await store.get<DeviceAuthorization>(KIND, hash(deviceCode));
      return record && { id: record.id, version: record.version, authorization: record.data };
    },
    async answer(id, answer) {
      const record = await store.get<DeviceAuthorization>(KIND, id);
      if (!record || record.data.status !== 'pending' || record.data.expiresAt <= clock.now()) return false;
      const updated = await store.update(KIND, id, record.version, { ...record.data, ...answer });
      return updated !== undefined;
    },
    async redeem(id, version) {
      return store.delete(KIND, id, version);
    },
  };
}
