// Easy Auth: (1) validations per second of the full middleware decision against raw `jose` jwtVerify
// of the same token with the same key, in the same process; (2) the reverse proxy's added latency
// (p50/p99) against calling the upstream directly, at moderate concurrency. Bounded: a few seconds.
import { randomUUID } from 'node:crypto';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { importJWK, jwtVerify } from 'jose';
import type { JWK } from 'jose';
import { Pool } from 'undici';
import { createEasyAuth, startReverseProxy } from '../src/easyauth/index.ts';
import { startTestIssuer } from '../test/support/easyauth-test-issuer.ts';

const API = randomUUID();
const issuer = await startTestIssuer();
const user = { oid: randomUUID(), upn: 'alice@contoso.test', name: 'Alice Anders' };
const token = await issuer.accessToken({ aud: API, user, scp: 'Mail.Read', lifetimeSeconds: 3600 });

// --- 1. validation throughput -------------------------------------------------------------------
// tokenCacheSeconds: 0 — every request pays the full verification, as raw jose does.
const auth = createEasyAuth({ authority: issuer.authority, audiences: [API], tokenCacheSeconds: 0 });
const cachedAuth = createEasyAuth({ authority: issuer.authority, audiences: [API] });
const jwks = (await (await fetch(`${issuer.authority}/discovery/v2.0/keys`)).json()) as { keys: JWK[] };
const key = await importJWK({ ...jwks.keys[0]!, alg: 'RS256' }, 'RS256');
const request = {
  method: 'GET',
  url: '/v1.0/me/messages',
  headers: { authorization: `Bearer ${token}` },
  secure: true,
};
const requirement = { scopes: ['Mail.Read'] };
const issuerName = `${issuer.authority}/v2.0`;

async function middleware() {
  const decision = await auth.decide(request, requirement);
  if (decision.action !== 'continue') throw new Error('rejected');
}
async function cached() {
  const decision = await cachedAuth.decide(request, requirement);
  if (decision.action !== 'continue') throw new Error('rejected');
}
async function raw() {
  await jwtVerify(token, key, { issuer: issuerName, audience: API, algorithms: ['RS256'] });
}

// The machine is shared: the two are interleaved in small batches so that load swings hit both alike.
async function interleaved(fns: Record<'middleware' | 'raw', () => Promise<void>>, ms: number) {
  const spent = { middleware: 0, raw: 0 };
  const done = { middleware: 0, raw: 0 };
  const end = performance.now() + ms;
  while (performance.now() < end) {
    for (const name of ['raw', 'middleware'] as const) {
      const t = performance.now();
      for (let i = 0; i < 50; i++) await fns[name]();
      spent[name] += performance.now() - t;
      done[name] += 50;
    }
  }
  return { middleware: (done.middleware / spent.middleware) * 1000, raw: (done.raw / spent.raw) * 1000 };
}

await interleaved({ middleware, raw }, 500); // warm: discovery, JWKS, JIT
const r = await interleaved({ middleware, raw }, 4000);
await cached();
const c = await interleaved({ middleware: cached, raw }, 1500);
console.log(
  `validation with the verified-token cache (default): middleware ${c.middleware.toFixed(0)}/s, raw jose ${c.raw.toFixed(0)}/s, ratio ${((c.middleware / c.raw) * 100).toFixed(1)}%`,
);
console.log(
  `validation without cache: middleware ${r.middleware.toFixed(0)}/s, raw jose jwtVerify ${r.raw.toFixed(0)}/s, ratio ${((r.middleware / r.raw) * 100).toFixed(1)}% (target >= 90%)`,
);

// --- 2. reverse proxy added latency -------------------------------------------------------------
const body = JSON.stringify({ value: [{ id: 1, subject: 'hello' }] });
const upstream = createServer((_req, res) => {
  res.writeHead(200, { 'content-type': 'application/json' }).end(body);
});
await new Promise<void>((resolve) => upstream.listen(0, '127.0.0.1', resolve));
const upstreamUrl = `http://127.0.0.1:${(upstream.address() as AddressInfo).port}`;
const proxy = await startReverseProxy({
  authority: issuer.authority,
  audiences: [API],
  upstream: upstreamUrl,
  port: 0,
});
const uncachedProxy = await startReverseProxy({
  authority: issuer.authority,
  audiences: [API],
  upstream: upstreamUrl,
  port: 0,
  tokenCacheSeconds: 0,
});

const CONCURRENCY = 8;
const REQUESTS = 4000;
async function latencies(origin: string): Promise<number[]> {
  const client = new Pool(origin, { connections: CONCURRENCY });
  const out: number[] = [];
  let next = 0;
  const worker = async () => {
    while (next < REQUESTS) {
      next++;
      const t = performance.now();
      const response = await client.request({
        method: 'GET',
        path: '/v1.0/me/messages',
        headers: { authorization: `Bearer ${token}` },
      });
      await response.body.text();
      if (response.statusCode !== 200) throw new Error(`status ${response.statusCode}`);
      out.push(performance.now() - t);
    }
  };
  await Promise.all(Array.from({ length: CONCURRENCY }, worker));
  await client.close();
  return out.sort((a, b) => a - b);
}
const pct = (sorted: number[], p: number) =>
  sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]!;
await latencies(upstreamUrl); // warm
await latencies(proxy.url);
const direct = await latencies(upstreamUrl);
const proxied = await latencies(proxy.url);
const uncached = await latencies(uncachedProxy.url);
console.log(
  `reverse proxy without the token cache: p50 ${pct(uncached, 50).toFixed(3)} ms p99 ${pct(uncached, 99).toFixed(3)} ms; ` +
    `added p50 ${(pct(uncached, 50) - pct(direct, 50)).toFixed(3)} ms p99 ${(pct(uncached, 99) - pct(direct, 99)).toFixed(3)} ms`,
);
console.log(
  `reverse proxy (${CONCURRENCY} concurrent, ${REQUESTS} requests): direct p50 ${pct(direct, 50).toFixed(3)} ms p99 ${pct(direct, 99).toFixed(3)} ms; ` +
    `via proxy p50 ${pct(proxied, 50).toFixed(3)} ms p99 ${pct(proxied, 99).toFixed(3)} ms; ` +
    `added p50 ${(pct(proxied, 50) - pct(direct, 50)).toFixed(3)} ms p99 ${(pct(proxied, 99) - pct(direct, 99)).toFixed(3)} ms (target p99 <= 2 ms)`,
);

await proxy.close();
await uncachedProxy.close();
upstream.close();
await issuer.close();
