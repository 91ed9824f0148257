import { constants, sign as signBytes, X509Certificate } from 'node:crypto';
import type { KeyObject, SignKeyObjectInput, webcrypto } from 'node:crypto';
import * as jose from 'jose';
import type { Clock } from '../core/clock.ts';
import { certificateDer, thumbprints } from './certificates.ts';

/**
 * The one seam over `jose` (ARCHITECTURE.md: only crypto and easyauth import it). Everything else in
 * Behalf signs, verifies and decodes JWTs through these few functions, with the clock injected.
 */
export type SigningAlgorithm = 'RS256' | 'PS256';

export interface JwtHeader {
  readonly alg: string;
  readonly typ?: string;
  readonly kid?: string;
  readonly x5t?: string;
  readonly 'x5t#S256'?: string;
  readonly x5c?: readonly string[];
  readonly [name: string]: unknown;
}

export type JwtPayload = Readonly<Record<string, unknown>>;

export interface DecodedJwt {
  readonly header: JwtHeader;
  readonly payload: JwtPayload;
}

/** A public JWK as published in a JWKS document. */
export interface Jwk {
  readonly kty: string;
  readonly kid?: string;
  readonly [member: string]: unknown;
}

export type VerificationKey = KeyObject | webcrypto.CryptoKey | Jwk;

/** Picks the key for a token from its (not yet authenticated) header, e.g. by `kid` from a JWKS. */
export type KeyResolver = (
  header: JwtHeader,
  payload: JwtPayload,
) => Promise<VerificationKey> | VerificationKey;

/** Why a token was refused, so callers can map it to their protocol's error (AADSTS codes, 401s). */
export type JwtFailure =
  | 'malformed'
  | 'algorithm'
  | 'key_not_found'
  | 'signature'
  | 'expired'
  | 'not_yet_valid'
  | 'issuer'
  | 'audience'
  | 'claim';

export class JwtError extends Error {
  readonly reason: JwtFailure;
  /** The claim that failed, for `claim` (and `expired`, `not_yet_valid`, `issuer`, `audience`). */
  readonly claim: string | undefined;
  constructor(reason: JwtFailure, message: string, claim?: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'JwtError';
    this.reason = reason;
    this.claim = claim;
  }
}

export interface SignJwtOptions {
  readonly privateKey: KeyObject;
  readonly algorithm: SigningAlgorithm;
  /** Extra protected-header members (`kid`, `x5t`, `x5t#S256`, `x5c`); `typ` defaults to `JWT`. */
  readonly header?: Omit<JwtHeader, 'alg'>;
}

/**
 * Signs with `node:crypto` synchronously: the same compact JWS jose's `SignJWT` writes (base64url of
 * the JSON header, of the JSON payload, of the signature; RS256 output is byte-identical since PKCS#1
 * v1.5 is deterministic), without jose's WebCrypto path, which hands each RSA signature to the thread
 * pool and back — a measurable share of a token request (bench/tokens.ts). Verification is jose's, except
 * for Behalf's own RS256 tokens (rs256-key-set.ts).
 */
export async function signJwt(payload: JwtPayload, options: SignJwtOptions): Promise<string> {
  return jwtSigner(options)(payload);
}

/**
 * `signJwt` for many tokens under one key and header: the key is checked and the header segment
 * encoded once, so each token costs its payload's JSON and the RSA signature only (the token
 * service's signer keeps one per signing key).
 */
export function jwtSigner(options: SignJwtOptions): (payload: JwtPayload) => string {
  if (options.header && ('crit' in options.header || 'b64' in options.header))
    throw new TypeError('signJwt does not support the crit or b64 header parameters');
  const key = signingKey(options);
  const headerSegment = base64url(JSON.stringify({ typ: 'JWT', ...options.header, alg: options.algorithm }));
  return (payload) => {
    const signingInput = `${headerSegment}.${base64url(JSON.stringify(payload))}`;
    const signature = signBytes('sha256', Buffer.from(signingInput), key);
    return `${signingInput}.${signature.toString('base64url')}`;
  };
}

