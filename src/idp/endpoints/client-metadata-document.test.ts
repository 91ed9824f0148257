import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import type { ServerResponse } from 'node:http';
import { createServer } from 'node:https';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { manualClock, systemClock } from '../../core/clock.ts';
import { ensureTlsMaterial } from '../../crypto/tls.ts';
import {
  checkClientIdUrl,
  checkRedirectUriOf,
  ClientMetadataError,
  displayNameFor,
  looksLikeClientIdUrl,
  parseClientMetadataDocument,
} from './client-metadata-document.ts';
import { cacheLifetimeMs, createClientMetadataDocuments } from './client-metadata-document-fetch.ts';

const ID = 'https://client.example/oauth/client.json';
const doc = (overrides: Record<string, unknown> = {}) => ({
  client_id: ID,
  client_name: 'Example host',
  redirect_uris: ['http://localhost:3000/callback'],
  token_endpoint_auth_method: 'none',
  ...overrides,
});

function refused(code: string, pattern: RegExp) {
  return (error: unknown) =>
    error instanceof ClientMetadataError && error.code === code && pattern.test(error.message);
}

describe('client_id URLs (draft §3)', () => {
  test('https URLs are client ID metadata document URLs; appIds are not', () => {
    assert.equal(looksLikeClientIdUrl(ID), true);
    assert.equal(looksLikeClientIdUrl('http://client.example/x'), true);
    assert.equal(looksLikeClientIdUrl('7a3c0e8e-2f4a-4c8e-9d1b-0c8f1d2e3a4b'), false);
    assert.equal(looksLikeClientIdUrl(undefined), false);
  });

  test('each rule is enforced with its own message', () => {
    assert.equal(checkClientIdUrl(ID).host, 'client.example');
    for (const [value, pattern] of [
      ['http://client.example/client.json', /not an https URL/],
      ['https://client.example', /must contain a path/],
      ['https://client.example/', /must contain a path/],
      ['https://client.example/a/../client.json', /'\.' or '\.\.' path segments/],
      ['https://client.example/./client.json', /'\.' or '\.\.' path segments/],
      ['https://client.example/a/%2E%2e/client.json', /'\.' or '\.\.' path segments/],
      ['https://client.example/client.json#x', /fragment/],
      ['https://user:pw@client.example/client.json', /user name or password/],
      ['https://client.example/' + 'a'.repeat(2000), /longer than 2000/],
    ] as const)
      assert.throws(() => checkClientIdUrl(value), refused('invalid_client', pattern), value);
  });
});

describe('the document (draft §4.1)', () => {
  test('a valid public client: name shown with the host, redirect URIs kept', () => {
    const metadata = parseClientMetadataDocument(ID, doc());
    assert.deepEqual(metadata, {
      clientId: ID,
      clientName: 'Example host',
      displayName: 'Example host (client.example)',
      redirectUris: ['http://localhost:3000/callback'],
    });
    // No client_name: the host alone; token_endpoint_auth_method may be omitted (public by default here).
    const bare = parseClientMetadataDocument(
      ID,
      doc({ client_name: undefined, token_endpoint_auth_method: undefined }),
    );
    assert.equal(bare.clientName, undefined);
    assert.equal(bare.displayName, 'client.example');
  });

  test('refusals say which rule failed', () => {
    for (const [document, pattern] of [
      [[], /is not a JSON object/],
      [doc({ client_id: 'https://other.example/client.json' }), /names another client_id/],
      [doc({ client_id: `${ID}/` }), /names another client_id/],
      [doc({ client_id: undefined }), /has no client_id/],
      [doc({ client_secret: 's3cret' }), /must not contain client_secret/],
      [doc({ token_endpoint_auth_method: 'client_secret_post' }), /a shared secret/],
      [doc({ token_endpoint_auth_method: 'private_key_jwt' }), /does not support.*use 'none'/],
      [doc({ redirect_uris: undefined }), /redirect_uris is required/],
      [doc({ redirect_uris: ['javascript:alert(1)'] }), /scheme 'javascript:' is not allowed/],
      [doc({ redirect_uris: ['http://evil.example/cb'] }), /only on localhost/],
      [doc({ grant_types: ['client_credentials'] }), /grant_type 'client_credentials' is not supported/],
      [doc({ client_name: '' }), /client_name must be/],
    ] as const)
      assert.throws(
        () => parseClientMetadataDocument(ID, document),
        refused('invalid_client', pattern),
        JSON.stringify(document),
      );
  });

  test('the redirect URI must be exactly one the document lists', () => {
    const metadata = parseClientMetadataDocument(ID, doc());
    assert.equal(
      checkRedirectUriOf(metadata, 'http://localhost:3000/callback'),
      'http://localhost:3000/callback',
    );
    assert.throws(
      () => checkRedirectUriOf(metadata, 'http://localhost:3000/callback/'),
      refused('invalid_request', /is not one of the redirect_uris/),
    );
    assert.throws(() => checkRedirectUriOf(metadata, undefined), refused('invalid_request', /is required/));
  });

  test('a long client_name is shortened so the host always shows, within 256 characters', () => {
    const name = displayNameFor('n'.repeat(200), 'a'.repeat(100) + '.example');
    assert.ok(name.length <= 256);
    assert.ok(name.endsWith(` (${'a'.repeat(100)}.example)`));
  });
});

