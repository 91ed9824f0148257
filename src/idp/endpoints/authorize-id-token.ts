import { createHash } from 'node:crypto';
import type { Clock } from '../../core/clock.ts';
import type { Random } from '../../core/ids.ts';
import { idTokenClaims } from '../claims/id-token.ts';
import { pairwiseSubject } from '../claims/subject.ts';
import type { TokenSigner } from '../jwt-port.ts';
import { issuerFor } from '../urls.ts';
import type { InteractiveDeps } from './authorize-deps.ts';

/**
 * The front-channel ID token of `response_type=id_token` and `code id_token` (OpenID Connect Core
 * §3.2.2.10, §3.3.2.11), for apps with `implicitGrantSettings.enableIdTokenIssuance`. It is the same ID
 * token the token endpoint issues (claims/id-token.ts, same signer, same pairwise `sub`) plus `c_hash`
 * when a code travels with it: the left half of SHA-256 of the code, base64url (RS256 → SHA-256).
 * Profile claims are included as for `openid profile`: the front channel carries no separate scope check.
 */
export function createFrontChannelIdTokens(deps: {
  readonly signer: TokenSigner;
  readonly clock: Clock;
  readonly random: Random;
  readonly baseUrl: () => string;
  /** The token service's pairwise-subject key, so `sub` equals the back-channel ID token's. */
  readonly subjectKey: Buffer;
  readonly lifetimeSeconds: number;
}): NonNullable<InteractiveDeps['frontChannelIdToken']> {
  return async (input) => {
    const iat = Math.floor(deps.clock.now() / 1000);
    const claims = idTokenClaims({
      version: input.version,
      issuer: issuerFor(deps.baseUrl(), input.tenantId, input.version),
      tenantId: input.tenantId,
      clientAppId: input.client.appId,
      user: input.user,
      sub: pairwiseSubject(deps.subjectKey, input.tenantId, input.client.appId, input.user.id),
      times: { iat, exp: iat + deps.lifetimeSeconds },
      uti: deps.random.bytes(16).toString('base64url'),
      nonce: input.nonce,
      authTime: input.authTime,
      sessionId: input.sessionId,
      profile: true,
      email: true,
      authMethods: ['pwd'],
    });
    if (input.code !== undefined) {
      const digest = createHash('sha256').update(input.code, 'ascii').digest();
      claims['c_hash'] = digest.subarray(0, digest.length / 2).toString('base64url');
    }
    return deps.signer.sign(claims, { x5t: input.version === 1 });
  };
}
