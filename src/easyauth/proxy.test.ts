import assert from 'node:assert/strict';
import { createHash, randomUUID } from 'node:crypto';
import { once } from 'node:events';
import { createServer, request } from 'node:http';
import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, describe, it } from 'node:test';
import { startReverseProxy } from './proxy.ts';
import type { ReverseProxy } from './proxy.ts';

// The relay from the upstream to the client: large bodies under backpressure, a client that leaves,
// an upstream that dies mid-body. Anonymous callers are allowed so no identity provider is needed.

async function upstream(handler: (req: IncomingMessage, res: ServerResponse) => void): Promise<Server> {
  const server = createServer(handler);
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  return server;
}
const urlOf = (server: Server) => `http://127.0.0.1:${(server.address() as AddressInfo).port}`;

describe('reverse proxy relay', () => {
  const closers: (() => Promise<void>)[] = [];
  after(async () => {
    for (const close of closers.reverse()) await close();
  });
  async function proxyTo(server: Server): Promise<ReverseProxy> {
    closers.push(async () => {
      server.closeAllConnections();
      await new Promise((resolve) => server.close(resolve));
    });
    const proxy = await startReverseProxy({
      authority: `https://idp.invalid/${randomUUID()}`,
      audiences: [randomUUID()],
      unauthenticatedAction: 'allow',
      upstream: urlOf(server),
      port: 0,
    });
    closers.push(() => proxy.close());
    return proxy;
  }

  it('relays a large body intact through a slow reader (backpressure) with the upstream status and headers', async () => {
    const chunk = Buffer.alloc(64 * 1024, 'x');
    const chunks = 256; // 16 MiB: far more than the sockets buffer
    const expected = createHash('sha256');
    for (let i = 0; i < chunks; i++) expected.update(chunk);
    const server = await upstream((_req, res) => {
      res.writeHead(207, { 'x-upstream': 'yes', connection: 'keep-alive' });
      let sent = 0;
      const pump = () => {
        while (sent < chunks) {
          sent++;
          if (!res.write(chunk)) return void res.once('drain', pump);
        }
        res.end();
      };
      pump();
    });
    const proxy = await proxyTo(server);
    const response = await new Promise<IncomingMessage>((resolve, reject) =>
      request(`${proxy.url}/big`, resolve).on('error', reject).end(),
    );
    assert.equal(response.statusCode, 207);
    assert.equal(response.headers['x-upstream'], 'yes');
    const hash = createHash('sha256');
    let received = 0;
    for await (const part of response as AsyncIterable<Buffer>) {
      hash.update(part);
      received += part.length;
      // Read slowly at first, so the proxy's socket to the client fills and the upstream must pause.
      if (received < 4 * 1024 * 1024) await new Promise((resolve) => setImmediate(resolve));
    }
    assert.equal(received, chunk.length * chunks);
    assert.equal(hash.digest('hex'), expected.digest('hex'));
  });

  it('stops the upstream response when the client goes away', async () => {
    let upstreamClosed: () => void = () => undefined;
    const closed = new Promise<void>((resolve) => (upstreamClosed = resolve));
    const server = await upstream((_req, res) => {
      res.writeHead(200, { 'content-type': 'text/plain' });
      const timer = setInterval(() => res.write('tick\n'), 5);
      res.on('close', () => {
        clearInterval(timer);
        upstreamClosed();
      });
    });
    const proxy = await proxyTo(server);
    const response = await new Promise<IncomingMessage>((resolve, reject) =>
      request(`${proxy.url}/endless`, resolve).on('error', reject).end(),
    );
    await once(response, 'data');
    response.destroy();
    await closed; // the test would time out if the upstream kept streaming
  });

  it('breaks the client response when the upstream dies mid-body, and answers 502 when it dies before', async () => {
    const server = await upstream((req, res) => {
      if (req.url === '/before') return void req.socket.destroy();
      res.writeHead(200, { 'content-length': '1000' });
      res.write('partial');
      setTimeout(() => req.socket.destroy(), 20);
    });
    const proxy = await proxyTo(server);
    const response = await fetch(`${proxy.url}/midway`);
    assert.equal(response.status, 200);
    await assert.rejects(response.text(), 'a truncated body is an error, not a clean end');
    const before = await fetch(`${proxy.url}/before`);
    assert.equal(before.status, 502);
    assert.equal(((await before.json()) as { error: string }).error, 'bad_gateway');
  });
});
