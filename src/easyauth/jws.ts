import { constants, createPublicKey, verify as cryptoVerify } from 'node:crypto';
import type { JsonWebKeyInput, KeyObject } from 'node:crypto';

/**
 * The JWS compact serialization (RFC 7515 §7.1) checked with node:crypto's one-shot `verify` against a
 * public `KeyObject` imported once per key, instead of jose's `compactVerify` per call (WebCrypto:
 * a thread-pool hop, a key check and several copies per token). It accepts what jose accepts: the
 * table test in jws.test.ts runs both over valid and tampered tokens.
 */

/** RFC 7518 §3.1: the asymmetric JWS algorithms Easy Auth can verify. HS* and `none` are never here. */
interface AlgorithmSpec {
  readonly hash: string;
  readonly keyType: 'rsa' | 'ec';
  /** RSASSA-PSS (RFC 7518 §3.5): salt as long as the hash, as jose and WebCrypto require. */
  readonly pss?: true;
  /** ECDSA (RFC 7518 §3.4): the curve the key must be on, in OpenSSL's name. */
  readonly curve?: string;
}

const ALGORITHMS: Readonly<Record<string, AlgorithmSpec>> = {
  RS256: { hash: 'sha256', keyType: 'rsa' },
  RS384: { hash: 'sha384', keyType: 'rsa' },
  RS512: { hash: 'sha512', keyType: 'rsa' },
  PS256: { hash: 'sha256', keyType: 'rsa', pss: true },
  PS384: { hash: 'sha384', keyType: 'rsa', pss: true },
  PS512: { hash: 'sha512', keyType: 'rsa', pss: true },
  ES256: { hash: 'sha256', keyType: 'ec', curve: 'prime256v1' },
  ES384: { hash: 'sha384', keyType: 'ec', curve: 'secp384r1' },
  ES512: { hash: 'sha512', keyType: 'ec', curve: 'secp521r1' },
};

export function isSupportedAlgorithm(alg: string): boolean {
  return Object.hasOwn(ALGORITHMS, alg);
}

/** The three segments of a compact JWS, split once; each base64url segment is decoded at most once. */
export interface CompactJws {
  readonly header: string;
  readonly payload: string;
  readonly signature: string;
  /** `header.payload`: what the signature covers (RFC 7515 §5.2 step 8). */
  readonly signingInput: string;
}

/** Undefined unless the text has exactly three dot-separated segments (jose: "Invalid Compact JWS"). */
export function splitCompact(token: string): CompactJws | undefined {
  const first = token.indexOf('.');
  if (first < 0) return undefined;
  const second = token.indexOf('.', first + 1);
  if (second < 0 || token.indexOf('.', second + 1) >= 0) return undefined;
  return {
    header: token.slice(0, first),
    payload: token.slice(first + 1, second),
    signature: token.slice(second + 1),
    signingInput: token.slice(0, second),
  };
}

const BASE64URL = /^[A-Za-z0-9_-]*$/;

/**
 * RFC 7515 §2 base64url, decoded as jose does on Node 20 (`atob`, the WHATWG forgiving-base64
 * decoder): an unpadded segment of the URL-safe alphabet is the common case; `=` padding and ASCII
 * white space are tolerated only because jose tolerates them, so that both accept the same tokens.
 * Undefined when the text is not base64url.
 */
export function decodeBase64url(segment: string): Buffer | undefined {
  if (BASE64URL.test(segment) && segment.length % 4 !== 1) return Buffer.from(segment, 'base64url');
  if (segment.includes('+') || segment.includes('/')) return undefined;
  try {
    return Buffer.from(atob(segment.replaceAll('-', '+').replaceAll('_', '/')), 'latin1');
  } catch {
    return undefined;
  }
}

// jose decodes JOSE headers and claims sets with a fatal UTF-8 decoder (which also drops a leading BOM).
const utf8 = new TextDecoder('utf-8', { fatal: true });

