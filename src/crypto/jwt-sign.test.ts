import assert from 'node:assert/strict';
import { generateKeyPairSync } from 'node:crypto';
import { before, describe, it } from 'node:test';
import * as jose from 'jose';
import { manualClock } from '../core/clock.ts';
import { signJwt, verifyJwt } from './jwt.ts';
import { createTestCertificate } from './test-certificates.ts';
import type { TestCertificate } from './test-certificates.ts';

const clock = manualClock(Date.UTC(2026, 2, 1, 12));
const claims = {
  iss: 'https://issuer.test/t/v2.0',
  aud: 'api://demo',
  sub: 'user-1',
  roles: ['Data.Read.All', 'ünïcödé'],
  iat: 1_772_366_400,
  exp: 1_772_370_000,
};

describe('signJwt (node:crypto, synchronous)', () => {
  let signer: TestCertificate;
  before(async () => {
    signer = await createTestCertificate();
  });

  it('writes RS256 tokens byte-identical to jose SignJWT (PKCS#1 v1.5 is deterministic)', async () => {
    const header = { kid: signer.x5t, x5t: signer.x5t };
    const ours = await signJwt(claims, { privateKey: signer.privateKey, algorithm: 'RS256', header });
    const theirs = await new jose.SignJWT({ ...claims })
      .setProtectedHeader({ typ: 'JWT', ...header, alg: 'RS256' })
      .sign(signer.privateKey);
    assert.equal(ours, theirs);
  });

  it('writes PS256 tokens that jose verifies with the certificate key', async () => {
    const token = await signJwt(claims, {
      privateKey: signer.privateKey,
      algorithm: 'PS256',
      header: { 'x5t#S256': signer.x5tS256 },
    });
    const { header, payload } = await verifyJwt(token, {
      key: signer.publicKey,
      algorithms: ['PS256'],
      clock,
      issuer: claims.iss,
    });
    assert.deepEqual(header, { typ: 'JWT', 'x5t#S256': signer.x5tS256, alg: 'PS256' });
    assert.deepEqual(payload, claims);
    await assert.rejects(
      verifyJwt(token, { key: signer.publicKey, algorithms: ['RS256'], clock }),
      /algorithm/,
    );
  });

  it('refuses keys jose refuses: short RSA keys, public keys, non-RSA keys', async () => {
    const short = generateKeyPairSync('rsa', { modulusLength: 1024 });
    const ec = generateKeyPairSync('ec', { namedCurve: 'P-256' });
    await assert.rejects(
      signJwt(claims, { privateKey: short.privateKey, algorithm: 'RS256' }),
      /2048 bits or larger/,
    );
    await assert.rejects(signJwt(claims, { privateKey: short.publicKey, algorithm: 'RS256' }), /private/);
    await assert.rejects(signJwt(claims, { privateKey: ec.privateKey, algorithm: 'RS256' }), /RSA/);
    await assert.rejects(
      signJwt(claims, { privateKey: signer.privateKey, algorithm: 'RS256', header: { crit: ['x'] } }),
      /crit/,
    );
  });
});
