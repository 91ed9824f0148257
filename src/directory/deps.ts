import type { Clock } from '../core/clock.ts';
import type { Random } from '../core/ids.ts';
import type { RecordStore } from '../storage/record-store.ts';

/**
 * What the directory needs from outside. The hashers are structural (the directory may not import
 * crypto/): main.ts passes `createSecretHasher(pepper)` and `{ hash: hashPassword, verify: verifyPassword }`.
 */
export interface SecretHasher {
  hash(secret: string): string;
  verify(secret: string, stored: string): boolean;
}

export interface PasswordHasher {
  hash(password: string): Promise<string>;
  verify(password: string, stored: string): Promise<boolean>;
}

export interface DirectoryDeps {
  readonly store: RecordStore;
  readonly clock: Clock;
  readonly random: Random;
  readonly secretHasher: SecretHasher;
  readonly passwordHasher: PasswordHasher;
}

export function isoNow(deps: { clock: Clock }): string {
  return new Date(deps.clock.now()).toISOString();
}

/** Record kinds and key builders: one place, so two repositories never collide on a key. */
export const KIND = {
  tenant: 'directory.tenant',
  user: 'directory.user',
  userPassword: 'directory.user-password',
  group: 'directory.group',
  application: 'directory.application',
  servicePrincipal: 'directory.service-principal',
  grant: 'directory.oauth2-permission-grant',
  assignment: 'directory.app-role-assignment',
} as const;
