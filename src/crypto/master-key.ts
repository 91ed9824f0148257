import { hkdfSync, randomBytes } from 'node:crypto';
import {
  chmodSync,
  closeSync,
  existsSync,
  linkSync,
  openSync,
  readFileSync,
  renameSync,
  statSync,
  unlinkSync,
  writeFileSync,
} from 'node:fs';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { ConfigError, envName, flagName } from '../core/config.ts';
import { DuplicateKeyError } from '../core/errors.ts';
import type { Logger } from '../core/logger.ts';
import { createEnvelope, DecryptionError } from './envelope.ts';

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
   * ring's OLDEST version, so it survives the addition of new versions: values it protects (client
   * secret hashes, pairwise subjects, cookies) stay valid across vault rotations. A ring pinned by
   * `pinKeyDerivation` (what Behalf runs with) keeps that root in the store, so it survives the removal
   * of the version too.
   */
  deriveKey(purpose: string, length?: number): Buffer;
}

const KEY_BYTES = 32;
const SALT = Buffer.from('behalf master key ring v1');
export const MASTER_KEY_FILE = 'master.key';

// The raw key a ring derives its subkeys from, kept out of the ring's interface so no caller can read
// it; only pinKeyDerivation needs it, to seal it into the store once.
const seeds = new WeakMap<MasterKeyRing, Buffer>();
const withSeed = (ring: MasterKeyRing, seed: Buffer): MasterKeyRing => (seeds.set(ring, seed), ring);
const KEK_PURPOSE = 'vault key-encryption key';
const derivation =
  (seed: Buffer) =>
  (purpose: string, length = KEY_BYTES): Buffer => {
    if (purpose === KEK_PURPOSE) throw new Error('that purpose is reserved');
    return hkdf(seed, purpose, length);
  };

export function createMasterKeyRing(versions: readonly MasterKeyVersion[]): MasterKeyRing {
  if (versions.length === 0) throw new Error('the master key ring is empty');
  const byVersion = new Map<number, Buffer>();
  for (const { version, key } of versions) {
    if (!Number.isInteger(version) || version < 1) throw new Error(`invalid master key version ${version}`);
    if (key.length !== KEY_BYTES) throw new Error(`master key version ${version} is not 256 bits`);
    if (byVersion.has(version)) throw new Error(`master key version ${version} appears twice`);
    byVersion.set(version, hkdf(key, KEK_PURPOSE, KEY_BYTES));
  }
  const sorted = [...byVersion.keys()].sort((a, b) => a - b);
  const oldest = versions.find((v) => v.version === sorted[0])!.key;
  return withSeed(
    {
      currentVersion: sorted[sorted.length - 1]!,
      versions: sorted,
      keyEncryptionKey: (version) => byVersion.get(version),
      deriveKey: derivation(oldest),
    },
    oldest,
  );
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
  /**
   * Follow master.key while running (what Behalf does): without it the ring is a snapshot of the file,
   * as a one-shot tool wants.
   */
  readonly follow?: boolean;
  /** How often a followed ring may look at the file again; default 1000 ms. */
  readonly reloadIntervalMs?: number;
  /** Monotonic milliseconds (performance.now by default). */
  readonly now?: () => number;
}

/**
 * The embedded default generates `<dataDir>/master.key` (mode 0600) on first start and says so, so an
 * operator knows the vault is only as safe as that file and can move the key into configuration.
 *
 * A ring that follows the file (`follow`, as Behalf runs it) is what lets `behalf vault rotate`
 * work online: a value wrapped under a version the ring lacks makes it read the file again, and the
 * current version is re-checked too (a stat, at most once per interval each), so new values are
 * written under a version added by another process within about a second. Versions are only ever
 * added: one removed from the file stays usable until the next start, so a value read before the
 * removal (a cache) still opens. A key given by configuration cannot be re-read; see docs/connections.md.
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
  return options.follow ? followedFileRing(path, options) : createMasterKeyRing(readKeyFile(path).versions);
}

/** What identifies one state of the key file, so a look that finds the same state reads nothing. */
function stampOf(path: string): string {
  const stat = statSync(path);
  return `${stat.ino}:${stat.size}:${stat.mtimeMs}`;
}

function readKeyFile(path: string): { stamp: string; versions: MasterKeyVersion[] } {
  try {
    // The stamp is taken before the read: a change racing the read is seen again at the next look.
    const stamp = stampOf(path);
    return { stamp, versions: parseMasterKeys(readFileSync(path, 'utf8')) };
  } catch (error) {
    throw new ConfigError([`${path}: ${(error as Error).message}`]);
  }
}