function base64url(text: string): string {
  return Buffer.from(text).toString('base64url');
}

// RFC 7518 §3.3 and §3.5 (and jose): RSA keys of at least 2048 bits; PS256 salts with the hash length.
const checkedKeys = new WeakSet<KeyObject>();
const PSS_OPTIONS = { padding: constants.RSA_PKCS1_PSS_PADDING, saltLength: 32 } as const;

function signingKey(options: SignJwtOptions): KeyObject | SignKeyObjectInput {
  const key = options.privateKey;
  if (!checkedKeys.has(key)) {
    const rsa = key.asymmetricKeyType === 'rsa' || key.asymmetricKeyType === 'rsa-pss';
    if (key.type !== 'private' || !rsa) throw new TypeError(`${options.algorithm} needs an RSA private key`);
    if ((key.asymmetricKeyDetails?.modulusLength ?? 0) < 2048)
      throw new TypeError(`${options.algorithm} requires key modulusLength to be 2048 bits or larger`);
    checkedKeys.add(key);
  }
  if (options.algorithm === 'PS256') return { key, ...PSS_OPTIONS };
  if (options.algorithm === 'RS256' && key.asymmetricKeyType === 'rsa') return key;
  throw new TypeError(`unsupported signing algorithm ${String(options.algorithm)}`);
}

export interface VerifyJwtOptions {
  readonly key: VerificationKey | KeyResolver;
  /** Never empty: the caller states which algorithms it accepts, so `none` or HS256 can never slip in. */
  readonly algorithms: readonly SigningAlgorithm[];
  readonly clock: Clock;
  readonly issuer?: string | readonly string[];
  readonly audience?: string | readonly string[];
  readonly clockToleranceSeconds?: number;
  /** Claims that must be present (e.g. `exp`, `jti` for a client assertion). */
  readonly requiredClaims?: readonly string[];
  /** Expected `typ` header, when the protocol fixes one. */
  readonly type?: string;
}

export async function verifyJwt(token: string, options: VerifyJwtOptions): Promise<DecodedJwt> {
  if (options.algorithms.length === 0) throw new Error('verifyJwt needs at least one algorithm');
  const verifyOptions: jose.JWTVerifyOptions = {
    algorithms: [...options.algorithms],
    currentDate: new Date(options.clock.now()),
    clockTolerance: options.clockToleranceSeconds ?? 0,
    ...(options.issuer !== undefined ? { issuer: copy(options.issuer) } : {}),
    ...(options.audience !== undefined ? { audience: copy(options.audience) } : {}),
    ...(options.requiredClaims ? { requiredClaims: [...options.requiredClaims] } : {}),
    ...(options.type !== undefined ? { typ: options.type } : {}),
  };
  const key = options.key;
  try {
    const result =
      typeof key === 'function'
        ? await jose.jwtVerify(
            token,
            async (header, jws) =>
              (await key(header as JwtHeader, parsePayload(jws.payload))) as unknown as jose.CryptoKey,
            verifyOptions,
          )
        : await jose.jwtVerify(token, key as jose.KeyObject | jose.JWK, verifyOptions);
    return { header: result.protectedHeader as JwtHeader, payload: result.payload };
  } catch (error) {
    throw toJwtError(error);
  }
}

/** Reads a token's header and payload WITHOUT checking anything: for routing (`kid`, `iss`), never for trust. */
export function decodeJwt(token: string): DecodedJwt {
  try {
    return { header: jose.decodeProtectedHeader(token) as JwtHeader, payload: jose.decodeJwt(token) };
  } catch (error) {
    throw new JwtError('malformed', 'The token is not a well-formed JWT.', undefined, { cause: error });
  }
}

