// Token service throughput: client-credentials and on-behalf-of tokens per second over HTTPS with
// keep-alive, against raw RS256 signing of a token-sized payload (the floor every issued token pays).
//
// Behalf runs in a child process pinned to one core (bench/support/token-server.ts); the raw-signing
// baselines run in that same process on that same core, and the load generator runs here, pinned to
// the other core, so it does not take Behalf's CPU. The machine is shared and noisy, so the phases are
// interleaved in rounds and medians are reported, as wall-clock rates and as rates per CPU-second of
// Behalf's process (what the work costs, whatever else runs on the machine).
// Bounded: three rounds of about 12 s.
import { Pool } from 'undici';
import { median, pinSelf, startChild } from './support/child.ts';

const ROUNDS = 3;
const SIGN_MS = 1500;
const LOAD_MS = 3000;
const CONCURRENCY = 8;

interface Rate {
  readonly perSecond: number;
  readonly perCpuSecond: number;
}

const pinned = pinSelf(1);
const server = await startChild(new URL('./support/token-server.ts', import.meta.url).pathname, { core: 0 });
const info = server.ready as {
  url: string;
  caPem: string;
  tenantId: string;
  client: { appId: string; secret: string };
  middle: { appId: string; secret: string };
  alice: { upn: string; password: string };
};
const pool = new Pool(info.url, { connections: CONCURRENCY, pipelining: 1, connect: { ca: info.caPem } });
const tokenPath = `/${info.tenantId}/oauth2/v2.0/token`;

async function post(form: Record<string, string>): Promise<Record<string, unknown>> {
  const response = await pool.request({
    method: 'POST',
    path: tokenPath,
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams(form).toString(),
  });
  const body = (await response.body.json()) as Record<string, unknown>;
  if (response.statusCode !== 200) throw new Error(`token request failed: ${JSON.stringify(body)}`);
  return body;
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

async function load(form: Record<string, string>): Promise<Rate> {
  let count = 0;
  await server.call('start');
  const started = performance.now();
  const deadline = started + LOAD_MS;
  await Promise.all(
    Array.from({ length: CONCURRENCY }, async () => {
      while (performance.now() < deadline) {
        await post(form);
        count++;
      }
    }),
  );
  const wallMs = performance.now() - started;
  const { cpuMs } = await server.call<{ cpuMs: number }>('stop');
  return { perSecond: (count / wallMs) * 1000, perCpuSecond: (count / cpuMs) * 1000 };
}

// Warm-up: JIT, TLS sessions, key and statement caches.
for (let i = 0; i < 30; i++) await Promise.all([post(clientCredentials), post(onBehalfOf)]);

type Phase = 'node' | 'jose' | 'ccDirect' | 'oboDirect' | 'cc' | 'obo';
const samples: Record<Phase, Rate[]> = { node: [], jose: [], ccDirect: [], oboDirect: [], cc: [], obo: [] };
for (let round = 0; round < ROUNDS; round++) {
  samples.node.push(await rawSigning('node'));
  samples.jose.push(await rawSigning('jose'));
  samples.ccDirect.push(await direct(clientCredentials));
  samples.oboDirect.push(await direct(onBehalfOf));
  samples.cc.push(await load(clientCredentials));
  samples.obo.push(await load(onBehalfOf));
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
console.log(`${where}; median of ${ROUNDS} interleaved rounds`);
const row = (name: string, rate: Rate) =>
  console.log(
    `${name.padEnd(46)} ${rate.perSecond.toFixed(0).padStart(6)} /s  ${rate.perCpuSecond.toFixed(0).padStart(6)} /CPU-s`,
  );
row('raw node:crypto RS256 sign (baseline)', rates.node);
row('raw jose SignJWT RS256 (issue 3 baseline)', rates.jose);
row('client_credentials, in-process (no HTTP)', rates.ccDirect);
row('on-behalf-of, in-process (no HTTP)', rates.oboDirect);
row(`client_credentials, HTTPS keep-alive, c=${CONCURRENCY}`, rates.cc);
row(`on-behalf-of, HTTPS keep-alive, c=${CONCURRENCY}`, rates.obo);
const pct = (a: number, b: number) => `${((a / b) * 100).toFixed(0)}%`.padStart(5);
for (const [name, rate] of [
  ['client_credentials', rates.cc],
  ['on-behalf-of', rates.obo],
  ['client_credentials, no HTTP', rates.ccDirect],
  ['on-behalf-of, no HTTP', rates.oboDirect],
] as const) {
  for (const [base, baseline] of [
    ['raw node:crypto', rates.node],
    ['raw jose', rates.jose],
  ] as const) {
    console.log(
      `${`${name} / ${base} signing:`.padEnd(46)} wall ${pct(rate.perSecond, baseline.perSecond)}, ` +
        `per CPU-second ${pct(rate.perCpuSecond, baseline.perCpuSecond)} (target >= 80%)`,
    );
  }
}

await pool.close();
await server.close();
