import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';

/**
 * Authenticated encryption of small cookie payloads (AES-256-GCM). The associated data binds a value to
 * its context (the tenant), so a cookie lifted from one tenant fails authentication in another.
 */
export interface Sealer {
  seal(plain: string, context: string): string;
  /** Undefined for anything forged, truncated or sealed for another context. */
  open(sealed: string, context: string): string | undefined;
}

export function createSealer(key: Buffer): Sealer {
  if (key.length !== 32) throw new Error('the cookie key must be 256 bits');
  return {
    seal(plain, context) {
      const iv = randomBytes(12);
      const cipher = createCipheriv('aes-256-gcm', key, iv);
      cipher.setAAD(Buffer.from(context, 'utf8'));
      const body = Buffer.concat([cipher.update(plain, 'utf8'), cipher.final()]);
      return [iv, body, cipher.getAuthTag()].map((b) => b.toString('base64url')).join('.');
    },
    open(sealed, context) {
      const [iv, body, tag] = sealed.split('.').map((p) => Buffer.from(p, 'base64url'));
      if (!iv || !body || !tag || iv.length !== 12 || tag.length !== 16) return undefined;
      try {
        const decipher = createDecipheriv('aes-256-gcm', key, iv);
        decipher.setAAD(Buffer.from(context, 'utf8'));
        decipher.setAuthTag(tag);
        return Buffer.concat([decipher.update(body), decipher.final()]).toString('utf8');
      } catch {
        return undefined;
      }
    },
  };
}
