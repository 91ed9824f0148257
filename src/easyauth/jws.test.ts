import assert from 'node:assert/strict';
import { constants, createHmac, createPublicKey, generateKeyPairSync, randomUUID, sign } from 'node:crypto';
import type { KeyObject } from 'node:crypto';
import { describe, it } from 'node:test';
import { createLocalJWKSet, jwtVerify } from 'jose';
import { manualClock } from '../core/clock.ts';
import { BearerError } from './errors.ts';
import type { FetchLike } from './http-client.ts';
import { decodeBase64url, splitCompact } from './jws.ts';
import { createTokenValidator } from './validator.ts';

// The validator verifies signatures with node:crypto instead of jose: this table runs it and jose's
// jwtVerify (the reference) over the same valid and tampered tokens and requires the same decision.

const b64 = (value: string | Buffer) => Buffer.from(value).toString('base64url');
const clock = manualClock(Date.UTC(2026, 3, 1));
const NOW = Math.floor(clock.now() / 1000);
const SKEW = 120;
const TENANT = randomUUID();
const AUTHORITY = `https://idp.test/${TENANT}`;
const ISSUER = `${AUTHORITY}/v2.0`;
const API = randomUUID();

interface Key {
  readonly kid: string;
  readonly privateKey: KeyObject;
  readonly jwk: Record<string, unknown>;
}

function rsaKey(kid: string, modulusLength = 2048, extra: Record<string, unknown> = {}): Key {
  const { privateKey, publicKey } = generateKeyPairSync('rsa', { modulusLength });
  return { kid, privateKey, jwk: { ...publicKey.export({ format: 'jwk' }), kid, use: 'sig', ...extra } };
}
function ecKey(kid: string): Key {
  const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  return { kid, privateKey, jwk: { ...publicKey.export({ format: 'jwk' }), kid, use: 'sig' } };
}

const main = rsaKey('main');
const other = rsaKey('main'); // same kid, not published
const small = rsaKey('small', 1024);
const pinned = rsaKey('pinned', 2048, { alg: 'RS384' });
const ec = ecKey('ec');
const leaked = rsaKey('leaked');
const leakedJwk = { ...leaked.privateKey.export({ format: 'jwk' }), kid: 'leaked', use: 'sig' };
const published = [main, small, pinned, ec, { ...leaked, jwk: leakedJwk }];

const claims = (extra: Record<string, unknown> = {}) => ({
  iss: ISSUER,
  aud: API,
  tid: TENANT,
  ver: '2.0',
  oid: randomUUID(),
  sub: 'pairwise-sub',
  scp: 'Mail.Read',
  iat: NOW - 60,
  nbf: NOW - 60,
  exp: NOW + 3600,
  ...extra,
});

const SIGN: Record<string, (input: Buffer, key: KeyObject) => Buffer> = {
  RS256: (input, key) => sign('sha256', input, key),
  RS384: (input, key) => sign('sha384', input, key),
  PS256: (input, key) =>
    sign('sha256', input, { key, padding: constants.RSA_PKCS1_PSS_PADDING, saltLength: 32 }),
  ES256: (input, key) => sign('sha256', input, { key, dsaEncoding: 'ieee-p1363' }),
  ES256DER: (input, key) => sign('sha256', input, key),
};

/** A compact JWS over raw header and payload text, so malformed segments can be signed too. */
function jws(
  header: string | Record<string, unknown>,
  payload: string | Buffer | Record<string, unknown>,
  options: { key?: Key; signer?: string } = {},
): string {
  const h = typeof header === 'string' ? b64(header) : b64(JSON.stringify(header));
  const p =
    typeof payload === 'string' || Buffer.isBuffer(payload) ? b64(payload) : b64(JSON.stringify(payload));
  const alg = typeof header === 'string' ? 'RS256' : String(header['alg']);
  const signer = SIGN[options.signer ?? alg]!;
  return `${h}.${p}.${b64(signer(Buffer.from(`${h}.${p}`), (options.key ?? main).privateKey))}`;
}
const rs = (extra: Record<string, unknown> = {}) => ({ alg: 'RS256', typ: 'JWT', kid: 'main', ...extra });
const good = jws(rs(), claims());
const [gh, gp, gs] = good.split('.') as [string, string, string];
// A 2048-bit RSA signature is 256 bytes: 342 base64url characters, 2 more than a multiple of 4.
assert.equal(gs.length, 342);
const flip = (s: string, at: number) => s.slice(0, at) + (s[at] === 'A' ? 'B' : 'A') + s.slice(at + 1);
// The classic key confusion: the verifier's own public key, as PEM text, used as an HMAC secret.
const publicPem = createPublicKey(main.privateKey).export({ format: 'pem', type: 'spki' }).toString();
const hsHeader = b64(JSON.stringify(rs({ alg: 'HS256' })));
const hsPayload = b64(JSON.stringify(claims()));
const hs256 = `${hsHeader}.${hsPayload}.${createHmac('sha256', publicPem).update(`${hsHeader}.${hsPayload}`).digest('base64url')}`;