test('Cache-Control: max-age honoured within bounds; no-store and no-cache get the minimum', () => {
  const bounds = { minMs: 60_000, maxMs: 86_400_000, defaultMs: 300_000 };
  assert.equal(cacheLifetimeMs(null, bounds), 300_000);
  assert.equal(cacheLifetimeMs('public, max-age=600', bounds), 600_000);
  assert.equal(cacheLifetimeMs('max-age=5', bounds), 60_000);
  assert.equal(cacheLifetimeMs('max-age=99999999', bounds), 86_400_000);
  assert.equal(cacheLifetimeMs('no-store', bounds), 60_000);
  assert.equal(cacheLifetimeMs('no-cache, max-age=600', bounds), 60_000);
});

describe('fetching documents', () => {
  let dataDir: string;
  let origin: string;
  let ca: string;
  let close: () => Promise<void>;
  const hits: string[] = [];
  const routes = new Map<string, (res: ServerResponse) => void>();

  before(async () => {
    dataDir = mkdtempSync(join(tmpdir(), 'behalf-cimd-unit-'));
    const tls = await ensureTlsMaterial({ dir: dataDir, hostNames: ['localhost'], clock: systemClock });
    ca = tls.caCertificatePem!;
    const server = createServer({ key: tls.key, cert: tls.cert }, (req, res) => {
      hits.push(req.url ?? '');
      const route = routes.get(req.url ?? '');
      if (route) route(res);
      else res.writeHead(404).end();
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    origin = `https://127.0.0.1:${(server.address() as AddressInfo).port}`;
    close = () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      });
  });
  after(async () => {
    await close();
    rmSync(dataDir, { recursive: true, force: true });
  });

  const json = (body: unknown, cacheControl?: string) => (res: ServerResponse) =>
    res
      .writeHead(200, {
        'content-type': 'application/json',
        ...(cacheControl ? { 'cache-control': cacheControl } : {}),
      })
      .end(JSON.stringify(body));

  test('cached for max-age, fetched again after it (a changed document is seen), concurrent gets share one fetch', async () => {
    const clock = manualClock();
    const documents = createClientMetadataDocuments({
      clock,
      allowedPrivateOrigins: [origin],
      extraCaPem: [ca],
    });
    const id = `${origin}/cached.json`;
    routes.set('/cached.json', json(doc({ client_id: id }), 'max-age=120'));
    let fetches = 0;
    const beforeFetch = () => void fetches++;
    const [a, b] = await Promise.all([
      documents.get(id, { beforeFetch }),
      documents.get(id, { beforeFetch }),
    ]);
    assert.deepEqual(a, b);
    assert.equal(a.displayName, `Example host (${new URL(origin).host})`);
    clock.advance(119_000);
    await documents.get(id, { beforeFetch });
    assert.equal(hits.filter((h) => h === '/cached.json').length, 1);
    assert.equal(fetches, 1);

    routes.set('/cached.json', json(doc({ client_id: id, client_name: 'Renamed' })));
    clock.advance(2_000);
    assert.equal((await documents.get(id, { beforeFetch })).clientName, 'Renamed');
    assert.equal(hits.filter((h) => h === '/cached.json').length, 2);
    assert.equal(fetches, 2);
  });

  test('a loopback origin that is not allowlisted is refused before any request', async () => {
    const documents = createClientMetadataDocuments({
      clock: systemClock,
      allowedPrivateOrigins: [],
      extraCaPem: [ca],
    });
    routes.set('/open.json', json(doc({ client_id: `${origin}/open.json` })));
    const before = hits.length;
    await assert.rejects(
      documents.get(`${origin}/open.json`),
      refused('invalid_client', /loopback, private or special-use address .* not allowlisted/),
    );
    const port = new URL(origin).port;
    await assert.rejects(
      documents.get(`https://localhost:${port}/open.json`),
      refused('invalid_client', /localhost resolves to a loopback, private or special-use address/),
    );
    assert.equal(hits.length, before);
  });

  test('a body over the limit is refused while streaming, even without a content-length', async () => {
    const documents = createClientMetadataDocuments({
      clock: systemClock,
      allowedPrivateOrigins: [origin],
      extraCaPem: [ca],
    });
    routes.set('/chunked.json', (res) => {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.write('{"client_id":"x","padding":"');
      for (let i = 0; i < 8; i++) res.write('y'.repeat(1024));
      res.end('"}');
    });
    await assert.rejects(
      documents.get(`${origin}/chunked.json`),
      refused('invalid_client', /larger than 5120 bytes/),
    );
  });

  test('a server that does not answer in time is refused; failures are not cached', async () => {
    const documents = createClientMetadataDocuments({
      clock: systemClock,
      allowedPrivateOrigins: [origin],
      extraCaPem: [ca],
      // Generous for a loaded machine: the second, prompt answer must fit in it, handshake included.
      timeoutMs: 2000,
    });
    const id = `${origin}/slow.json`;
    // Never answers (the connection is closed with the server).
    routes.set('/slow.json', () => undefined);
    await assert.rejects(documents.get(id), refused('invalid_client', /did not answer within 2000 ms/));
    routes.set('/slow.json', json(doc({ client_id: id })));
    assert.equal((await documents.get(id)).clientId, id);
  });

  test('invalid UTF-8 and invalid JSON are refused', async () => {
    const documents = createClientMetadataDocuments({
      clock: systemClock,
      allowedPrivateOrigins: [origin],
      extraCaPem: [ca],
    });
    routes.set('/latin1.json', (res) =>
      res.writeHead(200, { 'content-type': 'application/json' }).end(Buffer.from([0x7b, 0xff, 0x7d])),
    );
    await assert.rejects(
      documents.get(`${origin}/latin1.json`),
      refused('invalid_client', /not valid UTF-8/),
    );
    routes.set('/broken.json', (res) => res.writeHead(200, { 'content-type': 'application/json' }).end('{'));
    await assert.rejects(documents.get(`${origin}/broken.json`), refused('invalid_client', /not valid JSON/));
  });
});
