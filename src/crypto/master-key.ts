import { hkdfSync, randomBytes } from 'node:crypto';
import {
  chmodSync,
  existsSync,
  linkSync,
  readFileSync,
  renameSync,
  unlinkSync,
  writeFileSync,
} from 'node:fs';
import { join } from 'node:path';
import { ConfigError, envName, flagName } from '../core/config.ts';
import type { Logger } from '../core/logger.ts';

/**
 * The vault's root secrets: a ring of versioned 256-bit master keys, the highest version current.
 * Each version yields a key-encryption key (KEK) that wraps per-value data keys (envelope.ts); a new
 * version makes new values wrap under it while older values stay readable until `behalf vault rotate`
 * re-wraps them, after which the old version can be removed.
 *
 * Text form, in config `masterKey` or `<dataDir>/master.key`: either one base64 key (version 1) or
 * `version:base64` entries separated by commas or new lines.
 */
export interface MasterKeyVersion {
  readonly version: number;
  readonly key: Buffer;
}

export interface MasterKeyRing {
  readonly currentVersion: number;
  readonly versions: readonly number[];
  /** The KEK of a version, or undefined when that version is not (or no longer) in the ring. */
  keyEncryptionKey(version: number): Buffer | undefined;
  /**
   * A purpose-bound subkey (HKDF-SHA256, RFC 5869) so no two uses share key material. Derived from the
   * ring's OLDEST version, so it survives the addition of new versions: values it protects (e.g. client
   * secret hashes) stay valid across vault rotations, and change only if that version is removed.
   */
  deriveKey(purpose: string, length?: number): Buffer;
}

const KEY_BYTES = 32;
const SALT = Buffer.from('behalf master key ring v1');
export const MASTER_KEY_FILE = 'master.key';

export function createMasterKeyRing(versions: readonly MasterKeyVersion[]): MasterKeyRing {
  if (versions.length === 0) throw new Error('the master key ring is empty');
  const byVersion = new Map<number, Buffer>();
  for (const { version, key } of versions) {
    if (!Number.isInteger(version) || version < 1) throw new Error(`invalid master key version ${version}`);
    if (key.length !== KEY_BYTES) throw new Error(`master key version ${version} is not 256 bits`);
    if (byVersion.has(version)) throw new Error(`master key version ${version} appears twice`);
    byVersion.set(version, hkdf(key, 'vault key-encryption key', KEY_BYTES));
  }
  const sorted = [...byVersion.keys()].sort((a, b) => a - b);
  const oldest = versions.find((v) => v.version === sorted[0])!.key;
  return {
    currentVersion: sorted[sorted.length - 1]!,
    versions: sorted,
    keyEncryptionKey: (version) => byVersion.get(version),
    deriveKey: (purpose, length = KEY_BYTES) => {
      if (purpose === 'vault key-encryption key') throw new Error('that purpose is reserved');
      return hkdf(oldest, purpose, length);
    },
  };
}

/** Parses the text form; throws with a message that never contains key material. */
export function parseMasterKeys(text: string): MasterKeyVersion[] {
  const entries = text
    .split(/[\n,]/)
    .map((entry) => entry.trim())
    .filter((entry) => entry !== '' && !entry.startsWith('#'));
  if (entries.length === 0) throw new Error('no master key found');
  return entries.map((entry, index) => {
    const match = /^(?:(\d+):)?([A-Za-z0-9+/_-]+={0,2})$/.exec(entry);
    if (!match || (match[1] === undefined && entries.length > 1)) {
      throw new Error(`master key entry ${index + 1} is not "version:base64"`);
    }
    const key = Buffer.from(match[2]!, 'base64');
    if (key.length !== KEY_BYTES)
      throw new Error(`master key entry ${index + 1} is not a base64 256-bit key`);
    return { version: match[1] === undefined ? 1 : Number(match[1]), key };
  });
}

export function formatMasterKeys(versions: readonly MasterKeyVersion[]): string {
  return versions.map((v) => `${v.version}:${v.key.toString('base64')}`).join('\n') + '\n';
}

export interface LoadMasterKeyOptions {
  /** Config `masterKey`; when set, no file is read or written. */
  readonly masterKey: string | undefined;
  readonly dataDir: string;
  readonly logger: Logger;
}

/**
 * The embedded default generates `<dataDir>/master.key` (mode 0600) on first start and says so, so an
 * operator knows the vault is only as safe as that file and can move the key into configuration.
 */
export function loadMasterKeyRing(options: LoadMasterKeyOptions): MasterKeyRing {
  if (options.masterKey !== undefined && options.masterKey !== '') {
    try {
      return createMasterKeyRing(parseMasterKeys(options.masterKey));
    } catch (error) {
      throw new ConfigError([
        `${flagName('masterKey')} / ${envName('masterKey')}: ${(error as Error).message}`,
      ]);
    }
  }
  const path = join(options.dataDir, MASTER_KEY_FILE);
  if (!existsSync(path)) {
    const created = writeNewFile(path, formatMasterKeys([{ version: 1, key: randomBytes(KEY_BYTES) }]));
    if (created) {
      options.logger.warn(
        'generated a vault master key in the data directory; anyone who can read it can decrypt the vault. ' +
          `Set ${envName('masterKey')} (or keep the file on encrypted storage) for production.`,
        { file: path },
      );
    }
  }
  try {
    return createMasterKeyRing(parseMasterKeys(readFileSync(path, 'utf8')));
  } catch (error) {
    throw new ConfigError([`${path}: ${(error as Error).message}`]);
  }
}

/**
 * Adds a new current version to `<dataDir>/master.key` (the embedded default's half of `behalf vault
 * rotate`; with config keys the operator adds the version to `masterKey`). Returns the new version.
 */
export function addMasterKeyVersion(options: { readonly dataDir: string; readonly logger: Logger }): number {
  const path = join(options.dataDir, MASTER_KEY_FILE);
  const versions = parseMasterKeys(readFileSync(path, 'utf8'));
  const next = Math.max(...versions.map((v) => v.version)) + 1;
  const temporary = `${path}.${process.pid}.tmp`;
  writeFileSync(temporary, formatMasterKeys([...versions, { version: next, key: randomBytes(KEY_BYTES) }]), {
    mode: 0o600,
  });
  chmodSync(temporary, 0o600);
  renameSync(temporary, path);
  options.logger.info('added a vault master key version', { file: path, version: next });
  return next;
}

function hkdf(key: Buffer, info: string, length: number): Buffer {
  return Buffer.from(hkdfSync('sha256', key, SALT, Buffer.from(info, 'utf8'), length));
}

// link() refuses to replace an existing name, so two processes starting on one data directory agree on
// a single key instead of each overwriting the other's; the content is complete before it is visible.
function writeNewFile(path: string, contents: string): boolean {
  const temporary = `${path}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`;
  writeFileSync(temporary, contents, { mode: 0o600 });
  chmodSync(temporary, 0o600);
  try {
    linkSync(temporary, path);
    return true;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'EEXIST') return false;
    throw error;
  } finally {
    unlinkSync(temporary);
  }
}

/** The pepper for `createSecretHasher` (hashing.ts): bound to its purpose, never the master key itself. */
export function clientSecretPepper(ring: MasterKeyRing): Buffer {
  return ring.deriveKey('client secret hashing pepper');
}
