import assert from 'node:assert/strict';
import { createHmac, generateKeyPairSync, sign } from 'node:crypto';
import type { KeyObject } from 'node:crypto';
import { before, describe, it } from 'node:test';
import * as jose from 'jose';
import { manualClock } from '../core/clock.ts';
import { JwtError, jwtSigner, keySetResolver, signJwt, verifyJwt } from './jwt.ts';
import type { Jwk, JwtFailure } from './jwt.ts';
import { rs256KeySet } from './rs256-key-set.ts';
import { createTestCertificate } from './test-certificates.ts';
import type { TestCertificate } from './test-certificates.ts';

const clock = manualClock(Date.UTC(2026, 2, 1, 12));
const now = () => Math.floor(clock.now() / 1000);
const TOLERANCE = 300;

function claims(extra: Record<string, unknown> = {}) {
  return {
    iss: 'https://issuer.test/t/',
    aud: 'api://demo',
    tid: 't',
    iat: now(),
    nbf: now(),
    exp: now() + 600,
    ...extra,
  };
}

const b64 = (value: unknown) =>
  Buffer.from(typeof value === 'string' ? value : JSON.stringify(value)).toString('base64url');

/** A compact JWS with any header and payload, RS256-signed (validly) with `key`. */
function rawToken(header: unknown, payload: unknown, key: KeyObject): string {
  const input = `${b64(header)}.${b64(payload)}`;
  return `${input}.${sign('sha256', Buffer.from(input), key).toString('base64url')}`;
}

function jwkOf(certificate: TestCertificate, kid: string): Jwk {
  return { ...(certificate.publicKey.export({ format: 'jwk' }) as Jwk), kid, use: 'sig' };
}

function reasonOf(run: () => unknown): JwtFailure | 'accepted' {
  try {
    run();
    return 'accepted';
  } catch (error) {
    assert.ok(error instanceof JwtError, String(error));
    return error.reason;
  }
}

async function joseReasonOf(token: string, keys: readonly Jwk[]): Promise<JwtFailure | 'accepted'> {
  try {
    await verifyJwt(token, {
      key: keySetResolver({ keys }),
      algorithms: ['RS256'],
      clock,
      clockToleranceSeconds: TOLERANCE,
    });
    return 'accepted';
  } catch (error) {
    assert.ok(error instanceof JwtError, String(error));
    return error.reason;
  }
}

