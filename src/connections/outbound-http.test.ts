import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { it } from 'node:test';
import {
  backoffDelay,
  createOutboundHttp,
  DEFAULT_RETRY,
  parseRetryAfter,
  UpstreamError,
} from './outbound-http.ts';
import type { OutboundHttp, UpstreamFailure } from './outbound-http.ts';

async function serve(handler: (req: IncomingMessage, res: ServerResponse) => void) {
  const server = createServer(handler);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return {
    url,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

/** A GET of `url` through `http` fails with an UpstreamError of this kind. */
function failsWith(http: OutboundHttp, url: string, failure: UpstreamFailure) {
  return assert.rejects(
    http.request({ method: 'GET', url }),
    (e: unknown) => e instanceof UpstreamError && e.failure === failure,
  );
}

it('retries 429 honouring Retry-After, then succeeds', async () => {
  let calls = 0;
  const upstream = await serve((_req, res) => {
    calls++;
    if (calls === 1) res.writeHead(429, { 'retry-after': '2' }).end();
    else res.writeHead(200, { 'content-type': 'text/plain' }).end('ok');
  });
  const slept: number[] = [];
  const http = createOutboundHttp({ sleep: async (ms) => void slept.push(ms) });
  const response = await http.request({ method: 'GET', url: upstream.url + '/x' });
  assert.equal(response.status, 200);
  assert.equal(response.attempts, 2);
  assert.deepEqual(slept, [2000]);
  await http.close();
  await upstream.close();
});

it('gives up after the bounded number of 503s and returns the last answer; a long Retry-After is not waited for', async () => {
  let calls = 0;
  const upstream = await serve((req, res) => {
    calls++;
    if (req.url === '/long') res.writeHead(503, { 'retry-after': '3600' }).end();
    else res.writeHead(503).end('busy');
  });
  const slept: number[] = [];
  const http = createOutboundHttp({
    sleep: async (ms) => void slept.push(ms),
    random: () => 0.5,
    retry: { maxAttempts: 3, baseDelayMs: 100 },
  });
  const response = await http.request({ method: 'POST', url: upstream.url + '/', body: '{}' });
  assert.equal(response.status, 503);
  assert.equal(calls, 3);
  assert.deepEqual(slept, [50, 100], 'full jitter over 100 ms then 200 ms');
  const long = await http.request({ method: 'GET', url: upstream.url + '/long' });
  assert.equal(long.attempts, 1);
  await http.close();
  await upstream.close();
});

it('refuses an oversized response, names an unreachable host, and times out', async () => {
  const upstream = await serve((req, res) => {
    if (req.url === '/big') res.writeHead(200).end(Buffer.alloc(2048));
    else if (req.url === '/chunked') {
      res.writeHead(200);
      res.write(Buffer.alloc(1500));
      res.end(Buffer.alloc(1500));
    }
    // /slow: never answers
  });
  const http = createOutboundHttp({ maxResponseBytes: 1024, timeoutMs: 200 });
  await failsWith(http, upstream.url + '/big', 'too-large');
  await failsWith(http, upstream.url + '/chunked', 'too-large');
  await assert.rejects(
    http.request({ method: 'GET', url: upstream.url + '/slow' }),
    (e: unknown) => e instanceof UpstreamError && e.failure === 'timeout' && e.host.startsWith('127.0.0.1:'),
  );
  await upstream.close();
  await assert.rejects(
    http.request({ method: 'GET', url: 'http://127.0.0.1:1/' }),
    (e: unknown) =>
      e instanceof UpstreamError && e.failure === 'unreachable' && /127\.0\.0\.1:1/.test(e.message),
  );
  await http.close();
});

it('reads a body of declared length whole; one that stalls times out, one cut short is unreachable', async () => {
  const upstream = await serve((req, res) => {
    res.writeHead(200, { 'content-length': '1000' });
    if (req.url === '/whole') res.end(Buffer.alloc(1000, 7));
    else if (req.url === '/stall') res.write(Buffer.alloc(500));
    else res.write(Buffer.alloc(500), () => res.socket?.destroy());
  });
  const http = createOutboundHttp({ maxResponseBytes: 1024, timeoutMs: 300 });
  const whole = await http.request({ method: 'GET', url: upstream.url + '/whole' });
  assert.deepEqual(whole.body, Buffer.alloc(1000, 7));
  await failsWith(http, upstream.url + '/stall', 'timeout');
  await failsWith(http, upstream.url + '/short', 'unreachable');
  await http.close();
  await upstream.close();
});

it('parses Retry-After as seconds or an HTTP-date, and backs off exponentially within the cap', () => {
  const now = Date.UTC(2026, 0, 1);
  assert.equal(parseRetryAfter('7', now), 7000);
  assert.equal(parseRetryAfter(new Date(now + 3000).toUTCString(), now), 3000);
  assert.equal(parseRetryAfter('soon', now), undefined);
  assert.equal(
    backoffDelay(1, DEFAULT_RETRY, () => 0.999),
    99,
  );
  assert.equal(
    backoffDelay(10, DEFAULT_RETRY, () => 0.999),
    1998,
  );
});