/** [case, token, expected decision, algorithms accepted]. Expected values follow the RFCs, not output. */
const TABLE: [string, string, boolean, string[]?][] = [
  ['valid RS256', good, true],
  ['wrong signature (one character changed)', `${gh}.${gp}.${flip(gs, 10)}`, false],
  ['signed by another key with the same kid', jws(rs(), claims(), { key: other }), false],
  [
    'payload changed after signing',
    `${gh}.${b64(JSON.stringify(claims({ scp: 'Mail.Send' })))}.${gs}`,
    false,
  ],
  ['truncated signature', `${gh}.${gp}.${gs.slice(0, -4)}`, false],
  ['signature length 1 mod 4', `${gh}.${gp}.${gs}AAA`, false],
  ['empty signature', `${gh}.${gp}.`, false],
  ['two segments', `${gh}.${gp}`, false],
  ['extra segment', `${good}.${gs}`, false],
  ['empty string', '', false],
  ['alg none, no signature', `${b64('{"alg":"none","typ":"JWT"}')}.${gp}.`, false],
  ['alg none, with a signature', `${b64('{"alg":"none","kid":"main"}')}.${gp}.${gs}`, false],
  ['HS256 with the public key PEM as secret', hs256, false],
  ['RS384 not in the allowlist', jws(rs({ alg: 'RS384' }), claims()), false],
  ['unknown kid', jws(rs({ kid: 'nope' }), claims()), false],
  ['bad base64: * in the signature', `${gh}.${gp}.${gs.slice(0, 10)}*${gs.slice(11)}`, false],
  ['bad base64: + (standard alphabet)', `${gh}.${gp}.${gs.slice(0, 10)}+${gs.slice(11)}`, false],
  ['bad base64: payload', `${gh}.${gp.slice(0, 5)}!${gp.slice(6)}.${gs}`, false],
  // Both decode with atob-like leniency: padding on the signature does not change its bytes.
  ['padded signature', `${gh}.${gp}.${gs}==`, true],
  ['over-padded signature', `${gh}.${gp}.${gs}===`, false],
  ['non-JSON header', jws('not json', claims()), false],
  ['header is a JSON array', jws('["RS256"]', claims()), false],
  ['header with a UTF-8 BOM', jws(`\uFEFF${JSON.stringify(rs())}`, claims()), true],
  ['non-JSON payload', jws(rs(), 'not json'), false],
  ['payload is a JSON array', jws(rs(), '[1]'), false],
  ['payload not UTF-8', jws(rs(), Buffer.from([0x7b, 0xff, 0x7d])), false],
  ['crit b64 true', jws(rs({ crit: ['b64'], b64: true }), claims()), true],
  ['crit b64 false', jws(rs({ crit: ['b64'], b64: false }), claims()), false],
  ['crit unknown extension', jws(rs({ crit: ['exp'], exp: 1 }), claims()), false],
  ['RSA key of 1024 bits', jws(rs({ kid: 'small' }), claims(), { key: small }), false],
  ['JWKS entry is a private key', jws(rs({ kid: 'leaked' }), claims(), { key: leaked }), false],
  ['JWK pinned to RS384, token RS256', jws(rs({ kid: 'pinned' }), claims(), { key: pinned }), false],
  ['other audience', jws(rs(), claims({ aud: randomUUID() })), false],
  ['audience in an array', jws(rs(), claims({ aud: ['x', API] })), true],
  ['other issuer', jws(rs(), claims({ iss: `https://idp.test/${randomUUID()}/v2.0` })), false],
  ['no exp', jws(rs(), claims({ exp: undefined })), false],
  ['exp as a string', jws(rs(), claims({ exp: String(NOW + 3600) })), false],
  ['exp = now - skew', jws(rs(), claims({ exp: NOW - SKEW })), false],
  ['exp = now - skew + 1', jws(rs(), claims({ exp: NOW - SKEW + 1 })), true],
  ['nbf = now + skew', jws(rs(), claims({ nbf: NOW + SKEW })), true],
  ['nbf = now + skew + 1', jws(rs(), claims({ nbf: NOW + SKEW + 1 })), false],
  ['nbf as a string', jws(rs(), claims({ nbf: String(NOW) })), false],
  ['iat as a string', jws(rs(), claims({ iat: 'yesterday' })), false],
  ['PS256 allowed', jws(rs({ alg: 'PS256' }), claims()), true, ['PS256']],
  ['PS256 signature checked as RS256', jws(rs(), claims(), { signer: 'PS256' }), false],
  ['ES256 allowed', jws({ alg: 'ES256', kid: 'ec' }, claims(), { key: ec }), true, ['ES256']],
  [
    'ES256 with a DER signature',
    jws({ alg: 'ES256', kid: 'ec' }, claims(), { key: ec, signer: 'ES256DER' }),
    false,
    ['ES256'],
  ],
  [
    'ES256 header, RSA key',
    jws({ alg: 'ES256', kid: 'main' }, claims(), { signer: 'RS256' }),
    false,
    ['ES256'],
  ],
];

