import { createServer } from 'node:https';
import type { Server } from 'node:https';
import type { AddressInfo } from 'node:net';
import { randomUUID } from 'node:crypto';
import * as jose from 'jose';

/**
 * A small external OIDC issuer (a CI system, Kubernetes…) for federated identity credentials: serves
 * its discovery document and JWKS over HTTPS on loopback and signs RS256 assertions.
 */
export interface TestIssuer {
  readonly issuer: string;
  readonly origin: string;
  sign(claims: { sub: string; aud: string | string[]; expiresIn?: number; iss?: string }): Promise<string>;
  /** Fetches observed (discovery + JWKS), to prove caching. */
  readonly hits: { discovery: number; jwks: number };
  close(): Promise<void>;
}

export async function startTestIssuer(tls: { key: string; cert: string }): Promise<TestIssuer> {
  const { privateKey, publicKey } = await jose.generateKeyPair('RS256', { extractable: true });
  const jwk = { ...(await jose.exportJWK(publicKey)), kid: 'issuer-key-1', alg: 'RS256', use: 'sig' };
  const hits = { discovery: 0, jwks: 0 };
  let issuer = '';
  const server: Server = createServer({ key: tls.key, cert: tls.cert }, (request, response) => {
    response.setHeader('content-type', 'application/json');
    if (request.url === '/.well-known/openid-configuration') {
      hits.discovery++;
      response.end(
        JSON.stringify({
          issuer,
          jwks_uri: `${issuer}/jwks`,
          id_token_signing_alg_values_supported: ['RS256'],
        }),
      );
    } else if (request.url === '/jwks') {
      hits.jwks++;
      response.end(JSON.stringify({ keys: [jwk] }));
    } else {
      response.statusCode = 404;
      response.end('{}');
    }
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  issuer = `https://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return {
    issuer,
    origin: issuer,
    hits,
    async sign(claims) {
      const now = Math.floor(Date.now() / 1000);
      return new jose.SignJWT({ sub: claims.sub, aud: claims.aud, jti: randomUUID() })
        .setProtectedHeader({ alg: 'RS256', kid: 'issuer-key-1', typ: 'JWT' })
        .setIssuer(claims.iss ?? issuer)
        .setIssuedAt(now)
        .setNotBefore(now)
        .setExpirationTime(now + (claims.expiresIn ?? 600))
        .sign(privateKey);
    },
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}
