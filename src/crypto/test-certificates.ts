import type { KeyObject } from 'node:crypto';
import { createPrivateKey, createPublicKey } from 'node:crypto';
import { createSelfSignedCertificate, thumbprints } from './certificates.ts';
import type { KeyKind } from './certificates.ts';

/**
 * For tests across Behalf: a key pair and a self-signed X.509 certificate, in every form a test needs
 * to register it as an application's certificate credential (Graph `keyCredentials`: `key` is the
 * base64 DER, `customKeyIdentifier` the SHA-1 thumbprint) and to sign `private_key_jwt` assertions as
 * msal-node does (`x5t` with RS256, `x5t#S256` with PS256; entra-protocol.md §2.1).
 */
export interface TestCertificate {
  readonly privateKey: KeyObject;
  readonly publicKey: KeyObject;
  /** PKCS#8 PEM, what msal-node's `clientCertificate.privateKey` takes. */
  readonly privateKeyPem: string;
  readonly publicKeyPem: string;
  readonly certificatePem: string;
  /** Base64 (not base64url) DER: Graph's `keyCredential.key` and a JWS `x5c` entry. */
  readonly certificateBase64: string;
  /** base64url SHA-1 of the DER: JOSE `x5t`. */
  readonly x5t: string;
  /** base64url SHA-256 of the DER: JOSE `x5t#S256`. */
  readonly x5tS256: string;
  /** Upper-case hex SHA-1: msal-node's `thumbprint`, Graph's displayed thumbprint. */
  readonly thumbprintSha1: string;
  /** Upper-case hex SHA-256: msal-node's `thumbprintSha256`. */
  readonly thumbprintSha256: string;
  readonly notBefore: Date;
  readonly notAfter: Date;
}

export interface TestCertificateOptions {
  readonly subject?: string;
  readonly kind?: KeyKind;
  readonly notBefore?: Date;
  readonly notAfter?: Date;
}

export async function createTestCertificate(options: TestCertificateOptions = {}): Promise<TestCertificate> {
  const notBefore = options.notBefore ?? new Date(Date.now() - 3600_000);
  const notAfter = options.notAfter ?? new Date(notBefore.getTime() + 365 * 24 * 3600_000);
  const created = await createSelfSignedCertificate({
    subject: options.subject ?? 'CN=Behalf test client',
    kind: options.kind ?? 'RSA-2048',
    notBefore,
    notAfter,
  });
  const prints = thumbprints(created.certificateDer);
  const privateKey = createPrivateKey(created.privateKeyPem);
  const publicKey = createPublicKey(privateKey);
  return {
    privateKey,
    publicKey,
    privateKeyPem: created.privateKeyPem,
    publicKeyPem: publicKey.export({ type: 'spki', format: 'pem' }).toString(),
    certificatePem: created.certificatePem,
    certificateBase64: created.certificateDer.toString('base64'),
    x5t: prints.x5t,
    x5tS256: prints.x5tS256,
    thumbprintSha1: prints.sha1Hex,
    thumbprintSha256: prints.sha256Hex,
    notBefore,
    notAfter,
  };
}
