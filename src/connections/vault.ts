import { createHash } from 'node:crypto';
import type { Envelope } from '../crypto/envelope.ts';
import type { Sealed } from './model.ts';

/**
 * The vault: every token, secret and secure parameter value of a connection is sealed before it
 * reaches the store. The cipher is the crypto part's envelope encryption (AES-256-GCM data keys under
 * a versioned key ring); the vault binds each ciphertext to its connection and field through the
 * additional authenticated data, so a ciphertext copied onto another connection (or another field of
 * the same one) fails to open instead of leaking a token to the wrong user.
 */
export interface VaultCipher {
  seal(plaintext: string, aad: string): string | Promise<string>;
  open(sealed: string, aad: string): string | Promise<string>;
}

/** The crypto part's envelope encryption as the vault's cipher. */
export function envelopeCipher(envelope: Envelope): VaultCipher {
  return {
    seal: (plaintext, aad) => envelope.encrypt(plaintext, aad),
    open: (sealed, aad) => envelope.decryptText(sealed, aad),
  };
}

export type VaultField = 'accessToken' | 'refreshToken' | `param:${string}`;

export interface Vault {
  seal(connectionId: string, field: VaultField, plaintext: string): Promise<Sealed>;
  open(connectionId: string, field: VaultField, sealed: Sealed): Promise<string>;
}

export function aadFor(connectionId: string, field: VaultField): string {
  return `behalf:connection:${connectionId}:${field}`;
}

/** SHA-256 of a token: a compare-and-swap key and cache key that reveals nothing usable. */
export function tokenHash(token: string): string {
  return createHash('sha256').update(token).digest('base64url');
}

/** Rotation re-wraps these values with every other envelope in the store (vault-rotation.ts). */
export function createVault(cipher: VaultCipher): Vault {
  return {
    seal: async (connectionId, field, plaintext) =>
      (await cipher.seal(plaintext, aadFor(connectionId, field))) as Sealed,
    open: async (connectionId, field, sealed) => cipher.open(sealed, aadFor(connectionId, field)),
  };
}
