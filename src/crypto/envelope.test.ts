import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { describe, it } from 'node:test';
import { createEnvelope, DecryptionError, isEnvelope } from './envelope.ts';
import { createMasterKeyRing } from './master-key.ts';

const v1 = { version: 1, key: randomBytes(32) };
const v2 = { version: 2, key: randomBytes(32) };
const SECRET = 'refresh-token-0.AVYA-very-secret-value';

function encodings(text: string): string[] {
  const bytes = Buffer.from(text);
  return [text, bytes.toString('base64'), bytes.toString('base64url'), bytes.toString('hex')];
}

describe('envelope encryption', () => {
  const envelope = createEnvelope(createMasterKeyRing([v1]));

  it('round-trips text and bytes, with a fresh data key and iv every time', () => {
    const a = envelope.encrypt(SECRET, 'connection/c1/refresh_token');
    const b = envelope.encrypt(SECRET, 'connection/c1/refresh_token');
    assert.notEqual(a, b);
    assert.notEqual(a.split('.')[2], b.split('.')[2], 'each value has its own data key');
    assert.equal(envelope.decryptText(a, 'connection/c1/refresh_token'), SECRET);
    const bytes = randomBytes(100);
    assert.deepEqual(envelope.decrypt(envelope.encrypt(bytes, 'x'), 'x'), bytes);
    assert.ok(isEnvelope(a));
    assert.match(a, /^env1\.1\.[\w-]+\.[\w-]+\.[\w-]+\.[\w-]+$/);
  });

  it('never contains the plaintext in any common encoding', () => {
    const value = envelope.encrypt(SECRET, 'a');
    for (const encoded of encodings(SECRET)) assert.ok(!value.includes(encoded), encoded);
    for (const encoded of encodings(SECRET.slice(0, 12))) assert.ok(!value.includes(encoded));
  });

  it('refuses the wrong associated data, tampering, foreign keys and garbage', () => {
    const value = envelope.encrypt(SECRET, 'connection/c1/refresh_token');
    const refused = (candidate: string, aad = 'connection/c1/refresh_token') =>
      assert.throws(() => envelope.decrypt(candidate, aad), DecryptionError);
    refused(value, 'connection/c2/refresh_token');
    refused(value, '');
    const parts = value.split('.');
    for (let index = 1; index < parts.length; index += 1) {
      const tampered = [...parts];
      const segment = tampered[index]!;
      const flipped = segment[0] === 'A' ? 'B' : 'A';
      tampered[index] = index === 1 ? '2' : flipped + segment.slice(1);
      refused(tampered.join('.'));
    }
    refused(
      createEnvelope(createMasterKeyRing([{ version: 1, key: randomBytes(32) }])).encrypt(SECRET, 'a'),
      'a',
    );
    refused('plain text');
    refused('env1.1.a.b.c');
    refused('');
  });

  it('re-wraps values under a new key version without touching the ciphertext', () => {
    const old = envelope.encrypt(SECRET, 'aad');
    const rotated = createEnvelope(createMasterKeyRing([v1, v2]));
    assert.equal(rotated.needsRewrap(old), true);
    assert.equal(rotated.decryptText(old, 'aad'), SECRET, 'old versions stay readable');
    const rewrapped = rotated.rewrap(old);
    assert.equal(rotated.needsRewrap(rewrapped), false);
    assert.equal(rewrapped.split('.')[1], '2');
    assert.equal(rewrapped.split('.').slice(3).join('.'), old.split('.').slice(3).join('.'));
    assert.equal(rotated.rewrap(rewrapped), rewrapped);
    const onlyNew = createEnvelope(createMasterKeyRing([v2]));
    assert.equal(onlyNew.decryptText(rewrapped, 'aad'), SECRET);
    assert.throws(() => onlyNew.decrypt(old, 'aad'), DecryptionError);
    assert.equal(rotated.encrypt('x', 'y').split('.')[1], '2', 'new values use the current version');
  });
});
