import { createCipheriv, createDecipheriv, hkdfSync, randomBytes } from 'node:crypto';

/**
 * Sealed cookies: AES-256-GCM, so a session cookie is confidential and tamper-evident. The key is
 * derived with HKDF from the configured secret and a purpose label, so the same secret cannot be used
 * to forge one kind of cookie from another (flow vs session).
 */
export interface Sealer {
  seal(value: unknown, expiresAtMs: number): string;
  /** The value, or undefined when forged, corrupted, sealed with another key or expired. */
  open<T>(sealed: string, nowMs: number): T | undefined;
}

export function createSealer(secret: string | Uint8Array, purpose: string): Sealer {
  if ((typeof secret === 'string' ? Buffer.byteLength(secret) : secret.length) < 32)
    throw new RangeError('the session key must hold at least 32 bytes');
  const key = Buffer.from(hkdfSync('sha256', secret, Buffer.alloc(0), `behalf easyauth ${purpose}`, 32));
  const aad = Buffer.from(purpose);
  return {
    seal(value, expiresAtMs) {
      const iv = randomBytes(12);
      const cipher = createCipheriv('aes-256-gcm', key, iv).setAAD(aad);
      const plain = Buffer.from(JSON.stringify({ v: value, e: expiresAtMs }));
      const sealed = Buffer.concat([iv, cipher.update(plain), cipher.final(), cipher.getAuthTag()]);
      return sealed.toString('base64url');
    },
    open<T>(text: string, nowMs: number): T | undefined {
      const raw = Buffer.from(text, 'base64url');
      if (raw.length < 12 + 16 + 2) return undefined;
      try {
        const decipher = createDecipheriv('aes-256-gcm', key, raw.subarray(0, 12)).setAAD(aad);
        decipher.setAuthTag(raw.subarray(raw.length - 16));
        const plain = Buffer.concat([decipher.update(raw.subarray(12, raw.length - 16)), decipher.final()]);
        const { v, e } = JSON.parse(plain.toString('utf8')) as { v: T; e: number };
        return e > nowMs ? v : undefined;
      } catch {
        return undefined;
      }
    },
  };
}

export function parseCookies(header: string | undefined): Map<string, string> {
  const cookies = new Map<string, string>();
  for (const part of (header ?? '').split(';')) {
    const eq = part.indexOf('=');
    if (eq > 0) cookies.set(part.slice(0, eq).trim(), part.slice(eq + 1).trim());
  }
  return cookies;
}

export function setCookie(
  name: string,
  value: string,
  options: { path: string; maxAgeSeconds: number; secure: boolean },
): string {
  return [
    `${name}=${value}`,
    `Path=${options.path}`,
    `Max-Age=${options.maxAgeSeconds}`,
    'HttpOnly',
    'SameSite=Lax',
    ...(options.secure ? ['Secure'] : []),
  ].join('; ');
}
