import { createHmac, randomBytes, scryptSync, timingSafeEqual } from 'node:crypto';
import { manualClock } from '../core/clock.ts';
import { cryptoRandom } from '../core/ids.ts';
import { createMemoryStore } from '../storage/adapters/memory.ts';
import type { RecordStore } from '../storage/record-store.ts';
import type { PasswordHasher, SecretHasher } from './deps.ts';
import { createDirectory } from './directory.ts';

/**
 * Unit-test collaborators. The real hashers live in crypto/, which the directory may not import; these
 * are equivalent in behaviour (keyed hash, salted KDF) and cheap.
 */
export function testSecretHasher(): SecretHasher {
  const key = randomBytes(32);
  const digest = (s: string) => 'hmac$' + createHmac('sha256', key).update(s).digest('base64url');
  return { hash: digest, verify: (s, stored) => digest(s) === stored };
}

export function testPasswordHasher(): PasswordHasher {
  return {
    hash: async (password) => {
      const salt = randomBytes(16);
      return `test$${salt.toString('base64url')}$${scryptSync(password, salt, 32, { N: 1024 }).toString('base64url')}`;
    },
    verify: async (password, stored) => {
      const [, salt, hash] = stored.split('$');
      const derived = scryptSync(password, Buffer.from(salt ?? '', 'base64url'), 32, { N: 1024 });
      const expected = Buffer.from(hash ?? '', 'base64url');
      return expected.length === derived.length && timingSafeEqual(derived, expected);
    },
  };
}

export function testDirectory(store: RecordStore = createMemoryStore()) {
  const clock = manualClock(Date.UTC(2026, 0, 1));
  const directory = createDirectory({
    store,
    clock,
    random: cryptoRandom,
    secretHasher: testSecretHasher(),
    passwordHasher: testPasswordHasher(),
  });
  return { directory, clock, store };
}
