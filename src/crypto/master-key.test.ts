import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { ConfigError } from '../core/config.ts';
import { captureLogger, silentLogger } from '../core/logger.ts';
import { DuplicateKeyError } from '../core/errors.ts';
import { createEnvelope } from './envelope.ts';
import { createSecretHasher } from './hashing.ts';
import type { DerivationRootStore } from './master-key.ts';
import {
  addMasterKeyVersion,
  clientSecretPepper,
  createMasterKeyRing,
  DERIVATION_ROOT_KIND,
  formatMasterKeys,
  loadMasterKeyRing,
  parseMasterKeys,
  pinKeyDerivation,
} from './master-key.ts';

/** The two store calls pinKeyDerivation makes (crypto tests do not use the storage adapters). */
function rootStore(): DerivationRootStore & { rows: Map<string, { sealed: string }> } {
  const rows = new Map<string, { sealed: string }>();
  return {
    rows,
    get: async (kind, id) => {
      const data = rows.get(`${kind}/${id}`);
      return data ? { data: structuredClone(data) } : undefined;
    },
    insert: async (record) => {
      if (rows.has(`${record.kind}/${record.id}`))
        throw new DuplicateKeyError(record.kind, `id:${record.id}`);
      rows.set(`${record.kind}/${record.id}`, structuredClone(record.data));
      return record;
    },
  };
}