const fakeFetch: FetchLike = async (url) => {
  const body = url.endsWith('/openid-configuration')
    ? { issuer: ISSUER, jwks_uri: `${AUTHORITY}/discovery/v2.0/keys` }
    : { keys: published.map((k) => k.jwk) };
  return { ok: true, status: 200, json: async () => body, text: async () => JSON.stringify(body) };
};
const localKeys = createLocalJWKSet({ keys: published.map((k) => k.jwk) });

async function easyAuthAccepts(token: string, algorithms: string[]): Promise<boolean> {
  const validator = createTokenValidator({
    authority: AUTHORITY,
    audiences: [API],
    algorithms,
    clockSkewSeconds: SKEW,
    clock,
    fetch: fakeFetch,
    tokenCacheSeconds: 0,
  });
  try {
    await validator.validate(token);
    return true;
  } catch (error) {
    // Every refusal is a precise 401, never an internal error.
    assert.ok(error instanceof BearerError, `not a BearerError: ${String(error)}`);
    assert.equal(error.status, 401);
    return false;
  }
}

async function joseAccepts(token: string, algorithms: string[]): Promise<boolean> {
  try {
    await jwtVerify(token, localKeys, {
      algorithms,
      issuer: ISSUER,
      audience: API,
      clockTolerance: SKEW,
      currentDate: new Date(clock.now()),
      requiredClaims: ['exp'],
    });
    return true;
  } catch {
    return false;
  }
}

describe('compact JWS verification with node:crypto', () => {
  for (const [name, token, expected, algorithms = ['RS256']] of TABLE)
    it(`${name}: ${expected ? 'accepted' : 'refused'} by Easy Auth and by jose`, async () => {
      assert.equal(await joseAccepts(token, algorithms), expected, 'jose (the reference)');
      assert.equal(await easyAuthAccepts(token, algorithms), expected, 'Easy Auth');
    });

  it('a header without kid: Easy Auth refuses it (Entra always names the key; jose would pick a lone key)', async () => {
    const token = jws({ alg: 'RS256' }, claims());
    assert.equal(await easyAuthAccepts(token, ['RS256']), false);
    assert.equal(
      await jwtVerify(token, createLocalJWKSet({ keys: [main.jwk] }), {
        issuer: ISSUER,
        audience: API,
        currentDate: new Date(clock.now()),
      }).then(
        () => true,
        () => false,
      ),
      true,
    );
  });

  it('splits exactly three segments and decodes base64url as jose does', () => {
    assert.deepEqual(splitCompact('a.b.c'), {
      header: 'a',
      payload: 'b',
      signature: 'c',
      signingInput: 'a.b',
    });
    assert.equal(splitCompact('a.b'), undefined);
    assert.equal(splitCompact('a.b.c.d'), undefined);
    assert.deepEqual(decodeBase64url('aGk'), Buffer.from('hi'));
    assert.deepEqual(decodeBase64url('aGk='), Buffer.from('hi'));
    assert.deepEqual(decodeBase64url('_-8'), Buffer.from([0xff, 0xef]));
    assert.equal(decodeBase64url('aGk=='), undefined);
    assert.equal(decodeBase64url('a'), undefined);
    assert.equal(decodeBase64url('a/8'), undefined);
    assert.equal(decodeBase64url('a$b'), undefined);
  });

  it('refuses algorithms it cannot verify when the validator is configured', () => {
    assert.throws(
      () => createTokenValidator({ authority: AUTHORITY, audiences: [API], algorithms: ['EdDSA'] }),
      /EdDSA is not supported/,
    );
  });
});