/** A base64url segment holding a JSON object (RFC 7515 §5.2 steps 2-3, RFC 7519 §7.2 step 10), or undefined. */
export function decodeJsonObject(segment: string): Record<string, unknown> | undefined {
  const bytes = decodeBase64url(segment);
  if (!bytes) return undefined;
  try {
    const value: unknown = JSON.parse(utf8.decode(bytes));
    if (typeof value === 'object' && value !== null && !Array.isArray(value))
      return value as Record<string, unknown>;
  } catch {
    // not UTF-8 or not JSON: undefined below
  }
  return undefined;
}

/**
 * RFC 7515 §4.1.11: a `crit` header names extensions the verifier must understand. jose understands
 * only `b64` (RFC 7797), and a JWT must not use an unencoded payload, so the one acceptable form is
 * `crit: ["b64"]` with `b64: true`. Returns the reason a header is refused, or undefined.
 */
export function critProblem(header: Record<string, unknown>): string | undefined {
  const crit = header['crit'];
  if (crit === undefined) return undefined;
  if (!Array.isArray(crit) || crit.length === 0 || crit.some((c) => c !== 'b64'))
    return 'The token header lists critical extensions (crit) this API does not understand.';
  if (header['b64'] !== true) return 'The token uses an unencoded payload (b64), which a JWT may not.';
  return undefined;
}

/**
 * The public key of one JWK, ready for `verifySignature`; undefined when node:crypto cannot import it
 * (then no token verifies against it). A JWK that names its `alg` verifies only that algorithm
 * (RFC 7517 §4.4, as jose's key sets do).
 */
export interface PublicKey {
  readonly key: KeyObject;
  readonly alg: string | undefined;
}

export function importPublicJwk(jwk: Record<string, unknown>): PublicKey | undefined {
  // A private key published by mistake is refused, not quietly reduced to its public half.
  if (jwk['d'] !== undefined) return undefined;
  try {
    const key = createPublicKey({ key: jwk as JsonWebKeyInput['key'], format: 'jwk' });
    return { key, alg: typeof jwk['alg'] === 'string' ? jwk['alg'] : undefined };
  } catch {
    return undefined;
  }
}

/** Whether the key may verify `alg` at all: the right key type, RSA of at least 2048 bits, the right curve. */
function usable(key: PublicKey, alg: string, spec: AlgorithmSpec): boolean {
  if (key.alg !== undefined && key.alg !== alg) return false;
  if (key.key.asymmetricKeyType !== spec.keyType) return false;
  const details = key.key.asymmetricKeyDetails;
  // RFC 7518 §3.3: "A key of size 2048 bits or larger MUST be used" (jose refuses smaller ones too).
  if (spec.keyType === 'rsa') return (details?.modulusLength ?? 0) >= 2048;
  return details?.namedCurve === spec.curve;
}

/** RFC 7515 §5.2 step 8: true only when `signature` is `alg`'s signature of `signingInput` by `key`. */
export function verifySignature(
  alg: string,
  key: PublicKey | undefined,
  signingInput: string,
  signature: Buffer,
): boolean {
  const spec = Object.hasOwn(ALGORITHMS, alg) ? ALGORITHMS[alg] : undefined;
  if (!spec || !key || !usable(key, alg, spec)) return false;
  // The signing input is ASCII (every segment passed the base64url check), so latin1 is its bytes.
  const data = Buffer.from(signingInput, 'latin1');
  try {
    if (spec.pss)
      return cryptoVerify(
        spec.hash,
        data,
        {
          key: key.key,
          padding: constants.RSA_PKCS1_PSS_PADDING,
          saltLength: constants.RSA_PSS_SALTLEN_DIGEST,
        },
        signature,
      );
    if (spec.keyType === 'ec')
      return cryptoVerify(spec.hash, data, { key: key.key, dsaEncoding: 'ieee-p1363' }, signature);
    return cryptoVerify(spec.hash, data, key.key, signature);
  } catch {
    return false;
  }
}
