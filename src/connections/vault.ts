import { createHash } from 'node:crypto';
import type { Envelope } from '../crypto/envelope.ts';
import type { ConnectionRecord, ConnectionRepository } from './connection-repository.ts';
import type { ConnectionData, Sealed } from './model.ts';

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
  /** Re-encrypts under the current key version; absent means open-then-seal. */
  rewrap?(sealed: string, aad: string): string | Promise<string>;
}

/** The crypto part's envelope encryption as the vault's cipher. */
export function envelopeCipher(envelope: Envelope): VaultCipher {
  return {
    seal: (plaintext, aad) => envelope.encrypt(plaintext, aad),
    open: (sealed, aad) => envelope.decryptText(sealed, aad),
    // Re-wrapping touches only the data key, so the associated data is not needed.
    rewrap: (sealed) => envelope.rewrap(sealed),
  };
}

export type VaultField = 'accessToken' | 'refreshToken' | `param:${string}`;

export interface Vault {
  seal(connectionId: string, field: VaultField, plaintext: string): Promise<Sealed>;
  open(connectionId: string, field: VaultField, sealed: Sealed): Promise<string>;
  /** Re-wraps every sealed value of every connection under the current key; online, CAS per record. */
  rotate(connections: ConnectionRepository): Promise<{ connections: number; values: number }>;
}

export function aadFor(connectionId: string, field: VaultField): string {
  return `behalf:connection:${connectionId}:${field}`;
}

/** SHA-256 of a token: a compare-and-swap key and cache key that reveals nothing usable. */
export function tokenHash(token: string): string {
  return createHash('sha256').update(token).digest('base64url');
}

export function createVault(cipher: VaultCipher): Vault {
  const rewrap = async (sealed: string, aad: string): Promise<Sealed> =>
    (cipher.rewrap
      ? await cipher.rewrap(sealed, aad)
      : await cipher.seal(await cipher.open(sealed, aad), aad)) as Sealed;

  const rewrapConnection = async (
    data: ConnectionData,
  ): Promise<{ data: ConnectionData; values: number }> => {
    let values = 0;
    const credential = { ...data.credential };
    if (credential.accessToken) {
      credential.accessToken = await rewrap(credential.accessToken, aadFor(data.id, 'accessToken'));
      values++;
    }
    if (credential.refreshToken) {
      credential.refreshToken = await rewrap(credential.refreshToken, aadFor(data.id, 'refreshToken'));
      values++;
    }
    const secureParameters: Record<string, Sealed> = {};
    for (const [name, sealed] of Object.entries(data.secureParameters)) {
      secureParameters[name] = await rewrap(sealed, aadFor(data.id, `param:${name}`));
      values++;
    }
    return { data: { ...data, credential, secureParameters }, values };
  };

  return {
    seal: async (connectionId, field, plaintext) =>
      (await cipher.seal(plaintext, aadFor(connectionId, field))) as Sealed,
    open: async (connectionId, field, sealed) => cipher.open(sealed, aadFor(connectionId, field)),

    async rotate(connections) {
      let count = 0;
      let values = 0;
      let after: string | undefined;
      for (;;) {
        const page = await connections.listAll(after, 100);
        for (const first of page) {
          // A concurrent refresh may win the CAS; re-read and re-wrap what it wrote.
          let record: ConnectionRecord | undefined = first;
          while (record) {
            const wrapped = await rewrapConnection(record.data);
            const written = await connections.update(record, () => wrapped.data);
            if (written) {
              count++;
              values += wrapped.values;
              break;
            }
            record = await connections.get(record.id);
          }
        }
        if (page.length < 100) break;
        after = page[page.length - 1]!.id;
      }
      return { connections: count, values };
    },
  };
}