function followedFileRing(path: string, options: LoadMasterKeyOptions): MasterKeyRing {
  const interval = options.reloadIntervalMs ?? 1000;
  const now = options.now ?? (() => performance.now());
  let { stamp, versions } = readKeyFile(path);
  let ring = createMasterKeyRing(versions);
  let lastLook = now();
  let lastMiss = -Infinity;
  let complained = '';

  const look = () => {
    let stat: string;
    try {
      stat = stampOf(path);
    } catch {
      stat = 'missing';
    }
    if (stat === stamp || stat === complained) return;
    try {
      const read = readKeyFile(path);
      const known = new Map(versions.map((v) => [v.version, v.key]));
      const added = read.versions.filter((v) => !known.has(v.version));
      if (read.versions.some((v) => known.has(v.version) && !known.get(v.version)!.equals(v.key)))
        options.logger.warn('the vault master key file changed a version this process knows; kept its key', {
          file: path,
        });
      stamp = read.stamp;
      if (added.length === 0) return;
      versions = [...versions, ...added];
      ring = createMasterKeyRing(versions);
      options.logger.info('read new vault master key versions', {
        file: path,
        versions: added.map((v) => v.version),
        currentVersion: ring.currentVersion,
      });
    } catch (error) {
      // A hand edit caught half-way: keep the ring, say so once per state of the file.
      complained = stat;
      options.logger.warn('the vault master key file could not be read again; kept the keys already read', {
        file: path,
        reason: error instanceof ConfigError ? error.problems.join('; ') : 'unreadable',
      });
    }
  };
  const lookEvery = () => {
    if (now() - lastLook < interval) return;
    lastLook = now();
    look();
  };

  return withSeed(
    {
      get currentVersion() {
        lookEvery();
        return ring.currentVersion;
      },
      get versions() {
        lookEvery();
        return ring.versions;
      },
      keyEncryptionKey(version) {
        const known = ring.keyEncryptionKey(version);
        if (known || now() - lastMiss < interval) return known;
        lastMiss = now();
        look();
        return ring.keyEncryptionKey(version);
      },
      // Fixed at start: the subkeys in use must not change under a running process.
      deriveKey: ring.deriveKey,
    },
    seeds.get(ring)!,
  );
}

/**
 * Adds a new current version to `<dataDir>/master.key` (the embedded default's half of `behalf vault
 * rotate`; with config keys the operator adds the version to `masterKey`). Returns the new version.
 * A lock file keeps two rotations from each adding "the next" version with a different key: the loser
 * would re-wrap values under a key the file no longer holds.
 */
export function addMasterKeyVersion(options: { readonly dataDir: string; readonly logger: Logger }): number {
  const path = join(options.dataDir, MASTER_KEY_FILE);
  const lock = `${path}.lock`;
  let held: number;
  try {
    held = openSync(lock, 'wx', 0o600);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
    throw new Error(
      `${lock} exists: another \`behalf vault rotate\` is adding a version (if none is running, delete the file)`,
      { cause: error },
    );
  }
  try {
    const versions = parseMasterKeys(readFileSync(path, 'utf8'));
    const next = Math.max(...versions.map((v) => v.version)) + 1;
    const temporary = `${path}.${process.pid}.tmp`;
    writeFileSync(
      temporary,
      formatMasterKeys([...versions, { version: next, key: randomBytes(KEY_BYTES) }]),
      { mode: 0o600 },
    );
    chmodSync(temporary, 0o600);
    renameSync(temporary, path);
    options.logger.info('added a vault master key version', { file: path, version: next });
    return next;
  } finally {
    closeSync(held);
    unlinkSync(lock);
  }
}

/**
 * The store a pinned derivation root lives in: the two calls of the RecordStore port it needs (crypto
 * does not depend on storage; any RecordStore fits).
 */
export interface DerivationRootStore {
  get(kind: string, id: string): Promise<{ readonly data: unknown } | undefined>;
  insert(record: {
    readonly kind: string;
    readonly id: string;
    readonly partition: string;
    readonly data: { sealed: string };
  }): Promise<unknown>;
}

export const DERIVATION_ROOT_KIND = 'vault.derivation_root';
const DERIVATION_ROOT_ID = 'root';
const DERIVATION_ROOT_AAD = 'behalf:master-key:derivation-root';

/**
 * Subkeys (client secret hashing pepper, pairwise subjects, cookie and ticket keys) must outlive the
 * master key version they were first derived from: a client secret hash or a `sub` claim cannot be
 * recomputed later. So the root they derive from, the ring's oldest key when this first runs (exactly
 * what unpinned rings derive from, so nothing changes on upgrade), is kept in the store under envelope
 * encryption like any vault value: `behalf vault rotate` re-wraps it, and after that the version it
 * came from can leave the ring. A stolen database alone still yields nothing; the version's key
 * leaking later exposes the subkeys, as it always did, but no longer the vault's current values.
 */
export async function pinKeyDerivation(
  ring: MasterKeyRing,
  store: DerivationRootStore,
): Promise<MasterKeyRing> {
  const envelope = createEnvelope(ring);
  const sealedRoot = async () =>
    ((await store.get(DERIVATION_ROOT_KIND, DERIVATION_ROOT_ID))?.data as { sealed?: string } | undefined)
      ?.sealed;
  let sealed = await sealedRoot();
  if (sealed === undefined) {
    const seed = seeds.get(ring);
    if (!seed) throw new Error('this master key ring cannot be pinned');
    sealed = envelope.encrypt(seed, DERIVATION_ROOT_AAD);
    try {
      await store.insert({
        kind: DERIVATION_ROOT_KIND,
        id: DERIVATION_ROOT_ID,
        partition: '',
        data: { sealed },
      });
    } catch (error) {
      // Another node pinned it first: derive from theirs, so all nodes agree.
      if (!(error instanceof DuplicateKeyError)) throw error;
      sealed = (await sealedRoot())!;
    }
  }
  let root: Buffer;
  try {
    root = envelope.decrypt(sealed, DERIVATION_ROOT_AAD);
  } catch (error) {
    if (!(error instanceof DecryptionError)) throw error;
    const version = /^env1\.(\d+)\./.exec(sealed)?.[1] ?? '?';
    throw new ConfigError([
      `the vault master key does not open the store's key-derivation root (wrapped under version ${version}, ` +
        `the ring holds ${ring.versions.join(', ')}): a version was removed before \`behalf vault rotate\` ` +
        'finished, or this is not the master key of this store',
    ]);
  }
  return withSeed(
    {
      get currentVersion() {
        return ring.currentVersion;
      },
      get versions() {
        return ring.versions;
      },
      keyEncryptionKey: (version) => ring.keyEncryptionKey(version),
      deriveKey: derivation(root),
    },
    root,
  );
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
