import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { it } from 'node:test';
import { captureLogger, redact } from './logger.ts';

it('redacts JWTs, long opaque tokens and secret-named fields wherever they appear', () => {
  const jwt = 'eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJhbGljZSJ9.c2lnbmF0dXJlLXBhcnQ';
  const refresh = randomBytes(48).toString('base64url');
  const entraSecret = 'Abc8Q~' + 'x'.repeat(34);
  const base64Key = 'q83vEjRWeJq83vEjRWeJ+/q83vEjRWeJq83vEjRWeJ0=';
  const log = captureLogger();
  log.info(`calling with ${jwt} and ${refresh}`, {
    note: `secret ${entraSecret} key ${base64Key}`,
    client_secret: 'short',
    nested: { refreshToken: 'r' },
  });
  const line = log.lines.join('\n');
  for (const secret of [jwt, refresh, entraSecret, base64Key, 'short'])
    assert.ok(!line.includes(secret), `leaked ${secret}`);
  assert.ok(line.includes('[redacted-jwt]'));
});

it('keeps file paths readable, even long ones', () => {
  const path = '/tmp/behalf-e2e-4f9a/some/deeply/nested/data-directory/tls/ca.pem';
  assert.equal(redact(`trust: NODE_EXTRA_CA_CERTS=${path}`), `trust: NODE_EXTRA_CA_CERTS=${path}`);
  assert.equal(
    redact('/home/someuser/projects/behalf/data/tls/ca'),
    '/home/someuser/projects/behalf/data/tls/ca',
  );
});
