import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { ConfigError } from '../core/config.ts';
import { captureLogger } from '../core/logger.ts';
import { createEnvelope } from './envelope.ts';
import { createSecretHasher } from './hashing.ts';
import {
  addMasterKeyVersion,
  clientSecretPepper,
  createMasterKeyRing,
  loadMasterKeyRing,
  parseMasterKeys,
} from './master-key.ts';

function withDir(run: (dir: string) => void): void {
  const dir = mkdtempSync(join(tmpdir(), 'behalf-master-'));
  try {
    run(dir);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

describe('master key ring', () => {
  it('parses one base64 key as version 1 and versioned lists, the highest current', () => {
    const a = randomBytes(32);
    const b = randomBytes(32);
    assert.deepEqual(parseMasterKeys(a.toString('base64')), [{ version: 1, key: a }]);
    const ring = createMasterKeyRing(
      parseMasterKeys(`1:${a.toString('base64')}, 3:${b.toString('base64url')}`),
    );
    assert.equal(ring.currentVersion, 3);
    assert.deepEqual(ring.versions, [1, 3]);
    assert.equal(ring.keyEncryptionKey(2), undefined);
    assert.notDeepEqual(ring.keyEncryptionKey(3), b, 'the KEK is derived, not the raw master key');
  });

  it('rejects short keys and bad entries without echoing key material', () => {
    const short = randomBytes(16).toString('base64');
    assert.throws(
      () => parseMasterKeys(short),
      (error: Error) => !error.message.includes(short) && /256-bit/.test(error.message),
    );
    assert.throws(() => parseMasterKeys(''), /no master key/);
    assert.throws(() =>
      createMasterKeyRing([
        { version: 1, key: randomBytes(32) },
        { version: 1, key: randomBytes(32) },
      ]),
    );
    withDir((dataDir) => {
      assert.throws(
        () => loadMasterKeyRing({ masterKey: short, dataDir, logger: captureLogger() }),
        (error: unknown) =>
          error instanceof ConfigError &&
          error.message.includes('BEHALF_MASTER_KEY') &&
          !error.message.includes(short),
      );
    });
  });

  it('derives stable, purpose-bound subkeys that survive a new version', () => {
    const v1 = { version: 1, key: randomBytes(32) };
    const ring = createMasterKeyRing([v1]);
    const pepper = clientSecretPepper(ring);
    assert.equal(pepper.length, 32);
    assert.notDeepEqual(pepper, ring.deriveKey('another purpose'));
    assert.deepEqual(pepper, clientSecretPepper(createMasterKeyRing([v1])));
    assert.deepEqual(
      pepper,
      clientSecretPepper(createMasterKeyRing([v1, { version: 2, key: randomBytes(32) }])),
    );
    assert.notDeepEqual(
      pepper,
      clientSecretPepper(createMasterKeyRing([{ version: 1, key: randomBytes(32) }])),
    );
    assert.equal(ring.deriveKey('x', 64).length, 64);
    const hasher = createSecretHasher(pepper);
    assert.equal(
      createSecretHasher(clientSecretPepper(createMasterKeyRing([v1]))).verify('s', hasher.hash('s')),
      true,
    );
  });

  it('uses the configured key and writes no file', () => {
    withDir((dataDir) => {
      const key = randomBytes(32);
      const ring = loadMasterKeyRing({ masterKey: key.toString('base64'), dataDir, logger: captureLogger() });
      assert.equal(ring.currentVersion, 1);
      assert.equal(existsSync(join(dataDir, 'master.key')), false);
      assert.deepEqual(ring.deriveKey('p'), createMasterKeyRing([{ version: 1, key }]).deriveKey('p'));
    });
  });

  it('generates master.key (0600) on first start, says so without key material, and reuses it', () => {
    withDir((dataDir) => {
      const logger = captureLogger();
      const first = loadMasterKeyRing({ masterKey: undefined, dataDir, logger });
      const path = join(dataDir, 'master.key');
      const text = readFileSync(path, 'utf8');
      if (process.platform !== 'win32') assert.equal(statSync(path).mode & 0o777, 0o600);
      assert.equal(logger.lines.length, 1);
      assert.match(logger.lines[0]!, /generated a vault master key/);
      const key = parseMasterKeys(text)[0]!.key;
      for (const line of logger.lines) {
        assert.ok(!line.includes(key.toString('base64')) && !line.includes(key.toString('hex')));
      }
      const again = loadMasterKeyRing({ masterKey: undefined, dataDir, logger });
      assert.equal(logger.lines.length, 1, 'no second announcement');
      assert.deepEqual(again.deriveKey('p'), first.deriveKey('p'));
      const sealed = createEnvelope(first).encrypt('secret', 'aad');
      assert.equal(createEnvelope(again).decryptText(sealed, 'aad'), 'secret');

      assert.equal(addMasterKeyVersion({ dataDir, logger }), 2);
      const rotated = loadMasterKeyRing({ masterKey: undefined, dataDir, logger });
      assert.equal(rotated.currentVersion, 2);
      assert.equal(createEnvelope(rotated).decryptText(sealed, 'aad'), 'secret');
      assert.equal(createEnvelope(rotated).needsRewrap(sealed), true);
      assert.deepEqual(rotated.deriveKey('p'), first.deriveKey('p'));
      if (process.platform !== 'win32') assert.equal(statSync(path).mode & 0o777, 0o600);
    });
  });
});
