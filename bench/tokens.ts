// Token service throughput (issue 3): client-credentials and on-behalf-of tokens per second over HTTPS
// with keep-alive, against raw jose RS256 signing of a token-sized payload (jose's SignJWT: the issue's
// baseline, the floor every issued token pays), target >= 80%. Raw node:crypto signing (crypto.sign,
// what Behalf's signer calls) is shown too, as a secondary and stricter baseline, and so is an "HTTPS
// floor": a bare Fastify route in the same process that only parses the form and signs a token with
// node:crypto — what HTTPS keep-alive plus signing costs on this machine before any of Behalf's work.
//
// Behalf runs in a child process pinned to one core (bench/support/token-server.ts); the baselines run
// in that same process on that same core, and the load generator runs here, pinned to the other core,
// so it does not take Behalf's CPU. The headline figure is tokens per CPU-second of Behalf's process
// (user + system, all threads: what a token costs on one core, whatever else runs on this shared
// machine); wall-clock rates and how busy the core was are printed beside it. The generator keeps
// enough requests in flight, with bodies encoded once, that Behalf is not left waiting for it (an idle
// server pays a wake-up per request, which a loaded one does not). Phases are interleaved in rounds;
// medians are reported with the rounds' range. Bounded: 6 s of warm-up, then three rounds of about
// 15 s.
import { Pool } from 'undici';
import { median, pinSelf, startChild } from './support/child.ts';

const ROUNDS = 3;
const SIGN_MS = 1500;
const LOAD_MS = 3000;
const WARM_MS = 2000;
const CONCURRENCY = Number(process.env['BENCH_TOKENS_CONCURRENCY'] ?? 16);

interface Rate {
  readonly perSecond: number;
  readonly perCpuSecond: number;
}

const pinned = pinSelf(1);
const server = await startChild(new URL('./support/token-server.ts', import.meta.url).pathname, { core: 0 });
const info = server.ready as {
  url: string;
  floorUrl: string;
  caPem: string;
  tenantId: string;
  client: { appId: string; secret: string };
  middle: { appId: string; secret: string };
  alice: { upn: string; password: string };
};
const connect = { ca: info.caPem };
const pool = new Pool(info.url, { connections: CONCURRENCY, pipelining: 1, connect });
const floorPool = new Pool(info.floorUrl, { connections: CONCURRENCY, pipelining: 1, connect });
const tokenPath = `/${info.tenantId}/oauth2/v2.0/token`;
const behalf = { pool, path: tokenPath };
const floor = { pool: floorPool, path: '/floor/oauth2/v2.0/token' };
type Target = typeof behalf;

async function post(form: Record<string, string>): Promise<Record<string, unknown>> {
  return send(behalf, new URLSearchParams(form).toString(), true);
}

/** POSTs an encoded form; the body is parsed only when asked (or to report a failure). */
async function send(target: Target, body: string, parse = false): Promise<Record<string, unknown>> {
  const response = await target.pool.request({
    method: 'POST',
    path: target.path,
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body,
  });
  const text = await response.body.text();
  if (response.statusCode !== 200) throw new Error(`token request failed: ${text}`);
  return parse ? (JSON.parse(text) as Record<string, unknown>) : {};
}

const clientCredentials = {
  grant_type: 'client_credentials',
  client_id: info.client.appId,
  client_secret: info.client.secret,
  scope: 'api://downstream/.default',
};
const user = await post({
  grant_type: 'password',
  client_id: info.client.appId,
  client_secret: info.client.secret,
  username: info.alice.upn,
  password: info.alice.password,
  scope: 'api://middle/access_as_user',
});
const onBehalfOf = {
  grant_type: 'urn:ietf:params:oauth:grant-type:jwt-bearer',
  requested_token_use: 'on_behalf_of',
  client_id: info.middle.appId,
  client_secret: info.middle.secret,
  assertion: String(user['access_token']),
  scope: 'api://downstream/read',
};

async function rawSigning(engine: 'node' | 'jose'): Promise<Rate> {
  const r = await server.call<{ count: number; wallMs: number; cpuMs: number }>('sign', {
    engine,
    ms: SIGN_MS,
  });
  return { perSecond: (r.count / r.wallMs) * 1000, perCpuSecond: (r.count / r.cpuMs) * 1000 };
}

async function direct(form: Record<string, string>): Promise<Rate> {
  const r = await server.call<{ count: number; wallMs: number; cpuMs: number }>('direct', {
    form,
    ms: SIGN_MS,
  });
  return { perSecond: (r.count / r.wallMs) * 1000, perCpuSecond: (r.count / r.cpuMs) * 1000 };
}

/** Keeps CONCURRENCY requests in flight until `ms` have passed; returns how many completed. */
async function drive(body: string, target: Target, ms: number): Promise<number> {
  let count = 0;
  const deadline = performance.now() + ms;
  await Promise.all(
    Array.from({ length: CONCURRENCY }, async () => {
      while (performance.now() < deadline) {
        await send(target, body);
        count++;
      }
    }),
  );
  return count;
}

