// Easy Auth: (1) validations per second of the full middleware decision against raw `jose` jwtVerify
// of the same token with the same key, in this process, interleaved in small batches, as wall-clock
// rates and as rates per CPU-second (the machine is shared: the CPU figure is the steadier one);
// (2) the reverse proxy's added latency (p50/p99) against calling the upstream directly, at a moderate
// open-loop rate, with the proxy in its own process pinned to one core and the upstream in another
// process (next to the load generator on the other core). Bounded: about 40 seconds.
import { randomUUID } from 'node:crypto';
import { importJWK, jwtVerify } from 'jose';
import type { JWK } from 'jose';
import { Pool } from 'undici';
import { createEasyAuth } from '../src/easyauth/index.ts';
import { startTestIssuer } from '../test/support/easyauth-test-issuer.ts';
import { median, pinSelf, startChild } from './support/child.ts';

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

interface Rates {
  readonly perSecond: number;
  readonly perCpuSecond: number;
}

// The machine is shared: the two are interleaved in small batches so that load swings hit both alike.
async function interleaved(
  fns: Record<'middleware' | 'raw', () => Promise<void>>,
  ms: number,
): Promise<Record<'middleware' | 'raw', Rates>> {
  const spent = { middleware: 0, raw: 0 };
  const cpu = { middleware: 0, raw: 0 };
  const done = { middleware: 0, raw: 0 };
  const end = performance.now() + ms;
  while (performance.now() < end) {
    for (const name of ['raw', 'middleware'] as const) {
      const t = performance.now();
      const c = process.cpuUsage();
      for (let i = 0; i < 50; i++) await fns[name]();
      const used = process.cpuUsage(c);
      spent[name] += performance.now() - t;
      cpu[name] += (used.user + used.system) / 1000;
      done[name] += 50;
    }
  }
  const rates = (name: 'middleware' | 'raw') => ({
    perSecond: (done[name] / spent[name]) * 1000,
    perCpuSecond: (done[name] / cpu[name]) * 1000,
  });
  return { middleware: rates('middleware'), raw: rates('raw') };
}

const pct = (a: number, b: number) => `${((a / b) * 100).toFixed(1)}%`;
await interleaved({ middleware, raw }, 500); // warm: discovery, JWKS, JIT
const rounds: Record<'middleware' | 'raw', Rates>[] = [];
for (let i = 0; i < 3; i++) rounds.push(await interleaved({ middleware, raw }, 2000));
const med = (pick: (r: Record<'middleware' | 'raw', Rates>) => number) => median(rounds.map(pick));
const r = {
  middleware: med((x) => x.middleware.perSecond),
  raw: med((x) => x.raw.perSecond),
  middlewareCpu: med((x) => x.middleware.perCpuSecond),
  rawCpu: med((x) => x.raw.perCpuSecond),
};
await cached();
const c = await interleaved({ middleware: cached, raw }, 1500);
console.log(
  `validation with the verified-token cache (default): middleware ${c.middleware.perSecond.toFixed(0)}/s, raw jose ${c.raw.perSecond.toFixed(0)}/s, ratio ${pct(c.middleware.perSecond, c.raw.perSecond)}`,
);
console.log(
  `validation without cache (median of 3 interleaved rounds): middleware ${r.middleware.toFixed(0)}/s, raw jose jwtVerify ${r.raw.toFixed(0)}/s, ratio ${pct(r.middleware, r.raw)}; ` +
    `per CPU-second ${r.middlewareCpu.toFixed(0)} vs ${r.rawCpu.toFixed(0)}, ratio ${pct(r.middlewareCpu, r.rawCpu)} (target >= 90%)`,
);

// --- 2. reverse proxy added latency -------------------------------------------------------------
const RATE = 300; // requests per second, open loop: moderate load for a single-core proxy
const PHASE_MS = 3000;
const pinned = pinSelf(1);
const servers = new URL('./support/easyauth-servers.ts', import.meta.url).pathname;
const upstream = await startChild(servers, { args: ['upstream'], core: 1 });
const proxyProcess = await startChild(servers, { args: ['proxy'], core: 0 });
const upstreamUrl = String(upstream.ready['url']);
const startProxy = async (tokenCacheSeconds: number) =>
  String(
    (
      await proxyProcess.call<{ url: string }>('proxy', {
        authority: issuer.authority,
        audience: API,
        upstream: upstreamUrl,
        tokenCacheSeconds,
      })
    ).url,
  );