/** A JWKS document as a key resolver (selects by `kid`, `alg` and `kty` as RFC 7517 intends). */
export function keySetResolver(jwks: { readonly keys: readonly Jwk[] }): KeyResolver {
  const keySet = jose.createLocalJWKSet({ keys: jwks.keys as jose.JWK[] });
  return async (header) => {
    try {
      return await keySet(header as jose.JWSHeaderParameters, {} as jose.FlattenedJWSInput);
    } catch (error) {
      throw toJwtError(error);
    }
  };
}

/** JOSE `x5t` (RFC 7515 §4.1.7): base64url SHA-1 of the certificate's DER, from PEM text or DER bytes. */
export function x5t(certificate: string | Uint8Array): string {
  return thumbprints(typeof certificate === 'string' ? certificateDer(certificate) : certificate).x5t;
}

/** JOSE `x5t#S256` (RFC 7515 §4.1.8): base64url SHA-256 of the certificate's DER. */
export function x5tS256(certificate: string | Uint8Array): string {
  return thumbprints(typeof certificate === 'string' ? certificateDer(certificate) : certificate).x5tS256;
}

function copy(value: string | readonly string[]): string | string[] {
  return typeof value === 'string' ? value : [...value];
}

function parsePayload(payload: string | Uint8Array): JwtPayload {
  try {
    const text =
      typeof payload === 'string'
        ? Buffer.from(payload, 'base64url').toString('utf8')
        : Buffer.from(payload).toString('utf8');
    const parsed: unknown = JSON.parse(text);
    return parsed !== null && typeof parsed === 'object' ? (parsed as JwtPayload) : {};
  } catch {
    return {};
  }
}

const CLAIM_FAILURES: Record<string, JwtFailure> = {
  nbf: 'not_yet_valid',
  iat: 'not_yet_valid',
  iss: 'issuer',
  aud: 'audience',
};

function toJwtError(error: unknown): JwtError {
  if (error instanceof JwtError) return error;
  if (error instanceof jose.errors.JWTExpired) {
    return new JwtError('expired', 'The token has expired.', error.claim, { cause: error });
  }
  if (error instanceof jose.errors.JWTClaimValidationFailed) {
    const reason = error.reason === 'missing' ? 'claim' : (CLAIM_FAILURES[error.claim] ?? 'claim');
    return new JwtError(
      reason,
      `The token's "${error.claim}" claim is ${error.reason === 'missing' ? 'missing' : 'not acceptable'}.`,
      error.claim,
      { cause: error },
    );
  }
  if (error instanceof jose.errors.JWSSignatureVerificationFailed) {
    return new JwtError('signature', 'The token signature is invalid.', undefined, { cause: error });
  }
  if (error instanceof jose.errors.JOSEAlgNotAllowed || error instanceof jose.errors.JOSENotSupported) {
    return new JwtError(
      'algorithm',
      'The token is signed with an algorithm that is not accepted.',
      undefined,
      {
        cause: error,
      },
    );
  }
  if (
    error instanceof jose.errors.JWKSNoMatchingKey ||
    error instanceof jose.errors.JWKSMultipleMatchingKeys
  ) {
    return new JwtError('key_not_found', 'No key matches the token header.', undefined, { cause: error });
  }
  if (error instanceof jose.errors.JWSInvalid || error instanceof jose.errors.JWTInvalid) {
    return new JwtError('malformed', 'The token is not a well-formed JWT.', undefined, { cause: error });
  }
  return new JwtError('malformed', 'The token could not be verified.', undefined, { cause: error });
}

/**
 * The public key of an X.509 certificate given as PEM, base64 DER (Graph `keyCredential.key`, a JWS
 * `x5c` entry) or DER bytes: what a certificate credential's assertion is verified with.
 */
export function publicKeyFromCertificate(certificate: string | Uint8Array): KeyObject {
  const input =
    typeof certificate !== 'string'
      ? Buffer.from(certificate)
      : certificate.includes('-----BEGIN')
        ? certificate
        : Buffer.from(certificate, 'base64');
  return new X509Certificate(input).publicKey;
}
