import type { Application } from '../../directory/model.ts';
import { entraError } from '../errors/entra-error.ts';
import type { DecodedJwt, JwtTools } from '../jwt-port.ts';
import type { FederationKeySource } from './federation-keys.ts';
import { FederationFetchError } from './federation-keys.ts';

/**
 * A federated identity credential assertion (workload identity federation, entra-protocol.md §2.8):
 * the token's `iss`, `sub` and `aud` must equal one FIC of the app exactly (case-sensitive), and its
 * signature must verify with the issuer's published keys (RS256 only). Failures are `invalid_client`.
 */
export async function verifyFederatedAssertion(
  app: Application,
  assertion: string,
  decoded: DecodedJwt,
  jwt: JwtTools,
  keys: FederationKeySource,
  /** The assertion's single `aud`. */
  audience: string,
): Promise<void> {
  const { claims } = decoded;
  const issuer = String(claims['iss'] ?? '');
  const subject = String(claims['sub'] ?? '');
  const byIssuer = app.federatedIdentityCredentials.filter((f) => f.issuer === issuer);
  if (byIssuer.length === 0) throw entraError(700211, { issuer });
  const bySubject = byIssuer.filter((f) => f.subject === subject);
  if (bySubject.length === 0) throw entraError(700213, { subject });
  if (!bySubject.some((f) => f.audiences.includes(audience))) throw entraError(700212, { audience });

  let outcome;
  try {
    outcome = await jwt.verifyWithJwks(assertion, await keys.keysFor(issuer), ['RS256']);
    // A key rotated at the issuer since we cached its JWKS: fetch again (rate-limited) and retry once.
    if (!outcome.ok)
      outcome = await jwt.verifyWithJwks(assertion, await keys.keysFor(issuer, { refresh: true }), ['RS256']);
  } catch (error) {
    if (error instanceof FederationFetchError) throw entraError(7002129, { issuer, reason: error.message });
    throw error;
  }
  if (!outcome.ok) throw entraError(700027, { reason: 'The key was not found.' });
}
