import assert from 'node:assert/strict';
import { X509Certificate } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { execFile } from 'node:child_process';
import { createServer } from 'node:https';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { after, before, describe, it } from 'node:test';
import { checkServerIdentity } from 'node:tls';
import { Agent, request } from 'undici';
import { manualClock, systemClock } from '../core/clock.ts';
import { ensureTlsMaterial, readTlsFiles } from './tls.ts';
import type { TlsBundle } from './tls.ts';

const DAY = 24 * 3600 * 1000;

describe('local CA and server certificate', () => {
  let dir: string;
  let bundle: TlsBundle;
  let url: string;
  const server = createServer((_request, response) => response.end('hello over TLS'));

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'behalf-tls-'));
    bundle = await ensureTlsMaterial({
      dir: join(dir, 'tls'),
      hostNames: ['behalf.test'],
      clock: systemClock,
    });
    server.setSecureContext({ key: bundle.key, cert: bundle.cert });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    url = `https://127.0.0.1:${(server.address() as AddressInfo).port}/`;
  });
  after(async () => {
    await new Promise((resolve) => server.close(resolve));
    rmSync(dir, { recursive: true, force: true });
  });

  it('serves HTTPS that a client trusting the CA accepts', async () => {
    const agent = new Agent({ connect: { ca: bundle.caCertificatePem } });
    const response = await request(url, { dispatcher: agent });
    assert.equal(response.statusCode, 200);
    assert.equal(await response.body.text(), 'hello over TLS');
    await agent.close();
  });

  it('is refused by a client that does not trust the CA', async () => {
    const agent = new Agent({ connect: { ca: [] } });
    await assert.rejects(request(url, { dispatcher: agent }), (error: NodeJS.ErrnoException) => {
      assert.match(String(error.code), /CERT|SIGNATURE|ISSUER/);
      return true;
    });
    await agent.close();
  });

  it("is trusted by Node's global fetch and https module through NODE_EXTRA_CA_CERTS, as MSAL users set it", async () => {
    const localhostUrl = url.replace('127.0.0.1', 'localhost');
    // Node reads NODE_EXTRA_CA_CERTS once at start, so the clients run in a child process.
    const script = `
      const https = require('node:https');
      const viaHttps = new Promise((resolve, reject) =>
        https.get(process.argv[1], (r) => { r.resume(); resolve(r.statusCode); }).on('error', reject));
      Promise.all([fetch(process.argv[1]).then((r) => r.status), viaHttps])
        .then((codes) => console.log(codes.join(',')), (e) => { console.log('refused', e.cause?.code ?? e.code); });`;
    const run = async (env: NodeJS.ProcessEnv) =>
      (await promisify(execFile)(process.execPath, ['-e', script, localhostUrl], { env })).stdout.trim();
    const { NODE_EXTRA_CA_CERTS: _ignored, ...clean } = process.env;
    assert.equal(await run({ ...clean, NODE_EXTRA_CA_CERTS: bundle.caCertificatePath }), '200,200');
    assert.match(await run(clean), /^refused /);
  });

  it('names localhost, the configured host, 127.0.0.1 and ::1, for server authentication only', () => {
    const leaf = new X509Certificate(bundle.cert);
    const ca = new X509Certificate(readFileSync(bundle.caCertificatePath!, 'utf8'));
    const san = leaf.subjectAltName?.split(', ') ?? [];
    assert.deepEqual(san.sort(), [
      'DNS:behalf.test',
      'DNS:localhost',
      'IP Address:0:0:0:0:0:0:0:1',
      'IP Address:127.0.0.1',
    ]);
    assert.deepEqual(leaf.keyUsage, ['1.3.6.1.5.5.7.3.1']);
    assert.equal(leaf.ca, false);
    assert.equal(ca.ca, true);
    assert.ok(leaf.checkIssued(ca) && leaf.verify(ca.publicKey));
    const peer = { subjectaltname: leaf.subjectAltName, subject: {} } as never;
    assert.equal(checkServerIdentity('localhost', peer), undefined);
    assert.equal(checkServerIdentity('behalf.test', peer), undefined);
    assert.ok(checkServerIdentity('evil.test', peer) instanceof Error);
    const lifetime = (pem: X509Certificate) => Date.parse(pem.validTo) - Date.parse(pem.validFrom);
    assert.ok(lifetime(ca) > 9 * 365 * DAY);
    assert.ok(lifetime(leaf) < 398 * DAY);
  });

  it('keeps private keys readable by the owner only', () => {
    if (process.platform === 'win32') return;
    const mode = (name: string) => statSync(join(dir, 'tls', name)).mode & 0o777;
    assert.equal(mode('ca.key'), 0o600);
    assert.equal(mode('server.key'), 0o600);
    assert.equal(mode('ca.pem'), 0o644);
  });

  it('reuses the CA and the server certificate on restart', async () => {
    const again = await ensureTlsMaterial({
      dir: join(dir, 'tls'),
      hostNames: ['behalf.test'],
      clock: systemClock,
    });
    assert.equal(again.caCertificatePem, bundle.caCertificatePem);
    assert.equal(again.cert, bundle.cert);
    assert.equal(again.key, bundle.key);
  });
});

