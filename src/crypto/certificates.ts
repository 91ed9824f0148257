import { createHash, randomBytes, webcrypto } from 'node:crypto';
import type { webcrypto as WebCrypto } from 'node:crypto';
import * as x509 from './x509.ts';

/**
 * Shared X.509 plumbing over @peculiar/x509 and Node's WebCrypto: key pairs, PEM/DER conversions,
 * thumbprints. The crypto provider is passed explicitly on every call so nothing relies on the
 * library's process-wide provider.
 */
export const webCrypto = webcrypto as unknown as Crypto;

export type KeyKind = 'RSA-2048' | 'P-256';

// The signature algorithm a key of each kind signs certificates with (SHA-256 everywhere: SHA-1
// signatures are refused by Chromium and by OpenSSL's default security level).
const KEY_ALGORITHMS: Record<KeyKind, WebCrypto.RsaHashedKeyGenParams | WebCrypto.EcKeyGenParams> = {
  'RSA-2048': {
    name: 'RSASSA-PKCS1-v1_5',
    modulusLength: 2048,
    publicExponent: new Uint8Array([1, 0, 1]),
    hash: 'SHA-256',
  },
  'P-256': { name: 'ECDSA', namedCurve: 'P-256' },
};
const SIGNING_ALGORITHMS: Record<KeyKind, WebCrypto.Algorithm | WebCrypto.EcdsaParams> = {
  'RSA-2048': { name: 'RSASSA-PKCS1-v1_5' },
  'P-256': { name: 'ECDSA', hash: 'SHA-256' } as WebCrypto.EcdsaParams,
};

export async function generateKeyPair(kind: KeyKind): Promise<WebCrypto.CryptoKeyPair> {
  return (await webCrypto.subtle.generateKey(KEY_ALGORITHMS[kind], true, [
    'sign',
    'verify',
  ])) as WebCrypto.CryptoKeyPair;
}

export function signingAlgorithm(kind: KeyKind): WebCrypto.Algorithm | WebCrypto.EcdsaParams {
  return SIGNING_ALGORITHMS[kind];
}

/** PKCS#8 PEM ("BEGIN PRIVATE KEY"), which Node's TLS, jose and MSAL all read. */
export async function privateKeyToPem(key: CryptoKey): Promise<string> {
  const der = await webCrypto.subtle.exportKey('pkcs8', key);
  return x509.PemConverter.encode(der, 'PRIVATE KEY');
}

/** Imports a PKCS#8 PEM private key produced by `privateKeyToPem` back into WebCrypto for signing. */
export async function importPrivateKeyPem(pem: string, kind: KeyKind): Promise<CryptoKey> {
  const der = x509.PemConverter.decodeFirst(pem);
  const { name, ...rest } = KEY_ALGORITHMS[kind];
  const params = kind === 'RSA-2048' ? { name, hash: 'SHA-256' } : { name, namedCurve: 'P-256', ...rest };
  return webCrypto.subtle.importKey('pkcs8', der, params, true, ['sign']);
}

/**
 * A positive 128-bit serial (RFC 5280 §4.1.2.2: positive, at most 20 octets, unique per issuer); the
 * top bit is cleared so DER does not read it as negative.
 */
export function randomSerialNumber(): string {
  const bytes = randomBytes(16);
  bytes[0] = (bytes[0]! & 0x7f) | 0x01;
  return bytes.toString('hex');
}

export interface Thumbprints {
  /** base64url SHA-1 of the DER certificate: JOSE `x5t` (RFC 7515 §4.1.7), Entra's `kid`. */
  readonly x5t: string;
  /** base64url SHA-256 of the DER certificate: JOSE `x5t#S256` (RFC 7515 §4.1.8). */
  readonly x5tS256: string;
  /** Upper-case hex SHA-1, the form Entra shows and `customKeyIdentifier` carries (base64 there). */
  readonly sha1Hex: string;
  readonly sha256Hex: string;
}

export function thumbprints(der: Uint8Array): Thumbprints {
  const sha1 = createHash('sha1').update(der).digest();
  const sha256 = createHash('sha256').update(der).digest();
  return {
    x5t: sha1.toString('base64url'),
    x5tS256: sha256.toString('base64url'),
    sha1Hex: sha1.toString('hex').toUpperCase(),
    sha256Hex: sha256.toString('hex').toUpperCase(),
  };
}

/** The DER bytes of the first certificate in a PEM text. */
export function certificateDer(pem: string): Buffer {
  return Buffer.from(x509.PemConverter.decodeFirst(pem));
}

export function certificatePem(certificate: x509.X509Certificate): string {
  return certificate.toString('pem') + '\n';
}

export interface SelfSignedCertificate {
  /** PKCS#8 PEM. */
  readonly privateKeyPem: string;
  readonly certificatePem: string;
  readonly certificateDer: Buffer;
}

/**
 * A key pair and a self-signed end-entity certificate, the shape Entra uses for token-signing keys
 * (`x5c` in the JWKS) and for application certificate credentials (`keyCredentials`).
 */
export async function createSelfSignedCertificate(options: {
  readonly subject: string;
  readonly kind: KeyKind;
  readonly notBefore: Date;
  readonly notAfter: Date;
}): Promise<SelfSignedCertificate> {
  const keys = await generateKeyPair(options.kind);
  const certificate = await x509.X509CertificateGenerator.createSelfSigned(
    {
      serialNumber: randomSerialNumber(),
      name: options.subject,
      notBefore: options.notBefore,
      notAfter: options.notAfter,
      keys,
      signingAlgorithm: signingAlgorithm(options.kind),
      extensions: [
        new x509.BasicConstraintsExtension(false, undefined, true),
        new x509.KeyUsagesExtension(x509.KeyUsageFlags.digitalSignature, true),
        await x509.SubjectKeyIdentifierExtension.create(keys.publicKey, false, webCrypto),
      ],
    },
    webCrypto,
  );
  return {
    privateKeyPem: await privateKeyToPem(keys.privateKey),
    certificatePem: certificatePem(certificate),
    certificateDer: Buffer.from(certificate.rawData),
  };
}
