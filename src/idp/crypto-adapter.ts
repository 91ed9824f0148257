import { X509Certificate } from 'node:crypto';
import type { Clock } from '../core/clock.ts';
import type { JwtHeader, SigningAlgorithm } from '../crypto/jwt.ts';
import { decodeJwt, JwtError, keySetResolver, signJwt, verifyJwt } from '../crypto/jwt.ts';
import type { SigningKeyRing } from '../crypto/signing-keys.ts';
import type { JwtTools, PublicJwk, TokenSigner, VerifyOutcome } from './jwt-port.ts';

// Time claims are judged by the callers (with Entra's error codes); the seam only rejects far-off times.
const TOLERANCE_SECONDS = 300;

function failure(error: unknown): VerifyOutcome {
  if (error instanceof JwtError) return { ok: false, reason: error.reason };
  throw error;
}

/** The token service's signer over the crypto engineer's key ring (kid/x5t, rotation, encrypted at rest). */
export function keyRingSigner(ring: SigningKeyRing, clock: Clock): TokenSigner {
  return {
    async sign(claims, options) {
      const key = ring.signingKey();
      const header: Omit<JwtHeader, 'alg'> = options.x5t ? { kid: key.kid, x5t: key.x5t } : { kid: key.kid };
      return signJwt(claims, { privateKey: key.privateKey, algorithm: key.algorithm, header });
    },
    async publishedKeys() {
      return ring.publishedKeys();
    },
    async verifyOwn(token) {
      try {
        const { header, payload } = await verifyJwt(token, {
          key: keySetResolver({ keys: ring.publishedKeys() }),
          algorithms: ['RS256'],
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
