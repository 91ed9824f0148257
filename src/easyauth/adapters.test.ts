import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, it } from 'node:test';
import Fastify from 'fastify';
import { startTestIssuer } from '../../test/support/easyauth-test-issuer.ts';
import type { TestIssuer } from '../../test/support/easyauth-test-issuer.ts';
import {
  authenticate,
  expressMiddleware,
  fastifyPreHandler,
  principalOf,
  protectFetchHandler,
} from './adapters.ts';
import { createEasyAuth } from './easy-auth.ts';
import type { EasyAuth } from './easy-auth.ts';

/** Each adapter with a real server of its kind: a token passes, a spoofed header is dropped, no token is challenged. */
const API = randomUUID();
const alice = { oid: randomUUID(), upn: 'alice@contoso.test', name: 'Alice Anders' };

describe('Easy Auth adapters', () => {
  let issuer: TestIssuer;
  let auth: EasyAuth;
  let token: string;
  before(async () => {
    issuer = await startTestIssuer();
    auth = createEasyAuth({ authority: issuer.authority, audiences: [API] });
    token = await issuer.accessToken({ aud: API, user: alice, scp: 'Notes.Read' });
  });
  after(() => issuer.close());

  async function exercise(url: string) {
    const ok = await fetch(url, {
      headers: { authorization: `Bearer ${token}`, 'x-ms-client-principal-name': 'mallory' },
    });
    assert.equal(ok.status, 200);
    assert.deepEqual(await ok.json(), { oid: alice.oid, header: alice.upn });
    const anonymous = await fetch(url);
    assert.equal(anonymous.status, 401);
    assert.match(anonymous.headers.get('www-authenticate') ?? '', /^Bearer /);
    const wrongScope = await fetch(url, {
      headers: {
        authorization: `Bearer ${await issuer.accessToken({ aud: API, user: alice, scp: 'Other' })}`,
      },
    });
    assert.equal(wrongScope.status, 403);
  }

  async function listen(server: ReturnType<typeof createServer>) {
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    return `http://127.0.0.1:${(server.address() as AddressInfo).port}/notes`;
  }

  it('node:http', async () => {
    const server = createServer((req, res) => {
      void authenticate(auth, req, res, { scopes: ['Notes.Read'] }).then((who) => {
        if (who === false) return;
        res.end(JSON.stringify({ oid: who?.oid, header: req.headers['x-ms-client-principal-name'] }));
      });
    });
    try {
      await exercise(await listen(server));
    } finally {
      server.close();
    }
  });

  it('Express-style (req, res, next)', async () => {
    const middleware = expressMiddleware(auth, { scopes: ['Notes.Read'] });
    const server = createServer((req, res) =>
      middleware(req, res, () =>
        res.end(
          JSON.stringify({ oid: principalOf(req)?.oid, header: req.headers['x-ms-client-principal-name'] }),
        ),
      ),
    );
    try {
      await exercise(await listen(server));
    } finally {
      server.close();
    }
  });

  it('Fastify preHandler', async () => {
    const app = Fastify();
    app.get(
      '/notes',
      { preHandler: fastifyPreHandler(auth, { scopes: ['Notes.Read'] }) },
      async (request) => ({
        oid: principalOf(request)?.oid,
        header: request.headers['x-ms-client-principal-name'],
      }),
    );
    await app.listen({ port: 0, host: '127.0.0.1' });
    try {
      await exercise(`http://127.0.0.1:${(app.server.address() as AddressInfo).port}/notes`);
    } finally {
      await app.close();
    }
  });

  it('web-standard Request handler', async () => {
    const handler = protectFetchHandler(
      auth,
      (request, principal) =>
        Response.json({ oid: principal?.oid, header: request.headers.get('x-ms-client-principal-name') }),
      { scopes: ['Notes.Read'] },
    );
    const ok = await handler(
      new Request('http://api.test/notes', {
        headers: { authorization: `Bearer ${token}`, 'x-ms-client-principal-name': 'mallory' },
      }),
    );
    assert.deepEqual(await ok.json(), { oid: alice.oid, header: alice.upn });
    const anonymous = await handler(new Request('http://api.test/notes'));
    assert.equal(anonymous.status, 401);
    assert.match(anonymous.headers.get('www-authenticate') ?? '', /^Bearer /);
  });
});
