import assert from 'node:assert/strict';
import { randomBytes, X509Certificate } from 'node:crypto';
import { before, describe, it } from 'node:test';
import { manualClock } from '../core/clock.ts';
import { createEnvelope } from './envelope.ts';
import { keySetResolver, signJwt, verifyJwt } from './jwt.ts';
import { createMasterKeyRing } from './master-key.ts';
import { createSigningKeyRing, memorySigningKeyPersistence } from './signing-keys.ts';
import type { SigningKeyRing } from './signing-keys.ts';

const LIFETIME = 3900;

function setup(persistence = memorySigningKeyPersistence(), key = randomBytes(32)) {
  const clock = manualClock(Date.now());
  const cipher = createEnvelope(createMasterKeyRing([{ version: 1, key }]));
  const ring = createSigningKeyRing({ persistence, cipher, clock, tokenLifetimeSeconds: LIFETIME });
  return { ring, persistence, clock, key };
}

async function sign(ring: SigningKeyRing, clock: { now(): number }) {
  const key = ring.signingKey();
  const iat = Math.floor(clock.now() / 1000);
  return signJwt(
    { iss: 'https://issuer.test', aud: 'api://x', iat, exp: iat + LIFETIME },
    { privateKey: key.privateKey, algorithm: key.algorithm, header: { kid: key.kid } },
  );
}

function verifyWithJwks(token: string, ring: SigningKeyRing, clock: { now(): number }) {
  return verifyJwt(token, {
    key: keySetResolver({ keys: ring.publishedKeys() }),
    algorithms: ['RS256'],
    clock,
  });
}

describe('token-signing key ring', () => {
  let first: ReturnType<typeof setup>;
  before(async () => {
    first = setup();
    await first.ring.ensure();
  });

  it('publishes the active and the next key with kid == x5t == SHA-1 thumbprint of x5c, as Entra does', () => {
    const published = first.ring.publishedKeys();
    assert.equal(published.length, 2);
    assert.equal(published[0]!.kid, first.ring.signingKey().kid);
    for (const jwk of published) {
      const certificate = new X509Certificate(Buffer.from(jwk.x5c[0]!, 'base64'));
      const sha1 = Buffer.from(certificate.fingerprint.replace(/:/g, ''), 'hex').toString('base64url');
      assert.equal(jwk.kid, sha1);
      assert.equal(jwk.x5t, sha1);
      assert.equal(jwk.kty, 'RSA');
      assert.equal(jwk.use, 'sig');
      assert.equal(jwk.e, 'AQAB');
      assert.equal(Buffer.from(jwk.n, 'base64url').length, 256, 'RSA-2048');
      assert.deepEqual(certificate.publicKey.export({ format: 'jwk' }), { kty: 'RSA', n: jwk.n, e: jwk.e });
      assert.equal(certificate.subject, certificate.issuer, 'self-signed');
    }
  });

  it('signs tokens that verify against the published keys', async () => {
    const token = await sign(first.ring, first.clock);
    const { header } = await verifyWithJwks(token, first.ring, first.clock);
    assert.equal(header.kid, first.ring.signingKey().kid);
  });

  it('stores private keys encrypted only', () => {
    const stored = JSON.stringify(first.persistence.saved);
    assert.doesNotMatch(stored, /PRIVATE KEY/);
    const privateKey = first.ring.signingKey().privateKey;
    const der = privateKey.export({ type: 'pkcs8', format: 'der' });
    const pem = privateKey.export({ type: 'pkcs8', format: 'pem' }).toString();
    const d = String(privateKey.export({ format: 'jwk' }).d);
    const pemLine = pem.split('\n')[5]!;
    for (const needle of [
      der.toString('base64'),
      der.toString('hex'),
      der.toString('base64url'),
      pemLine,
      d,
      d.slice(10, 50),
    ]) {
      assert.ok(
        needle.length >= 40 && !stored.includes(needle),
        'no private key material in the persisted keys',
      );
    }
    for (const key of first.persistence.saved) assert.match(key.encryptedPrivateKey, /^env1\./);
  });

  it('reuses persisted keys on restart and refuses them under another master key', async () => {
    const restarted = setup(first.persistence, first.key);
    await restarted.ring.ensure();
    assert.deepEqual(restarted.ring.publishedKeys(), first.ring.publishedKeys());
    assert.equal(restarted.ring.signingKey().kid, first.ring.signingKey().kid);
    const wrongKey = setup(first.persistence);
    await assert.rejects(wrongKey.ring.ensure());
  });

  it('rotates: the next key (already published) signs, the old key stays published until its tokens expire', async () => {
    const { ring, clock } = setup();
    await ring.ensure();
    const [active, next] = ring.publishedKeys().map((jwk) => jwk.kid);
    const oldToken = await sign(ring, clock);

    clock.advance(60_000);
    await ring.rotate();
    assert.equal(ring.signingKey().kid, next, 'the key that signs was published before it signed');
    const kids = ring.publishedKeys().map((jwk) => jwk.kid);
    assert.equal(kids.length, 3);
    assert.ok(kids.includes(active!), 'the retired key is still published');
    const newNext = kids.find((kid) => kid !== active && kid !== next);
    assert.ok(newNext);
    await verifyWithJwks(oldToken, ring, clock);
    await verifyWithJwks(await sign(ring, clock), ring, clock);

    clock.advance((LIFETIME - 60) * 1000);
    await ring.ensure();
    assert.ok(
      ring.publishedKeys().some((jwk) => jwk.kid === active),
      'kept within the clock-skew allowance',
    );
    clock.advance(6 * 60_000);
    assert.ok(
      !ring.publishedKeys().some((jwk) => jwk.kid === active),
      'dropped once every token it signed expired',
    );
    await ring.ensure();
    assert.deepEqual(
      ring.publishedKeys().map((jwk) => jwk.kid),
      [next, newNext],
    );
  });

  it('recovers from an interrupted rotation by promoting the published next key', async () => {
    const { ring, persistence, key } = setup();
    await ring.ensure();
    const next = ring.publishedKeys()[1]!.kid;
    await persistence.save(persistence.saved.filter((stored) => stored.state === 'next'));
    const restarted = setup(persistence, key);
    await restarted.ring.ensure();
    assert.equal(restarted.ring.signingKey().kid, next);
    assert.equal(restarted.ring.publishedKeys().length, 2);
  });

  it('lets nodes sharing a store agree on one ring when they start or rotate at once', async () => {
    const persistence = memorySigningKeyPersistence();
    const key = randomBytes(32);
    const nodes = [setup(persistence, key), setup(persistence, key), setup(persistence, key)];
    await Promise.all(nodes.map((node) => node.ring.ensure()));
    const persisted = persistence.saved.map((stored) => stored.kid);
    assert.equal(persisted.length, 2);
    for (const node of nodes) {
      assert.deepEqual(
        node.ring.publishedKeys().map((jwk) => jwk.kid),
        persisted,
      );
    }
    await Promise.all(nodes.map((node) => node.ring.rotate()));
    assert.equal(persistence.saved.length, 3, 'one rotation, not three');
    for (const node of nodes) {
      assert.equal(node.ring.signingKey().kid, persisted[1], 'the formerly next key signs everywhere');
      assert.deepEqual(
        node.ring.publishedKeys().map((jwk) => jwk.kid),
        persistence.saved.map((stored) => stored.kid),
      );
    }
  });
});