describe('server certificate renewal', () => {
  it('re-issues the server certificate, under the same CA, for a new host name or near expiry', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'behalf-tls-'));
    try {
      const clock = manualClock(Date.now());
      const first = await ensureTlsMaterial({ dir, hostNames: ['a.test'], clock });
      const renamed = await ensureTlsMaterial({ dir, hostNames: ['b.test'], clock });
      assert.equal(renamed.caCertificatePem, first.caCertificatePem);
      assert.notEqual(renamed.cert, first.cert);
      assert.match(new X509Certificate(renamed.cert).subjectAltName ?? '', /DNS:b\.test/);

      clock.advance(300 * DAY);
      const stillValid = await ensureTlsMaterial({ dir, hostNames: ['b.test'], clock });
      assert.equal(stillValid.cert, renamed.cert);
      clock.advance(40 * DAY);
      const renewed = await ensureTlsMaterial({ dir, hostNames: ['b.test'], clock });
      assert.notEqual(renewed.cert, renamed.cert);
      assert.equal(renewed.caCertificatePem, first.caCertificatePem);
      assert.ok(Date.parse(new X509Certificate(renewed.cert).validTo) > clock.now() + 300 * DAY);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('concurrent starts on one data directory', () => {
  it('agree on a single CA', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'behalf-tls-'));
    try {
      const bundles = await Promise.all(
        [1, 2, 3].map(() => ensureTlsMaterial({ dir, hostNames: [], clock: systemClock })),
      );
      const ca = readFileSync(join(dir, 'ca.pem'), 'utf8');
      const authority = new X509Certificate(ca);
      for (const bundle of bundles) {
        assert.equal(bundle.caCertificatePem, ca);
        assert.ok(new X509Certificate(bundle.cert).verify(authority.publicKey));
      }
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('operator certificates', () => {
  it('loads a matching pair and refuses a key that belongs to another certificate', async () => {
    const one = mkdtempSync(join(tmpdir(), 'behalf-tls-'));
    const two = mkdtempSync(join(tmpdir(), 'behalf-tls-'));
    try {
      await ensureTlsMaterial({ dir: one, hostNames: [], clock: systemClock });
      await ensureTlsMaterial({ dir: two, hostNames: [], clock: systemClock });
      const loaded = readTlsFiles({
        certificateFile: join(one, 'server.pem'),
        keyFile: join(one, 'server.key'),
      });
      assert.equal(loaded.caCertificatePath, undefined);
      assert.match(loaded.cert, /BEGIN CERTIFICATE/);
      assert.throws(
        () => readTlsFiles({ certificateFile: join(one, 'server.pem'), keyFile: join(two, 'server.key') }),
        /does not match/,
      );
      assert.throws(
        () => readTlsFiles({ certificateFile: join(one, 'server.pem'), keyFile: undefined }),
        /--tls-cert and --tls-key .* must be set together/,
      );
    } finally {
      rmSync(one, { recursive: true, force: true });
      rmSync(two, { recursive: true, force: true });
    }
  });
});
