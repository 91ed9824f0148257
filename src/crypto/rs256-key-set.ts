import { createPublicKey, verify as verifyBytes } from 'node:crypto';
import type { KeyObject } from 'node:crypto';
import type { Clock } from '../core/clock.ts';
import type { DecodedJwt, Jwk, JwtFailure, JwtHeader, JwtPayload } from './jwt.ts';
import { JwtError } from './jwt.ts';

export interface Rs256KeySetOptions {
  /** Public RSA JWKs, each with a `kid` (a JWKS document's `keys`). */
  readonly keys: readonly Jwk[];
  readonly clock: Clock;
  /** Leeway for `exp` and `nbf`, in seconds (default 0). */
  readonly clockToleranceSeconds?: number;
}

export interface Rs256KeySet {
  /** The verified header and claims; throws a JwtError with the reason otherwise. */
  verify(token: string): DecodedJwt;
}

// RFC 7515 §2 / RFC 4648 §5: base64url without padding, nothing else.
const SEGMENT = /^[A-Za-z0-9_-]*$/;
const MAX_HEADERS = 32;

/**
 * Verifies RS256 JWTs against a fixed set of RSA keys, synchronously with `node:crypto`: what
 * `verifyJwt` with a `keySetResolver` and `algorithms: ['RS256']` checks, for the hot path where the
 * keys are Behalf's own (the on-behalf-of assertion, the management API's bearer token). jose's
 * WebCrypto verification sends each RSA operation to the thread pool and back, which cost several
 * times the verification itself (bench/tokens.ts).
 *
 * The checks, in jose's order and with its outcomes: a compact JWS of three base64url segments; a
 * JSON-object header with `alg` exactly `RS256` (`none`, HS256 or PS256 are `algorithm`) and no
 * `crit`; a `kid` naming one of the keys (`key_not_found` otherwise — Behalf's tokens always carry
 * one); the PKCS#1 v1.5 SHA-256 signature over the first two segments as sent; a JSON-object claims
 * set whose `iat`, `nbf` and `exp`, when present, are numbers; `exp` not passed and `nbf` reached,
 * each within the tolerance. Issuer, audience and tenant are the caller's to check.
 */
export function rs256KeySet(options: Rs256KeySetOptions): Rs256KeySet {
  const tolerance = options.clockToleranceSeconds ?? 0;
  const keys = new Map<string, KeyObject>();
  for (const jwk of options.keys) {
    // RFC 7517 §4.2: a key published for encryption is not a signing key.
    if (jwk.kty !== 'RSA' || typeof jwk.kid !== 'string' || (jwk['use'] ?? 'sig') !== 'sig') continue;
    if (jwk['alg'] !== undefined && jwk['alg'] !== 'RS256') continue;
    const key = importRsaKey(jwk);
    // RFC 7518 §3.3: RSA keys of 2048 bits or more (jose refuses smaller ones for verification too).
    if (key && (key.asymmetricKeyDetails?.modulusLength ?? 0) >= 2048) keys.set(jwk.kid, key);
  }
  // Header segment → its checked header and key: Behalf's tokens have one header per key and version.
  const headers = new Map<string, { header: JwtHeader; key: KeyObject }>();

  function checkHeader(segment: string): { header: JwtHeader; key: KeyObject } {
    const known = headers.get(segment);
    if (known) return known;
    const header = parseSegment(segment) as JwtHeader;
    if (header['alg'] !== 'RS256')
      throw new JwtError('algorithm', 'The token is signed with an algorithm that is not accepted.');
    if ('crit' in header || 'b64' in header)
      throw new JwtError('malformed', 'The token uses header parameters that are not supported.');
    const key = typeof header.kid === 'string' ? keys.get(header.kid) : undefined;
    if (!key) throw new JwtError('key_not_found', 'No key matches the token header.');
    if (headers.size >= MAX_HEADERS) headers.clear();
    const checked = { header, key };
    headers.set(segment, checked);
    return checked;
  }

  return {
    verify(token) {
      if (typeof token !== 'string') throw malformed();
      const first = token.indexOf('.');
      const second = token.indexOf('.', first + 1);
      if (first < 0 || second < 0 || token.indexOf('.', second + 1) >= 0) throw malformed();
      const headerSegment = token.slice(0, first);
      const payloadSegment = token.slice(first + 1, second);
      const signatureSegment = token.slice(second + 1);
      if (!SEGMENT.test(signatureSegment)) throw malformed();
      const { header, key } = checkHeader(headerSegment);
      const signature = Buffer.from(signatureSegment, 'base64url');
      const signed = Buffer.from(token.slice(0, second), 'utf8');
      if (!verifyBytes('sha256', signed, key, signature))
        throw new JwtError('signature', 'The token signature is invalid.');
      const payload = parseSegment(payloadSegment);
      checkTimes(payload, Math.floor(options.clock.now() / 1000), tolerance);
      return { header, payload };
    },
  };
}

function importRsaKey(jwk: Jwk): KeyObject | undefined {
  const { n, e } = jwk;
  if (typeof n !== 'string' || typeof e !== 'string') return undefined;
  try {
    return createPublicKey({ key: { kty: 'RSA', n, e }, format: 'jwk' });
  } catch {
    return undefined;
  }
}

function malformed(): JwtError {
  return new JwtError('malformed', 'The token is not a well-formed JWT.');
}

/** A base64url segment holding a JSON object (RFC 7519 §7.2 steps 3-4 and 10). */
function parseSegment(segment: string): Record<string, unknown> {
  if (segment === '' || !SEGMENT.test(segment)) throw malformed();
  let parsed: unknown;
  try {
    parsed = JSON.parse(Buffer.from(segment, 'base64url').toString('utf8'));
  } catch {
    throw malformed();
  }
  if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed)) throw malformed();
  return parsed as Record<string, unknown>;
}

// What verifyJwt reports for a claim of the wrong type (jose's claim → jwt.ts's JwtFailure).
const MISTYPED: Readonly<Record<'iat' | 'nbf' | 'exp', JwtFailure>> = {
  iat: 'not_yet_valid',
  nbf: 'not_yet_valid',
  exp: 'claim',
};

/** RFC 7519 §4.1.4-4.1.6 as jose applies them: typed when present, `exp`/`nbf` within the tolerance. */
function checkTimes(payload: JwtPayload, now: number, tolerance: number): void {
  for (const claim of ['iat', 'nbf', 'exp'] as const) {
    if (payload[claim] !== undefined && typeof payload[claim] !== 'number')
      throw new JwtError(MISTYPED[claim], `The token's "${claim}" claim is not acceptable.`, claim);
  }
  const { nbf, exp } = payload as { nbf?: number; exp?: number };
  if (nbf !== undefined && nbf > now + tolerance)
    throw new JwtError('not_yet_valid', 'The token\'s "nbf" claim is not acceptable.', 'nbf');
  if (exp !== undefined && exp <= now - tolerance)
    throw new JwtError('expired', 'The token has expired.', 'exp');
}