async function load(name: string, form: Record<string, string>, target = behalf): Promise<Rate> {
  const body = new URLSearchParams(form).toString();
  await server.call('start');
  const started = performance.now();
  const count = await drive(body, target, LOAD_MS);
  const wallMs = performance.now() - started;
  const { cpuMs } = await server.call<{ cpuMs: number }>('stop', { name });
  return { perSecond: (count / wallMs) * 1000, perCpuSecond: (count / cpuMs) * 1000 };
}

// Warm-up, unmeasured: JIT tiers, TLS sessions, key and directory caches settle before the rounds.
const clientCredentialsBody = new URLSearchParams(clientCredentials).toString();
const onBehalfOfBody = new URLSearchParams(onBehalfOf).toString();
for (let i = 0; i < 30; i++) await Promise.all([post(clientCredentials), post(onBehalfOf)]);
for (const [body, target] of [
  [clientCredentialsBody, floor],
  [clientCredentialsBody, behalf],
  [onBehalfOfBody, behalf],
] as const)
  await drive(body, target, WARM_MS);

type Phase = 'node' | 'jose' | 'ccDirect' | 'oboDirect' | 'floor' | 'cc' | 'obo';
const samples: Record<Phase, Rate[]> = {
  node: [],
  jose: [],
  ccDirect: [],
  oboDirect: [],
  floor: [],
  cc: [],
  obo: [],
};
for (let round = 0; round < ROUNDS; round++) {
  samples.node.push(await rawSigning('node'));
  samples.jose.push(await rawSigning('jose'));
  samples.ccDirect.push(await direct(clientCredentials));
  samples.oboDirect.push(await direct(onBehalfOf));
  samples.floor.push(await load('floor-https', clientCredentials, floor));
  samples.cc.push(await load('cc-https', clientCredentials));
  samples.obo.push(await load('obo-https', onBehalfOf));
}
const med = (rates: Rate[]): Rate => ({
  perSecond: median(rates.map((r) => r.perSecond)),
  perCpuSecond: median(rates.map((r) => r.perCpuSecond)),
});
const rates = Object.fromEntries(
  Object.entries(samples).map(([phase, rates]) => [phase, med(rates)]),
) as Record<Phase, Rate>;

const where =
  server.pinnedTo !== undefined && pinned
    ? 'Behalf and raw signing pinned to core 0, load generator to core 1'
    : 'not pinned (no taskset)';
console.log(`${where}; median of ${ROUNDS} interleaved rounds [range]`);
const range = (phase: Phase) => {
  const values = samples[phase].map((r) => r.perCpuSecond);
  return `[${Math.min(...values).toFixed(0)}-${Math.max(...values).toFixed(0)}]`;
};
const row = (name: string, phase: Phase) => {
  const { perCpuSecond, perSecond } = rates[phase];
  console.log(
    `${name.padEnd(46)} ${perCpuSecond.toFixed(0).padStart(6)} /CPU-s ${range(phase).padEnd(12)}` +
      ` ${perSecond.toFixed(0).padStart(6)} /s wall, core busy ${((perSecond / perCpuSecond) * 100).toFixed(0)}%`,
  );
};
row('raw jose SignJWT RS256 (issue 3 baseline)', 'jose');
row('raw node:crypto RS256 sign (secondary)', 'node');
row(`client_credentials, HTTPS keep-alive, c=${CONCURRENCY}`, 'cc');
row(`on-behalf-of, HTTPS keep-alive, c=${CONCURRENCY}`, 'obo');
row(`HTTPS floor: bare route, raw sign, c=${CONCURRENCY}`, 'floor');
row('client_credentials, in-process (no HTTP)', 'ccDirect');
row('on-behalf-of, in-process (no HTTP)', 'oboDirect');
const pct = (a: number, b: number) => `${((a / b) * 100).toFixed(0)}%`.padStart(4);
console.log("\nper CPU-second of Behalf's core (wall-clock in brackets); target >= 80% of raw jose signing");
for (const [name, phase] of [
  ['client_credentials over HTTPS', 'cc'],
  ['on-behalf-of over HTTPS', 'obo'],
  ['client_credentials in-process', 'ccDirect'],
  ['on-behalf-of in-process', 'oboDirect'],
] as const) {
  const rate = rates[phase];
  console.log(
    `${name.padEnd(30)} ${pct(rate.perCpuSecond, rates.jose.perCpuSecond)} of raw jose` +
      ` (${pct(rate.perSecond, rates.jose.perSecond)} wall);` +
      `  secondary: ${pct(rate.perCpuSecond, rates.node.perCpuSecond)} of raw node:crypto` +
      ` (${pct(rate.perSecond, rates.node.perSecond)} wall)`,
  );
}

console.log(
  `Behalf over HTTPS / the HTTPS floor (what Behalf adds to a bare signing route): client_credentials ` +
    `${pct(rates.cc.perCpuSecond, rates.floor.perCpuSecond)}, on-behalf-of ` +
    `${pct(rates.obo.perCpuSecond, rates.floor.perCpuSecond)} per CPU-second`,
);

await pool.close();
await floorPool.close();
await server.close();