const targets = {
  direct: upstreamUrl,
  proxied: await startProxy(60),
  uncached: await startProxy(0),
};

/** Sends RATE requests per second for PHASE_MS on a schedule (not waiting for answers); latencies in ms. */
async function openLoop(origin: string): Promise<{ latencies: number[]; proxyCpuMs: number }> {
  const client = new Pool(origin, { connections: 32 });
  const latencies: number[] = [];
  const total = Math.round((RATE * PHASE_MS) / 1000);
  await proxyProcess.call('start');
  const started = performance.now();
  const inFlight: Promise<void>[] = [];
  for (let i = 0; i < total; i++) {
    const due = started + (i * 1000) / RATE;
    const wait = due - performance.now();
    if (wait > 1) await new Promise((resolve) => setTimeout(resolve, wait));
    const t = performance.now();
    inFlight.push(
      client
        .request({ method: 'GET', path: '/v1.0/me/messages', headers: { authorization: `Bearer ${token}` } })
        .then(async (response) => {
          await response.body.text();
          if (response.statusCode !== 200) throw new Error(`status ${response.statusCode}`);
          latencies.push(performance.now() - t);
        }),
    );
  }
  await Promise.all(inFlight);
  const { cpuMs } = await proxyProcess.call<{ cpuMs: number }>('stop');
  await client.close();
  return { latencies: latencies.sort((a, b) => a - b), proxyCpuMs: cpuMs };
}
const at = (sorted: number[], p: number) =>
  sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]!;

for (const target of Object.values(targets)) {
  const warm = new Pool(target, { connections: 8 });
  for (let i = 0; i < 200; i++) {
    const response = await warm.request({
      method: 'GET',
      path: '/v1.0/me/messages',
      headers: { authorization: `Bearer ${token}` },
    });
    await response.body.text();
  }
  await warm.close();
}
const samples: Record<keyof typeof targets, number[]> = { direct: [], proxied: [], uncached: [] };
const proxyCpu: Record<keyof typeof targets, number> = { direct: 0, proxied: 0, uncached: 0 };
for (let round = 0; round < 3; round++) {
  for (const name of ['direct', 'proxied', 'uncached'] as const) {
    const { latencies, proxyCpuMs } = await openLoop(targets[name]);
    samples[name].push(...latencies);
    proxyCpu[name] += proxyCpuMs;
  }
}
for (const list of Object.values(samples)) list.sort((a, b) => a - b);
const direct = samples.direct;
console.log(
  `reverse proxy at ${RATE} req/s open loop (${direct.length} requests per path), ` +
    (pinned && proxyProcess.pinnedTo !== undefined
      ? 'proxy pinned to core 0, upstream and load generator to core 1'
      : 'not pinned (no taskset)'),
);
console.log(
  `direct to the upstream: p50 ${at(direct, 50).toFixed(3)} ms p99 ${at(direct, 99).toFixed(3)} ms`,
);
for (const [name, label] of [
  ['proxied', 'via proxy (token cache on, the default)'],
  ['uncached', 'via proxy without the token cache'],
] as const) {
  const list = samples[name];
  const cpuPerRequest = (proxyCpu[name] / list.length) * 1000;
  console.log(
    `${label}: p50 ${at(list, 50).toFixed(3)} ms p99 ${at(list, 99).toFixed(3)} ms; ` +
      `added p50 ${(at(list, 50) - at(direct, 50)).toFixed(3)} ms p99 ${(at(list, 99) - at(direct, 99)).toFixed(3)} ms ` +
      `(target p99 <= 2 ms); proxy CPU ${cpuPerRequest.toFixed(0)} µs/request`,
  );
}

await proxyProcess.close();
await upstream.close();
await issuer.close();
