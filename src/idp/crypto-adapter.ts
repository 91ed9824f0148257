import { X509Certificate } from 'node:crypto';
import type { Clock } from '../core/clock.ts';
import type { JwtHeader, KeyResolver, SigningAlgorithm } from '../crypto/jwt.ts';
import { decodeJwt, JwtError, keySetResolver, signJwt, verifyJwt } from '../crypto/jwt.ts';
import type { PublishedJwk, SigningKeyRing } from '../crypto/signing-keys.ts';
import type { JwtTools, PublicJwk, TokenSigner, VerifyOutcome } from './jwt-port.ts';

// Time claims are judged by the callers (with Entra's error codes); the seam only rejects far-off times.
const TOLERANCE_SECONDS = 300;

function failure(error: unknown): VerifyOutcome {
  if (error instanceof JwtError) return { ok: false, reason: error.reason };
  throw error;
}

/** The token service's signer over the crypto engineer's key ring (kid/x5t, rotation, encrypted at rest). */
export function keyRingSigner(ring: SigningKeyRing, clock: Clock): TokenSigner {
  // A key resolver imports each JWK once; it is rebuilt only when the published set changes
  // (rotation), not per token: importing cost more than the RS256 verification itself (OBO hot path).
  let resolver: { keys: readonly PublishedJwk[]; resolve: KeyResolver } | undefined;
  const ownKeys = (): KeyResolver => {
    const keys = ring.publishedKeys();
    const same =
      resolver !== undefined &&
      resolver.keys.length === keys.length &&
      resolver.keys.every((key, i) => key === keys[i]);
    if (!same) resolver = { keys, resolve: keySetResolver({ keys }) };
    return resolver!.resolve;
  };
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
          key: ownKeys(),
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
