import { createHash } from 'node:crypto';
import type { Application, KeyCredential } from '../../directory/model.ts';
import { entraError } from '../errors/entra-error.ts';
import type { DecodedJwt, JwtTools } from '../jwt-port.ts';

const ALGORITHMS = ['RS256', 'PS256'] as const;

function thumbprints(credential: KeyCredential): { sha1: string; sha256: string } {
  const der = Buffer.from(credential.key, 'base64');
  return {
    sha1: createHash('sha1').update(der).digest('base64url'),
    sha256: createHash('sha256').update(der).digest('base64url'),
  };
}

/**
 * A certificate client assertion (ED:certificate-credentials.md): the header names the registered
 * certificate by `x5t` (SHA-1) or `x5t#S256` (SHA-256), the signature is RS256 or PS256 (msal-node
 * sends PS256 with `x5t#S256`, RS256 with `x5t`). An unknown key or a bad signature is AADSTS700027.
 */
export async function verifyCertificateAssertion(
  app: Application,
  assertion: string,
  decoded: DecodedJwt,
  jwt: JwtTools,
  now: number,
): Promise<void> {
  const x5t = decoded.header['x5t'];
  const x5tS256 = decoded.header['x5t#S256'];
  const credential = app.keyCredentials.find((c) => {
    const t = thumbprints(c);
    return (
      (typeof x5tS256 === 'string' && x5tS256 === t.sha256) || (typeof x5t === 'string' && x5t === t.sha1)
    );
  });
  if (!credential) throw entraError(700027, { reason: 'The key was not found.' });
  if (Date.parse(credential.endDateTime) <= now || Date.parse(credential.startDateTime) > now) {
    throw entraError(700027, { reason: 'The key used is expired.' });
  }
  const outcome = await jwt.verifyWithCertificate(assertion, credential.key, ALGORITHMS);
  if (!outcome.ok) throw entraError(700027, { reason: 'The signature is invalid.' });
}