describe('rs256KeySet (node:crypto verification of Behalf-signed tokens)', () => {
  let active: TestCertificate;
  let next: TestCertificate;
  let stranger: TestCertificate;
  let keys: Jwk[];
  before(async () => {
    [active, next, stranger] = await Promise.all([
      createTestCertificate(),
      createTestCertificate(),
      createTestCertificate(),
    ]);
    keys = [jwkOf(active, 'active'), jwkOf(next, 'next')];
  });
  const keySet = () => rs256KeySet({ keys, clock, clockToleranceSeconds: TOLERANCE });

  it('accepts what the cached-header signer writes, which jose jwtVerify accepts too', async () => {
    const signer = jwtSigner({
      privateKey: active.privateKey,
      algorithm: 'RS256',
      header: { kid: 'active', x5t: 'active' },
    });
    const token = signer(claims({ roles: ['Data.Read.All', 'ünïcödé'] }));
    const { header, payload } = keySet().verify(token);
    assert.deepEqual(header, { typ: 'JWT', kid: 'active', x5t: 'active', alg: 'RS256' });
    assert.deepEqual(payload, claims({ roles: ['Data.Read.All', 'ünïcödé'] }));

    const jwks = jose.createLocalJWKSet({ keys: keys as jose.JWK[] });
    const verified = await jose.jwtVerify(token, jwks, {
      algorithms: ['RS256'],
      issuer: 'https://issuer.test/t/',
      audience: 'api://demo',
      currentDate: new Date(clock.now()),
    });
    assert.deepEqual(verified.payload, payload);
    // Same bytes as jose's own SignJWT (RS256 is deterministic), for every token of that signer.
    const theirs = await new jose.SignJWT(claims({ n: 2 }))
      .setProtectedHeader({ typ: 'JWT', kid: 'active', x5t: 'active', alg: 'RS256' })
      .sign(active.privateKey);
    assert.equal(signer(claims({ n: 2 })), theirs);
    // The second key of the set verifies its own tokens; a token of the first is not the second's.
    const byNext = await signJwt(claims(), {
      privateKey: next.privateKey,
      algorithm: 'RS256',
      header: { kid: 'next' },
    });
    assert.equal(keySet().verify(byNext).header.kid, 'next');
    const [, p, s] = byNext.split('.');
    const relabelled = `${b64({ typ: 'JWT', kid: 'active', alg: 'RS256' })}.${p}.${s}`;
    assert.equal(
      reasonOf(() => keySet().verify(relabelled)),
      'signature',
    );
  });

  it('refuses tampered, unsigned, re-algorithmed, unknown-key and expired tokens, as verifyJwt does', async () => {
    const good = await signJwt(claims(), {
      privateKey: active.privateKey,
      algorithm: 'RS256',
      header: { kid: 'active' },
    });
    const [h, p, s] = good.split('.') as [string, string, string];
    const hs256Input = `${b64({ alg: 'HS256', kid: 'active' })}.${p}`;
    // The classic confusion attack: HMAC keyed with the public key's bytes.
    const hs256 = `${hs256Input}.${createHmac('sha256', active.publicKeyPem).update(hs256Input).digest('base64url')}`;
    const flipped = Buffer.from(s, 'base64url');
    flipped[10]! ^= 1;
    const cases: Record<string, { token: string; reason: JwtFailure | 'accepted' }> = {
      'the good token': { token: good, reason: 'accepted' },
      'claims changed after signing': {
        token: `${h}.${b64(claims({ oid: 'admin' }))}.${s}`,
        reason: 'signature',
      },
      'a flipped signature bit': { token: `${h}.${p}.${flipped.toString('base64url')}`, reason: 'signature' },
      'no signature': { token: `${h}.${p}.`, reason: 'signature' },
      'alg none': { token: `${b64({ alg: 'none', kid: 'active' })}.${p}.`, reason: 'algorithm' },
      'alg HS256 with the public key as secret': { token: hs256, reason: 'algorithm' },
      'alg PS256': {
        token: await signJwt(claims(), {
          privateKey: active.privateKey,
          algorithm: 'PS256',
          header: { kid: 'active' },
        }),
        reason: 'algorithm',
      },
      'an unknown kid': {
        token: rawToken({ alg: 'RS256', kid: 'retired-long-ago' }, claims(), active.privateKey),
        reason: 'key_not_found',
      },
      'no kid (two keys could match)': {
        token: rawToken({ alg: 'RS256' }, claims(), active.privateKey),
        reason: 'key_not_found',
      },
      'a stranger key under a known kid': {
        token: rawToken({ alg: 'RS256', kid: 'active' }, claims(), stranger.privateKey),
        reason: 'signature',
      },
      'expired beyond the tolerance': {
        token: rawToken(
          { alg: 'RS256', kid: 'active' },
          claims({ exp: now() - TOLERANCE }),
          active.privateKey,
        ),
        reason: 'expired',
      },
      'expired within the tolerance': {
        token: rawToken(
          { alg: 'RS256', kid: 'active' },
          claims({ exp: now() - TOLERANCE + 5 }),
          active.privateKey,
        ),
        reason: 'accepted',
      },
      'not valid before, beyond the tolerance': {
        token: rawToken(
          { alg: 'RS256', kid: 'active' },
          claims({ nbf: now() + TOLERANCE + 5 }),
          active.privateKey,
        ),
        reason: 'not_yet_valid',
      },
      'exp not a number': {
        token: rawToken(
          { alg: 'RS256', kid: 'active' },
          claims({ exp: String(now() + 600) }),
          active.privateKey,
        ),
        reason: 'claim',
      },
      'nbf not a number': {
        token: rawToken({ alg: 'RS256', kid: 'active' }, claims({ nbf: 'now' }), active.privateKey),
        reason: 'not_yet_valid',
      },
      'claims that are an array': {
        token: rawToken({ alg: 'RS256', kid: 'active' }, [1, 2], active.privateKey),
        reason: 'malformed',
      },
      'claims that are not JSON': {
        token: rawToken({ alg: 'RS256', kid: 'active' }, 'not json', active.privateKey),
        reason: 'malformed',
      },
      'a header that is not JSON': { token: `${b64('{alg')}.${p}.${s}`, reason: 'malformed' },
      'two segments': { token: `${h}.${p}`, reason: 'malformed' },
      'four segments': { token: `${good}.${s}`, reason: 'malformed' },
      'claims not base64url': { token: `${h}.${p}*.${s}`, reason: 'signature' },
      'a signature not base64url': { token: `${h}.${p}.${s}*`, reason: 'malformed' },
      'an empty string': { token: '', reason: 'malformed' },
    };
    for (const [name, { token, reason }] of Object.entries(cases)) {
      assert.equal(
        reasonOf(() => keySet().verify(token)),
        reason,
        name,
      );
      assert.equal(await joseReasonOf(token, keys), reason, `${name} (jose)`);
    }
  });

  it('is refused after time passes, against the injected clock', async () => {
    const token = await signJwt(claims({ exp: now() + 60 }), {
      privateKey: active.privateKey,
      algorithm: 'RS256',
      header: { kid: 'active' },
    });
    const set = keySet();
    set.verify(token);
    set.verify(token); // the header is remembered: still fully checked the second time
    clock.advance((60 + TOLERANCE) * 1000);
    assert.equal(
      reasonOf(() => set.verify(token)),
      'expired',
    );
    clock.advance(-(60 + TOLERANCE) * 1000);
  });

  it('refuses extension headers, keys it does not know and keys too short to trust', async () => {
    const crit = rawToken({ alg: 'RS256', kid: 'active', crit: ['exp'] }, claims(), active.privateKey);
    assert.notEqual(
      reasonOf(() => keySet().verify(crit)),
      'accepted',
    );
    // A lone key is not chosen for a token without a kid (jose would): Behalf's tokens always name theirs.
    const alone = rs256KeySet({ keys: [jwkOf(active, 'active')], clock });
    assert.equal(
      reasonOf(() => alone.verify(rawToken({ alg: 'RS256' }, claims(), active.privateKey))),
      'key_not_found',
    );
    const short = generateKeyPairSync('rsa', { modulusLength: 1024 });
    const shortJwk = { ...(short.publicKey.export({ format: 'jwk' }) as Jwk), kid: 'short' };
    const encryption = { ...jwkOf(stranger, 'enc'), use: 'enc' };
    const set = rs256KeySet({ keys: [shortJwk, encryption, { kty: 'EC', kid: 'ec' }], clock });
    assert.equal(
      reasonOf(() => set.verify(rawToken({ alg: 'RS256', kid: 'short' }, claims(), short.privateKey))),
      'key_not_found',
    );
    assert.equal(
      reasonOf(() => set.verify(rawToken({ alg: 'RS256', kid: 'enc' }, claims(), stranger.privateKey))),
      'key_not_found',
    );
  });
});
