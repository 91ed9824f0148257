import assert from 'node:assert/strict';
import { createPrivateKey, X509Certificate } from 'node:crypto';
import { it } from 'node:test';
import { createTestCertificate } from './test-certificates.ts';

const base64url = (hex: string) => Buffer.from(hex.replace(/:/g, ''), 'hex').toString('base64url');

it('creates a self-signed certificate with its key and every thumbprint form', async () => {
  const notBefore = new Date(Date.UTC(2026, 0, 1));
  const notAfter = new Date(Date.UTC(2027, 0, 1));
  const created = await createTestCertificate({ subject: 'CN=contoso-connector', notBefore, notAfter });
  const certificate = new X509Certificate(created.certificatePem);
  assert.equal(certificate.subject, 'CN=contoso-connector');
  assert.equal(certificate.issuer, certificate.subject);
  assert.equal(Date.parse(certificate.validFrom), notBefore.getTime());
  assert.equal(Date.parse(certificate.validTo), notAfter.getTime());
  assert.ok(certificate.checkPrivateKey(createPrivateKey(created.privateKeyPem)));
  assert.deepEqual(Buffer.from(created.certificateBase64, 'base64'), certificate.raw);
  assert.equal(created.x5t, base64url(certificate.fingerprint));
  assert.equal(created.x5tS256, base64url(certificate.fingerprint256));
  assert.equal(created.thumbprintSha1, certificate.fingerprint.replace(/:/g, ''));
  assert.equal(created.thumbprintSha256, certificate.fingerprint256.replace(/:/g, ''));
  assert.equal(created.privateKey.asymmetricKeyDetails?.modulusLength, 2048);
  assert.match(created.publicKeyPem, /BEGIN PUBLIC KEY/);
  assert.match(created.privateKeyPem, /BEGIN PRIVATE KEY/);
});

it('makes a different key each time', async () => {
  const [a, b] = await Promise.all([createTestCertificate(), createTestCertificate()]);
  assert.notEqual(a.x5t, b.x5t);
});