/** Behalf's ring over master.key, on a clock the test moves. */
function followedRing(dataDir: string) {
  let time = 0;
  const logger = captureLogger();
  const running = loadMasterKeyRing({ masterKey: undefined, dataDir, logger, follow: true, now: () => time });
  return { running, logger, advance: (ms: number) => (time += ms) };
}

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

  it('a ring read from master.key follows the file: a new version is read when met, at most once per interval', () => {
    withDir((dataDir) => {
      const { running, logger, advance } = followedRing(dataDir);
      const envelope = createEnvelope(running);
      const old = envelope.encrypt('old', 'aad');
      // Another process (behalf vault rotate) adds version 2 and writes under it.
      addMasterKeyVersion({ dataDir, logger: silentLogger });
      const other = createEnvelope(loadMasterKeyRing({ masterKey: undefined, dataDir, logger }));
      const sealed = other.encrypt('new', 'aad');
      assert.equal(envelope.decryptText(sealed, 'aad'), 'new', 'the unknown version made it read the file');
      assert.match(logger.lines.join('\n'), /read new vault master key versions/);
      assert.equal(running.currentVersion, 2, 'new values are written under the new version');
      assert.ok(envelope.encrypt('x', 'aad').startsWith('env1.2.'));
      assert.equal(envelope.decryptText(old, 'aad'), 'old');

      // A missing version looks at the file at most once per interval.
      addMasterKeyVersion({ dataDir, logger: silentLogger });
      const v3 = createEnvelope(loadMasterKeyRing({ masterKey: undefined, dataDir, logger })).encrypt(
        '3',
        'a',
      );
      advance(20);
      assert.throws(
        () => envelope.decryptText(v3, 'a'),
        /version 3 is not in the master key ring/,
        'the miss at time 0 looked; the next look waits for the interval',
      );
      assert.equal(
        running.currentVersion,
        2,
        'the current version is not looked at again within the interval',
      );
      advance(1000);
      assert.equal(envelope.decryptText(v3, 'a'), '3');
      assert.equal(running.currentVersion, 3);
    });
  });

  it('the followed ring notices a new current version within the interval, keeps removed versions, survives a bad edit', () => {
    withDir((dataDir) => {
      const { running, logger, advance } = followedRing(dataDir);
      const path = join(dataDir, 'master.key');
      const v1 = parseMasterKeys(readFileSync(path, 'utf8'))[0]!;
      const sealed = createEnvelope(running).encrypt('kept', 'aad');
      assert.equal(running.currentVersion, 1);
      addMasterKeyVersion({ dataDir, logger: silentLogger });
      assert.equal(running.currentVersion, 1, 'not looked at within the interval');
      advance(1000);
      assert.equal(running.currentVersion, 2, 'a write after the interval uses the new version');
      // The operator removes version 1 while Behalf runs: values read before still open until restart.
      const v2 = parseMasterKeys(readFileSync(path, 'utf8')).find((v) => v.version === 2)!;
      writeFileSync(path, formatMasterKeys([v2]));
      advance(1000);
      assert.deepEqual(running.versions, [1, 2]);
      assert.equal(createEnvelope(running).decryptText(sealed, 'aad'), 'kept');
      // A half-written file is reported once (no key material) and ignored.
      writeFileSync(path, '2:' + v2.key.toString('base64').slice(0, 20));
      advance(1000);
      assert.equal(running.currentVersion, 2);
      advance(1000);
      assert.equal(running.currentVersion, 2);
      const warnings = logger.lines.filter((line) => line.includes('could not be read again'));
      assert.equal(warnings.length, 1, logger.lines.join('\n'));
      assert.ok(!warnings[0]!.includes(v2.key.toString('base64').slice(0, 20)));
      assert.ok(!logger.lines.join('\n').includes(v1.key.toString('base64')));
    });
  });

  it('a ring from configuration is fixed; rotation refuses to add a version while another is adding one', () => {
    withDir((dataDir) => {
      const key = randomBytes(32).toString('base64');
      const ring = loadMasterKeyRing({
        masterKey: key,
        dataDir,
        logger: silentLogger,
        follow: true,
        reloadIntervalMs: 0,
      });
      assert.equal(ring.currentVersion, 1);
      loadMasterKeyRing({ masterKey: undefined, dataDir, logger: silentLogger });
      writeFileSync(join(dataDir, 'master.key.lock'), '');
      assert.throws(
        () => addMasterKeyVersion({ dataDir, logger: silentLogger }),
        /another `behalf vault rotate` is adding a version/,
      );
      rmSync(join(dataDir, 'master.key.lock'));
      assert.equal(addMasterKeyVersion({ dataDir, logger: silentLogger }), 2);
      assert.equal(existsSync(join(dataDir, 'master.key.lock')), false, 'the lock is released');
      const snapshot = loadMasterKeyRing({ masterKey: undefined, dataDir, logger: silentLogger });
      addMasterKeyVersion({ dataDir, logger: silentLogger });
      assert.equal(snapshot.currentVersion, 2, 'without follow, a snapshot of the file');
    });
  });

  it('a pinned ring keeps its subkeys when the version they came from is removed', async () => {
    const v1 = { version: 1, key: randomBytes(32) };
    const v2 = { version: 2, key: randomBytes(32) };
    const store = rootStore();
    const first = await pinKeyDerivation(createMasterKeyRing([v1]), store);
    const pepper = clientSecretPepper(first);
    assert.deepEqual(pepper, clientSecretPepper(createMasterKeyRing([v1])), 'unchanged on upgrade');
    const root = store.rows.get(`${DERIVATION_ROOT_KIND}/root`)!;
    assert.equal(store.rows.size, 1);
    assert.ok(root.sealed.startsWith('env1.1.'), 'kept as an envelope, never in clear');
    assert.ok(!JSON.stringify(root).includes(v1.key.toString('base64')));

    // Rotation re-wraps the root like any vault value; then version 1 can go.
    const both = createMasterKeyRing([v1, v2]);
    store.rows.set(`${DERIVATION_ROOT_KIND}/root`, { sealed: createEnvelope(both).rewrap(root.sealed) });
    const onlyNew = await pinKeyDerivation(createMasterKeyRing([v2]), store);
    assert.deepEqual(clientSecretPepper(onlyNew), pepper);
    assert.deepEqual(onlyNew.deriveKey('idp pairwise subject'), first.deriveKey('idp pairwise subject'));
    assert.notDeepEqual(
      clientSecretPepper(createMasterKeyRing([v2])),
      pepper,
      'an unpinned ring would differ',
    );
    assert.equal(onlyNew.currentVersion, 2);
    assert.throws(() => onlyNew.deriveKey('vault key-encryption key'), /reserved/);

    // Removing the version before the root was re-wrapped is refused at start, saying why.
    const early = rootStore();
    await pinKeyDerivation(createMasterKeyRing([v1]), early);
    await assert.rejects(
      pinKeyDerivation(createMasterKeyRing([v2]), early),
      (error: unknown) =>
        error instanceof ConfigError &&
        /wrapped under version 1, the ring holds 2/.test(error.message) &&
        !error.message.includes(v2.key.toString('base64')),
    );

    // Two nodes starting at once: one root is kept, both derive from it.
    const racing = rootStore();
    const [a, b] = await Promise.all([
      pinKeyDerivation(createMasterKeyRing([v1]), racing),
      pinKeyDerivation(createMasterKeyRing([v1, v2]), racing),
    ]);
    assert.equal(racing.rows.size, 1);
    assert.deepEqual(a.deriveKey('p'), b.deriveKey('p'));
  });
});
