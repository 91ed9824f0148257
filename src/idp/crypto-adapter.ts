import { X509Certificate } from 'node:crypto';
import type { KeyObject } from 'node:crypto';
import type { Clock } from '../core/clock.ts';
import type { JwtPayload, SigningAlgorithm } from '../crypto/jwt.ts';
import { decodeJwt, JwtError, jwtSigner, keySetResolver, verifyJwt } from '../crypto/jwt.ts';
import type { Rs256KeySet } from '../crypto/rs256-key-set.ts';
import { rs256KeySet } from '../crypto/rs256-key-set.ts';
import type { PublishedJwk, SigningKeyRing } from '../crypto/signing-keys.ts';
import type { JwtTools, PublicJwk, TokenSigner, VerifyOutcome } from './jwt-port.ts';

// Time claims are judged by the callers (with Entra's error codes); the seam only rejects far-off times.
const TOLERANCE_SECONDS = 300;

type Signer = (payload: JwtPayload) => string;

function failure(error: unknown): VerifyOutcome {
  if (error instanceof JwtError) return { ok: false, reason: error.reason };
  throw error;
}

/** The token service's signer over the crypto engineer's key ring (kid/x5t, rotation, encrypted at rest). */
export function keyRingSigner(ring: SigningKeyRing, clock: Clock): TokenSigner {
  // Both are rebuilt only when the ring changes (rotation, or a reload after another node rotated),
  // never per token: the signer encodes its header once, and the key set imports each published key
  // once and verifies with node:crypto synchronously (rs256-key-set.ts) — jose's WebCrypto path cost
  // several times the RSA verification itself on the on-behalf-of hot path (bench/tokens.ts).
  let signers: { privateKey: KeyObject; kid: string; v1: Signer; v2: Signer } | undefined;
  let verifier: { keys: readonly PublishedJwk[]; keySet: Rs256KeySet } | undefined;
  const ownKeys = (): Rs256KeySet => {
    const keys = ring.publishedKeys();
    const same =
      verifier !== undefined &&
      verifier.keys.length === keys.length &&
      verifier.keys.every((key, i) => key === keys[i]);
    if (!same)
      verifier = { keys, keySet: rs256KeySet({ keys, clock, clockToleranceSeconds: TOLERANCE_SECONDS }) };
    return verifier!.keySet;
  };
  const signerFor = (x5t: boolean): Signer => {
    const key = ring.signingKey();
    if (signers?.privateKey !== key.privateKey || signers.kid !== key.kid) {
      const options = { privateKey: key.privateKey, algorithm: key.algorithm };
      signers = {
        privateKey: key.privateKey,
        kid: key.kid,
        v1: jwtSigner({ ...options, header: { kid: key.kid, x5t: key.x5t } }),
        v2: jwtSigner({ ...options, header: { kid: key.kid } }),
      };
    }
    return x5t ? signers.v1 : signers.v2;
  };
  return {
    async sign(claims, options) {
      return signerFor(options.x5t)(claims);
    },
    async publishedKeys() {
      return ring.publishedKeys();
    },
    async verifyOwn(token) {
      try {
        const { header, payload } = ownKeys().verify(token);
        return { ok: true, jwt: { header, claims: { ...payload } } };
      } catch (error) {
        return failure(error);
      }
    },
  };
}

export function jwtTools(clock: Clock): JwtTools {
  return {
    decode(token) {
      try {
        const { header, payload } = decodeJwt(token);
        return { header, claims: { ...payload } };
      } catch {
        return undefined;
      }
    },
    async verifyWithCertificate(token, certificateDerBase64, algorithms) {
      try {
        const key = new X509Certificate(Buffer.from(certificateDerBase64, 'base64')).publicKey;
        const { header, payload } = await verifyJwt(token, {
          key,
          algorithms: algorithms as SigningAlgorithm[],
          clock,
          clockToleranceSeconds: TOLERANCE_SECONDS,
        });
        return { ok: true, jwt: { header, claims: { ...payload } } };
      } catch (error) {
        return failure(error);
      }
    },
    async verifyWithJwks(token, jwks, algorithms) {
      try {
        const { header, payload } = await verifyJwt(token, {
          key: keySetResolver({ keys: jwks.keys as PublicJwk[] }),
          algorithms: algorithms as SigningAlgorithm[],
          clock,
          clockToleranceSeconds: TOLERANCE_SECONDS,
        });
        return { ok: true, jwt: { header, claims: { ...payload } } };
      } catch (error) {
        return failure(error);
      }
    },
  };
}
