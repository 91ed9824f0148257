import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';
import type { MasterKeyRing } from './master-key.ts';

/**
 * Envelope encryption for secrets at rest (vault tokens, client secrets kept for outbound calls,
 * signing keys): each value gets a fresh AES-256-GCM data key, and only that data key is encrypted
 * ("wrapped") under the ring's current key-encryption key. Rotation therefore re-wraps 32-byte keys
 * without touching the data, and a leaked data key exposes one value only.
 *
 * Format (one ASCII string, safe in JSON and SQL text):
 *   `env1.<kekVersion>.<wrappedKey>.<iv>.<tag>.<ciphertext>`   (base64url parts)
 * where wrappedKey = iv ‖ AES-256-GCM(kek, dataKey) ‖ tag.
 *
 * The caller's associated data (e.g. `connection/<id>/refresh_token`) is authenticated with the
 * ciphertext, so a value copied onto another record fails to decrypt instead of leaking across owners.
 */
export interface Envelope {
  encrypt(plaintext: string | Uint8Array, associatedData: string): string;
  decrypt(value: string, associatedData: string): Buffer;
  decryptText(value: string, associatedData: string): string;
  /** True when the value is wrapped under an older key version than the current one. */
  needsRewrap(value: string): boolean;
  /** The same value with its data key re-wrapped under the current version (no associated data needed). */
  rewrap(value: string): string;
}

/** Deliberately uninformative: why a value failed to open is nobody's business but the log's. */
export class DecryptionError extends Error {
  constructor(message = 'the value could not be decrypted') {
    super(message);
    this.name = 'DecryptionError';
  }
}

const PREFIX = 'env1';
const IV_BYTES = 12;
const TAG_BYTES = 16;
const KEY_BYTES = 32;

export function createEnvelope(ring: MasterKeyRing): Envelope {
  const kek = (version: number) => {
    const key = ring.keyEncryptionKey(version);
    if (!key) throw new DecryptionError(`the vault key version ${version} is not in the master key ring`);
    return key;
  };
  const wrap = (dataKey: Buffer, version: number) => seal(kek(version), dataKey, wrapAad(version));
  const unwrap = (parts: Parts) => {
    const dataKey = open(kek(parts.version), parts.wrappedKey, wrapAad(parts.version));
    if (dataKey.length !== KEY_BYTES) throw new DecryptionError();
    return dataKey;
  };

  return {
    encrypt(plaintext, associatedData) {
      const dataKey = randomBytes(KEY_BYTES);
      const version = ring.currentVersion;
      const body = seal(dataKey, Buffer.from(plaintext), dataAad(associatedData));
      const iv = body.subarray(0, IV_BYTES);
      const tag = body.subarray(body.length - TAG_BYTES);
      const ciphertext = body.subarray(IV_BYTES, body.length - TAG_BYTES);
      const wrappedKey = wrap(dataKey, version);
      dataKey.fill(0);
      return format({ version, wrappedKey, iv, tag, ciphertext });
    },
    decrypt(value, associatedData) {
      const parts = parse(value);
      const dataKey = unwrap(parts);
      try {
        return open(dataKey, Buffer.concat([parts.iv, parts.ciphertext, parts.tag]), dataAad(associatedData));
      } finally {
        dataKey.fill(0);
      }
    },
    decryptText(value, associatedData) {
      return this.decrypt(value, associatedData).toString('utf8');
    },
    needsRewrap: (value) => parse(value).version !== ring.currentVersion,
    rewrap(value) {
      const parts = parse(value);
      if (parts.version === ring.currentVersion) return value;
      const dataKey = unwrap(parts);
      try {
        return format({
          ...parts,
          version: ring.currentVersion,
          wrappedKey: wrap(dataKey, ring.currentVersion),
        });
      } finally {
        dataKey.fill(0);
      }
    },
  };
}

/** Whether a stored string is an envelope (for migrations that meet older plain values). */
export function isEnvelope(value: string): boolean {
  return value.startsWith(PREFIX + '.');
}

interface Parts {
  readonly version: number;
  readonly wrappedKey: Buffer;
  readonly iv: Buffer;
  readonly tag: Buffer;
  readonly ciphertext: Buffer;
}

function format(parts: Parts): string {
  const b64 = (bytes: Buffer) => bytes.toString('base64url');
  return [
    PREFIX,
    parts.version,
    b64(parts.wrappedKey),
    b64(parts.iv),
    b64(parts.tag),
    b64(parts.ciphertext),
  ].join('.');
}

function parse(value: string): Parts {
  const fields = value.split('.');
  const [prefix, version, wrappedKey, iv, tag, ciphertext] = fields;
  if (
    fields.length !== 6 ||
    prefix !== PREFIX ||
    !/^[1-9]\d{0,8}$/.test(version ?? '') ||
    wrappedKey === undefined ||
    iv === undefined ||
    tag === undefined ||
    ciphertext === undefined
  ) {
    throw new DecryptionError('the value is not an encrypted envelope');
  }
  const bytes = (text: string) => Buffer.from(text, 'base64url');
  const parts = {
    version: Number(version),
    wrappedKey: bytes(wrappedKey),
    iv: bytes(iv),
    tag: bytes(tag),
    ciphertext: bytes(ciphertext),
  };
  if (parts.iv.length !== IV_BYTES || parts.tag.length !== TAG_BYTES) {
    throw new DecryptionError('the value is not an encrypted envelope');
  }
  return parts;
}

// Domain separation: a wrapped key can only be opened as a wrapped key of its own version, and a data
// ciphertext only as data with the caller's associated data.
const wrapAad = (version: number) => Buffer.from(`${PREFIX} wrapped data key v${version}`);
const dataAad = (associatedData: string) => Buffer.from(`${PREFIX} data\u0000${associatedData}`);

/** iv ‖ ciphertext ‖ tag */
function seal(key: Buffer, plaintext: Buffer, aad: Buffer): Buffer {
  const iv = randomBytes(IV_BYTES);
  const cipher = createCipheriv('aes-256-gcm', key, iv, { authTagLength: TAG_BYTES });
  cipher.setAAD(aad);
  const body = Buffer.concat([cipher.update(plaintext), cipher.final()]);
  return Buffer.concat([iv, body, cipher.getAuthTag()]);
}

function open(key: Buffer, sealed: Buffer, aad: Buffer): Buffer {
  if (sealed.length < IV_BYTES + TAG_BYTES) throw new DecryptionError();
  try {
    const decipher = createDecipheriv('aes-256-gcm', key, sealed.subarray(0, IV_BYTES), {
      authTagLength: TAG_BYTES,
    });
    decipher.setAAD(aad);
    decipher.setAuthTag(sealed.subarray(sealed.length - TAG_BYTES));
    return Buffer.concat([
      decipher.update(sealed.subarray(IV_BYTES, sealed.length - TAG_BYTES)),
      decipher.final(),
    ]);
  } catch {
    throw new DecryptionError();
  }
}
