import assert from 'node:assert/strict';
import { X509Certificate } from 'node:crypto';
import { before, describe, it } from 'node:test';
import { manualClock } from '../core/clock.ts';
import {
  decodeJwt,
  JwtError,
  keySetResolver,
  publicKeyFromCertificate,
  signJwt,
  verifyJwt,
  x5t,
  x5tS256,
} from './jwt.ts';
import type { Jwk, JwtFailure } from './jwt.ts';
import { createTestCertificate } from './test-certificates.ts';
import type { TestCertificate } from './test-certificates.ts';

const clock = manualClock(Date.UTC(2026, 2, 1, 12));
const now = () => Math.floor(clock.now() / 1000);

function claims(extra: Record<string, unknown> = {}) {
  return {
    iss: 'https://issuer.test/t/v2.0',
    aud: 'api://demo',
    sub: 'user-1',
    iat: now(),
    nbf: now(),
    exp: now() + 600,
    ...extra,
  };
}

async function refusal(promise: Promise<unknown>): Promise<JwtFailure> {
  try {
    await promise;
  } catch (error) {
    assert.ok(error instanceof JwtError, String(error));
    return error.reason;
  }
  assert.fail('the token was accepted');
}

describe('JWT seam', () => {
  let signer: TestCertificate;
  let other: TestCertificate;
  before(async () => {
    [signer, other] = await Promise.all([createTestCertificate(), createTestCertificate()]);
  });

  it('signs RS256 with the given header and verifies issuer and audience with the public key', async () => {
    const token = await signJwt(claims(), {
      privateKey: signer.privateKey,
      algorithm: 'RS256',
      header: { kid: signer.x5t, x5t: signer.x5t },
    });
    const { header, payload } = await verifyJwt(token, {
      key: signer.publicKey,
      algorithms: ['RS256'],
      issuer: 'https://issuer.test/t/v2.0',
      audience: ['api://other', 'api://demo'],
      clock,
    });
    assert.deepEqual(header, { typ: 'JWT', alg: 'RS256', kid: signer.x5t, x5t: signer.x5t });
    assert.equal(payload['sub'], 'user-1');
  });

  it('signs PS256 with x5t#S256 and verifies through a key resolver, as for a client assertion', async () => {
    const token = await signJwt(claims({ jti: 'j-1' }), {
      privateKey: signer.privateKey,
      algorithm: 'PS256',
      header: { 'x5t#S256': signer.x5tS256 },
    });
    const seen: string[] = [];
    const { payload } = await verifyJwt(token, {
      key: (header, unverified) => {
        seen.push(String(header['x5t#S256']), String(unverified['sub']));
        return header['x5t#S256'] === signer.x5tS256 ? signer.publicKey : other.publicKey;
      },
      algorithms: ['RS256', 'PS256'],
      requiredClaims: ['jti', 'exp'],
      clock,
    });
    assert.equal(payload['jti'], 'j-1');
    assert.deepEqual(seen, [signer.x5tS256, 'user-1']);
  });

  it('verifies against a JWK and against a JWKS selected by kid', async () => {
    const jwk = { ...(signer.publicKey.export({ format: 'jwk' }) as Jwk), kid: 'k1', use: 'sig' };
    const otherJwk = { ...(other.publicKey.export({ format: 'jwk' }) as Jwk), kid: 'k2', use: 'sig' };
    const token = await signJwt(claims(), {
      privateKey: signer.privateKey,
      algorithm: 'RS256',
      header: { kid: 'k1' },
    });
    await verifyJwt(token, { key: jwk, algorithms: ['RS256'], clock });
    await verifyJwt(token, { key: keySetResolver({ keys: [otherJwk, jwk] }), algorithms: ['RS256'], clock });
    const unknownKid = await signJwt(claims(), {
      privateKey: signer.privateKey,
      algorithm: 'RS256',
      header: { kid: 'k9' },
    });
    assert.equal(
      await refusal(
        verifyJwt(unknownKid, {
          key: keySetResolver({ keys: [otherJwk, jwk] }),
          algorithms: ['RS256'],
          clock,
        }),
      ),
      'key_not_found',
    );
  });

  it('names the reason a token is refused', async () => {
    const sign = (extra: Record<string, unknown> = {}, algorithm: 'RS256' | 'PS256' = 'RS256') =>
      signJwt(claims(extra), { privateKey: signer.privateKey, algorithm });
    const verify = (token: string, extra: Partial<Parameters<typeof verifyJwt>[1]> = {}) =>
      verifyJwt(token, { key: signer.publicKey, algorithms: ['RS256'], clock, ...extra });

    assert.equal(await refusal(verify(await sign(), { issuer: 'https://elsewhere.test' })), 'issuer');
    assert.equal(await refusal(verify(await sign(), { audience: 'api://other' })), 'audience');
    assert.equal(await refusal(verify(await sign({ exp: now() - 1 }))), 'expired');
    assert.equal(await refusal(verify(await sign({ nbf: now() + 120 }))), 'not_yet_valid');
    assert.equal(await refusal(verify(await sign(), { requiredClaims: ['jti'] })), 'claim');
    assert.equal(await refusal(verify(await sign({}, 'PS256'))), 'algorithm');
    assert.equal(await refusal(verify(await sign(), { key: other.publicKey })), 'signature');
    assert.equal(await refusal(verify('not.a.jwt')), 'malformed');

    const [h, , s] = (await sign()).split('.');
    const forged = Buffer.from(JSON.stringify(claims({ sub: 'admin' }))).toString('base64url');
    assert.equal(await refusal(verify(`${h}.${forged}.${s}`)), 'signature');

    const unsigned = [{ alg: 'none', typ: 'JWT' }, claims()]
      .map((part) => Buffer.from(JSON.stringify(part)).toString('base64url'))
      .join('.');
    assert.equal(await refusal(verify(unsigned + '.')), 'algorithm');
  });

  it('applies the clock tolerance to exp and nbf, using the injected clock', async () => {
    const token = await signJwt(claims({ exp: now() - 30, nbf: now() - 700 }), {
      privateKey: signer.privateKey,
      algorithm: 'RS256',
    });
    await verifyJwt(token, {
      key: signer.publicKey,
      algorithms: ['RS256'],
      clock,
      clockToleranceSeconds: 60,
    });
    const early = await signJwt(claims({ nbf: now() + 30 }), {
      privateKey: signer.privateKey,
      algorithm: 'RS256',
    });
    await verifyJwt(early, {
      key: signer.publicKey,
      algorithms: ['RS256'],
      clock,
      clockToleranceSeconds: 60,
    });
    clock.advance(120_000);
    assert.equal(
      await refusal(
        verifyJwt(token, { key: signer.publicKey, algorithms: ['RS256'], clock, clockToleranceSeconds: 60 }),
      ),
      'expired',
    );
  });

  it('decodes header and payload without verifying, and refuses garbage', async () => {
    const token = await signJwt(claims(), {
      privateKey: signer.privateKey,
      algorithm: 'RS256',
      header: { kid: 'k1' },
    });
    const decoded = decodeJwt(token);
    assert.equal(decoded.header.kid, 'k1');
    assert.equal(decoded.payload['aud'], 'api://demo');
    assert.throws(
      () => decodeJwt('garbage'),
      (error: unknown) => error instanceof JwtError && error.reason === 'malformed',
    );
  });

  it('computes x5t and x5t#S256 from PEM or DER, matching the certificate fingerprints', () => {
    const certificate = new X509Certificate(signer.certificatePem);
    const fromFingerprint = (hex: string) => Buffer.from(hex.replace(/:/g, ''), 'hex').toString('base64url');
    assert.equal(x5t(signer.certificatePem), fromFingerprint(certificate.fingerprint));
    assert.equal(x5tS256(certificate.raw), fromFingerprint(certificate.fingerprint256));
    assert.equal(x5t(signer.certificatePem).length, 27);
    assert.equal(signer.x5t, x5t(certificate.raw));
    assert.equal(signer.thumbprintSha1, certificate.fingerprint.replace(/:/g, ''));
  });

  it('verifies with the public key of a certificate given as PEM or base64 DER', async () => {
    const token = await signJwt(claims(), { privateKey: signer.privateKey, algorithm: 'PS256' });
    for (const form of [signer.certificatePem, signer.certificateBase64]) {
      await verifyJwt(token, { key: publicKeyFromCertificate(form), algorithms: ['PS256'], clock });
      assert.equal(
        await refusal(
          verifyJwt(token, {
            key: publicKeyFromCertificate(other.certificateBase64),
            algorithms: ['PS256'],
            clock,
          }),
        ),
        'signature',
      );
    }
  });
});
