import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { it } from 'node:test';
import { createSecretHasher, generateClientSecret, hashPassword, verifyPassword } from './hashing.ts';

it('verifies a client secret against its keyed hash and nothing else', () => {
  const hasher = createSecretHasher(randomBytes(32));
  const secret = generateClientSecret();
  const stored = hasher.hash(secret);
  assert.ok(!stored.includes(secret));
  assert.equal(hasher.verify(secret, stored), true);
  assert.equal(hasher.verify(secret + 'x', stored), false);
  assert.equal(
    createSecretHasher(randomBytes(32)).verify(secret, stored),
    false,
    'another key cannot verify',
  );
  assert.equal(hasher.verify(secret, 'garbage'), false);
});

it('hashes passwords with scrypt, salted', async () => {
  const a = await hashPassword('correct horse', { N: 1024, r: 8, p: 1 });
  const b = await hashPassword('correct horse', { N: 1024, r: 8, p: 1 });
  assert.notEqual(a, b);
  assert.match(a, /^scrypt\$1024\$8\$1\$/);
  assert.equal(await verifyPassword('correct horse', a), true);
  assert.equal(await verifyPassword('Correct horse', a), false);
  assert.equal(await verifyPassword('x', 'bcrypt$whatever'), false);
});

it('generates 40-character secrets from a URL-safe alphabet', () => {
  const secret = generateClientSecret();
  assert.equal(secret.length, 40);
  assert.match(secret, /^[A-Za-z0-9~.]+$/);
});
