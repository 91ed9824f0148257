import { createHmac, randomBytes, scrypt as scryptCallback, timingSafeEqual } from 'node:crypto';
import { promisify } from 'node:util';

const scrypt = promisify(scryptCallback) as (
  password: string,
  salt: Buffer,
  keylen: number,
  options: { N: number; r: number; p: number; maxmem: number },
) => Promise<Buffer>;

/**
 * Client secrets are generated with ≥ 256 bits of entropy, so a fast keyed hash is enough to store
 * them: brute force is hopeless and a password KDF would cost milliseconds on every token request.
 * The key (pepper) lives outside the database, so a stolen database alone cannot even test guesses.
 */
export interface SecretHasher {
  hash(secret: string): string;
  verify(secret: string, stored: string): boolean;
}

export function createSecretHasher(pepper: Buffer): SecretHasher {
  if (pepper.length < 32) throw new Error('the secret-hashing key must be at least 256 bits');
  const digest = (secret: string) => createHmac('sha256', pepper).update(secret, 'utf8').digest();
  return {
    hash: (secret) => 'hmac-sha256$' + digest(secret).toString('base64url'),
    verify: (secret, stored) => {
      const [scheme, encoded] = stored.split('$');
      if (scheme !== 'hmac-sha256' || encoded === undefined) return false;
      const expected = Buffer.from(encoded, 'base64url');
      const actual = digest(secret);
      return expected.length === actual.length && timingSafeEqual(expected, actual);
    },
  };
}

// scrypt is memory-hard: N=2^15, r=8 needs 32 MiB per hash, which makes GPU guessing expensive
// (OWASP Password Storage Cheat Sheet's scrypt minimum is N=2^17 with r=8,p=1 or equivalents;
// 2^15 keeps a sign-in near 50 ms on this machine's class of CPU).
const SCRYPT = { N: 2 ** 15, r: 8, p: 1, keylen: 32 } as const;

/** Self-describing: `scrypt$N$r$p$salt$hash`, so parameters can be raised later without a migration. */
export async function hashPassword(
  password: string,
  parameters: { N: number; r: number; p: number } = SCRYPT,
): Promise<string> {
  const salt = randomBytes(16);
  const derived = await scrypt(password.normalize('NFC'), salt, SCRYPT.keylen, {
    ...parameters,
    maxmem: 256 * parameters.N * parameters.r,
  });
  return [
    'scrypt',
    parameters.N,
    parameters.r,
    parameters.p,
    salt.toString('base64url'),
    derived.toString('base64url'),
  ].join('$');
}

export async function verifyPassword(password: string, stored: string): Promise<boolean> {
  const [scheme, n, r, p, salt, hash] = stored.split('$');
  if (scheme !== 'scrypt' || !n || !r || !p || salt === undefined || hash === undefined) return false;
  const expected = Buffer.from(hash, 'base64url');
  const N = Number(n);
  const R = Number(r);
  const derived = await scrypt(password.normalize('NFC'), Buffer.from(salt, 'base64url'), expected.length, {
    N,
    r: R,
    p: Number(p),
    maxmem: 256 * N * R,
  });
  return timingSafeEqual(derived, expected);
}

/** A fresh client secret in Entra's style: 40 characters from a URL-safe alphabet, ~240 bits. */
export function generateClientSecret(): string {
  return randomBytes(30).toString('base64url').replace(/-/g, '~').replace(/_/g, '.');
}
