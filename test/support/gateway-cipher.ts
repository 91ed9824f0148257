import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';
import type { VaultCipher } from '../../src/connections/vault.ts';

/**
 * A stand-in for the crypto part's envelope cipher in unit tests of the vault and the refresher:
 * real AES-256-GCM with the AAD bound.
 */
export function testVaultCipher(): VaultCipher {
  const keys: Buffer[] = [randomBytes(32)];
  const seal = (plaintext: string, aad: string, version = keys.length - 1) => {
    const iv = randomBytes(12);
    const cipher = createCipheriv('aes-256-gcm', keys[version]!, iv);
    cipher.setAAD(Buffer.from(aad));
    const body = Buffer.concat([cipher.update(plaintext, 'utf8'), cipher.final()]);
    return ['v' + version, iv, cipher.getAuthTag(), body]
      .map((p) => (typeof p === 'string' ? p : p.toString('base64url')))
      .join('.');
  };
  const open = (sealed: string, aad: string) => {
    const [v, iv, tag, body] = sealed.split('.');
    const key = keys[Number(v!.slice(1))];
    if (!key || !iv || !tag || body === undefined) throw new Error('malformed ciphertext');
    const decipher = createDecipheriv('aes-256-gcm', key, Buffer.from(iv, 'base64url'));
    decipher.setAAD(Buffer.from(aad));
    decipher.setAuthTag(Buffer.from(tag, 'base64url'));
    return Buffer.concat([decipher.update(Buffer.from(body, 'base64url')), decipher.final()]).toString(
      'utf8',
    );
  };
  return {
    seal: (p, aad) => seal(p, aad),
    open,
  };
}

/** A cipher whose keys are derived from a fixed seed, so two processes in a test can share a vault. */
export function sharedTestVaultCipher(seed: string): VaultCipher {
  const key = Buffer.alloc(32);
  Buffer.from(seed.padEnd(32, '#')).copy(key);
  const iv = () => randomBytes(12);
  return {
    seal(plaintext, aad) {
      const nonce = iv();
      const cipher = createCipheriv('aes-256-gcm', key, nonce);
      cipher.setAAD(Buffer.from(aad));
      const body = Buffer.concat([cipher.update(plaintext, 'utf8'), cipher.final()]);
      return [nonce, cipher.getAuthTag(), body].map((p) => p.toString('base64url')).join('.');
    },
    open(sealed, aad) {
      const [nonce, tag, body] = sealed.split('.');
      const decipher = createDecipheriv('aes-256-gcm', key, Buffer.from(nonce!, 'base64url'));
      decipher.setAAD(Buffer.from(aad));
      decipher.setAuthTag(Buffer.from(tag!, 'base64url'));
      return Buffer.concat([decipher.update(Buffer.from(body!, 'base64url')), decipher.final()]).toString(
        'utf8',
      );
    },
  };
}
