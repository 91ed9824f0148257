// The gateway's cost per operation call: `POST /apim/{connector}/default/GetEmails` through Behalf
// against, in the same run, (a) the same request sent straight to the demo Contoso Mail API
// (examples/) and (b) a minimal Node proxy (node:https server + undici Pool, injecting the same
// cached bearer token): the "toy gateway" of reference/performance.md §2a, with the same TLS on both
// of its sides as Behalf. Every token is cached (the caller's verification, the on-behalf-of result).
//
// Behalf, the minimal proxy and the mail API each run in a child process of their own (this file with
// the `behalf`, `proxy` or `mail` argument), so a direct call crosses one process boundary and a
// gateway call two, as in production, and `process.cpuUsage()` of Behalf's process is the gateway's
// work alone. With `taskset`, Behalf and the minimal proxy are pinned to core 0, the mail API and the
// load generator (undici Pool, here) to core 1.
// Reported: added p50/p99 at concurrency 1 (direct, proxy and gateway interleaved in short rounds,
// because the machine is shared), throughput at concurrency 16, and calls per CPU-second of the
// gateway process next to the minimal proxy's. Targets (issue 7): added p50 ≤ 0.3 ms, p99 ≤ 1 ms,
// ≥ 8,000 calls per CPU-second. Bounded: about 50 seconds.
//
// BENCH_PROFILE_DIR=/tmp/p writes CPU profiles of Behalf's measured phases only: behalf-0..3 are the
// concurrency-1 rounds, behalf-4..7 the concurrency-16 rounds.
import { createServer } from 'node:https';
import type { AddressInfo } from 'node:net';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { monitorEventLoopDelay, performance } from 'node:perf_hooks';
import { Pool, request } from 'undici';
import { loadConfig } from '../src/core/config.ts';
import { silentLogger } from '../src/core/logger.ts';
import { startBehalf } from '../src/main.ts';
import { startDemoApis } from '../examples/demo-apis.ts';
import { BEHALF_CONNECTIONS_APP_ID } from '../src/cli/demo/demo-tenant.ts';
import { contosoMailPackage, prepareDemoTenant } from '../test/support/gateway-demo.ts';
import type { Message } from './support/child.ts';
import { cpuMsSince, phaseProfiler, pinSelf, serveParent, startChild } from './support/child.ts';

const ROUND_MS = 1000;
const ROUNDS = 4;
const CONCURRENCY = 16;
/** Issue 7's target for the gateway process. */
const TARGET_CALLS_PER_CPU_SECOND = 8000;

const role = process.argv[2];
if (role === 'behalf') await serveBehalf();
else if (role === 'proxy') await serveProxy();
else if (role === 'mail') await serveMail();
else await main();

/**
 * CPU time of a measured phase, and how late the event loop ran (1 ms sampling): a p99 delay above the
 * sampling interval means synchronous work held the loop, and a call arriving then waited for it.
 */
function cpuHandlers(name: string) {
  let since: NodeJS.CpuUsage | undefined;
  const profiler = phaseProfiler();
  const loopDelay = monitorEventLoopDelay({ resolution: 1 });
  return {
    async start(message: Message) {
      if (message['profile'] === true) await profiler.start();
      loopDelay.reset();
      loopDelay.enable();
      since = process.cpuUsage();
      return {};
    },
    async stop(message: Message) {
      if (!since) throw new Error('stop without start');
      const cpuMs = cpuMsSince(since);
      since = undefined;
      loopDelay.disable();
      if (message['profile'] === true) await profiler.stop(name);
      return { cpuMs, loopDelayP99Ms: loopDelay.percentile(99) / 1e6 };
    },
  };
}

/** Behalf with the demo tenant; imports the connector once the parent names the mail API. */
async function serveBehalf(): Promise<void> {
  const dataDir = mkdtempSync(join(tmpdir(), 'behalf-bench-gateway-'));
  const behalf = await startBehalf({ config: loadConfig({ dataDir, port: 0 }, {}), logger: silentLogger });
  const demo = await prepareDemoTenant(behalf, dataDir, silentLogger);
  serveParent(
    { url: behalf.url, dataDir, demo },
    {
      ...cpuHandlers('behalf'),
      async connector(message) {
        const pkg = contosoMailPackage(behalf.url, String(message['mailApiUrl']));
        const secret = demo.apps['Contoso Mail Connector']!.clientSecret!;
        const created = await behalf.connections.registry.create(demo.tenantId, pkg, secret);
        return { connectorId: created.connector.id };
      },
    },
    async () => {
      await behalf.close();
      rmSync(dataDir, { recursive: true, force: true });
    },
  );
}

/**
 * The minimal proxy: node:https in, undici Pool out, the bearer token from memory: what any Node
 * gateway pays at the least for the same two TLS hops.
 */
async function serveProxy(): Promise<void> {
  let pool: Pool | undefined;
  let authorization = '';
  let upstreamPath = '';
  const server = createServer(
    { cert: readFileSync(process.argv[3]!, 'utf8'), key: readFileSync(process.argv[4]!, 'utf8') },
    (req, res) => {
      req.resume();
      pool!
        .request({
          method: 'GET',
          path: upstreamPath,
          headers: { authorization, accept: 'application/json' },
        })
        .then(async (upstream) => {
          const body = Buffer.from(await upstream.body.arrayBuffer());
          res.writeHead(upstream.statusCode, { 'content-type': 'application/json' }).end(body);
        })
        .catch(() => res.writeHead(502).end());
    },
  );
  server.keepAliveTimeout = 65_000;
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  serveParent(
    { url: `https://127.0.0.1:${(server.address() as AddressInfo).port}` },
    {
      ...cpuHandlers('proxy'),
      upstream(message) {
        pool = new Pool(String(message['origin']), {
          connections: 64,
          keepAliveTimeout: 30_000,
          connect: { ca: String(message['ca']) },
        });
        authorization = `Bearer ${String(message['token'])}`;
        upstreamPath = String(message['path']);
        return {};
      },
    },
    async () => {
      server.closeAllConnections();
      await new Promise((resolve) => server.close(resolve));
      await pool?.close();
    },
  );
}

/** The demo Contoso Mail API (and its sibling) as examples/ runs it, in a process of its own. */
async function serveMail(): Promise<void> {
  const [issuerBaseUrl, tenantId, tls] = process.argv.slice(3) as [string, string, string];
  const apis = await startDemoApis({
    issuerBaseUrl,
    tenantId,
    ports: { mailApi: 0, resourceManagerApi: 0 },
    domain: 'contoso.test',
    tls: {
      cert: readFileSync(join(tls, 'server.pem'), 'utf8'),
      key: readFileSync(join(tls, 'server.key'), 'utf8'),
    },
    ca: readFileSync(join(tls, 'ca.pem'), 'utf8'),
  });
  serveParent({ url: apis.urls.mailApi }, {}, () => apis.close());
}

interface Demo {
  tenantId: string;
  users: { username: string; password: string }[];
  apps: Record<string, { appId: string; clientSecret?: string }>;
}

async function main(): Promise<void> {
  const self = new URL(import.meta.url).pathname;
  const pinned = pinSelf(1);
  const behalf = await startChild(self, { args: ['behalf'], core: 0 });
  const url = String(behalf.ready['url']);
  const dataDir = String(behalf.ready['dataDir']);
  const demo = behalf.ready['demo'] as Demo;
  const tls = join(dataDir, 'tls');
  const ca = readFileSync(join(tls, 'ca.pem'), 'utf8');
  const proxy = await startChild(self, {
    args: ['proxy', join(tls, 'server.pem'), join(tls, 'server.key')],
    core: 0,
  });
  const mail = await startChild(self, { args: ['mail', url, demo.tenantId, tls], core: 1 });
  const mailApiUrl = String(mail.ready['url']);
  const { connectorId } = await behalf.call<{ connectorId: string }>('connector', { mailApiUrl });

  const alice = demo.users.find((u) => u.username.startsWith('alice@'))!;
  const tokenPool = new Pool(url, { connect: { ca } });
  const token = async (client: { appId: string; clientSecret?: string }, scope: string) => {
    const response = await request(`${url}/${demo.tenantId}/oauth2/v2.0/token`, {
      method: 'POST',
      dispatcher: tokenPool,
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({
        grant_type: 'password',
        client_id: client.appId,
        client_secret: client.clientSecret!,
        username: alice.username,
        password: alice.password,
        scope,
      }).toString(),
    });
    const body = (await response.body.json()) as { access_token?: string };
    if (!body.access_token) throw new Error(`token: ${JSON.stringify(body)}`);
    return body.access_token;
  };
  const gatewayToken = await token(
    demo.apps['Behalf Chat']!,
    `api://${BEHALF_CONNECTIONS_APP_ID}/user_impersonation`,
  );
  const directToken = await token(demo.apps['Contoso Mail Connector']!, 'api://contoso-mail/Mail.Read');
  await tokenPool.close();

  const directPath = `/v1.0/me/mailFolders/inbox/messages?%24filter=isRead%20eq%20false&%24top=5`;
  await proxy.call('upstream', { origin: mailApiUrl, ca, token: directToken, path: directPath });
  const args = { folder: 'inbox', $filter: 'isRead eq false', $top: 5 };
  const targets = {
    direct: {
      pool: new Pool(mailApiUrl, { connections: CONCURRENCY, connect: { ca } }),
      options: {
        method: 'GET' as const,
        path: directPath,
        headers: { authorization: `Bearer ${directToken}` },
      },
    },
    proxy: {
      pool: new Pool(String(proxy.ready['url']), { connections: CONCURRENCY, connect: { ca } }),
      options: { method: 'GET' as const, path: directPath, headers: {} },
    },
    gateway: {
      pool: new Pool(url, { connections: CONCURRENCY, connect: { ca } }),
      options: {
        method: 'POST' as const,
        path: `/apim/${connectorId}/default/GetEmails`,
        headers: { authorization: `Bearer ${gatewayToken}`, 'content-type': 'application/json' },
        body: JSON.stringify(args),
      },
    },
  };
  type Name = keyof typeof targets;
  const once = async (name: Name) => {
    const target = targets[name];
    const response = await target.pool.request(target.options);
    const text = await response.body.text();
    if (response.statusCode !== 200) throw new Error(`${name}: ${response.statusCode} ${text.slice(0, 300)}`);
  };
  /** A closed loop of `concurrency` callers for `ms`; latencies appended to `into`. */
  const run = async (name: Name, concurrency: number, ms: number, into: number[] = []) => {
    const end = performance.now() + ms;
    await Promise.all(
      Array.from({ length: concurrency }, async () => {
        while (performance.now() < end) {
          const start = performance.now();
          await once(name);
          into.push(performance.now() - start);
        }
      }),
    );
    return into;
  };
  const at = (sorted: readonly number[], q: number) =>
    sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))]!;

  // Warm-up: JIT, keep-alive connections, the OBO result and verified-caller caches. With the former
  // 1 s at concurrency 4, Behalf's CPU per call in the first concurrency-1 round was seen at 2-3x the
  // last one's (1.2 ms, then 0.44 ms): those rounds timed the optimising compiler, not the gateway.
  for (const name of ['gateway', 'proxy', 'direct'] as const) await run(name, CONCURRENCY, 4000);

  // Concurrency 1, interleaved rounds so that load swings on the shared machine hit all three alike.
  const low: Record<Name, number[]> = { direct: [], proxy: [], gateway: [] };
  const loopDelays: Record<'proxy' | 'gateway', number[]> = { proxy: [], gateway: [] };
  const profile = process.env['BENCH_PROFILE_DIR'] !== undefined;
  for (let round = 0; round < ROUNDS; round++)
    for (const name of ['direct', 'proxy', 'gateway'] as const) {
      await run(name, 1, 100);
      const child = name === 'gateway' ? behalf : name === 'proxy' ? proxy : undefined;
      const profileThis = profile && name === 'gateway';
      await child?.call('start', { profile: profileThis });
      await run(name, 1, ROUND_MS, low[name]);
      if (child && name !== 'direct')
        loopDelays[name].push(
          (await child.call<{ loopDelayP99Ms: number }>('stop', { profile: profileThis })).loopDelayP99Ms,
        );
    }
  for (const list of Object.values(low)) list.sort((a, b) => a - b);

  // Concurrency 16: throughput, and CPU of the serving child (Behalf or the minimal proxy), again in
  // interleaved rounds. Each round starts with a short unmeasured burst: the demo API's server closes
  // connections idle for 5 s, so the concurrency-1 rounds leave the pools with one warm connection.
  const high: Record<Name, { count: number; cpuMs: number }> = {
    direct: { count: 0, cpuMs: 0 },
    proxy: { count: 0, cpuMs: 0 },
    gateway: { count: 0, cpuMs: 0 },
  };
  const children = { direct: undefined, proxy, gateway: behalf };
  for (let round = 0; round < ROUNDS; round++)
    for (const name of ['direct', 'proxy', 'gateway'] as const) {
      await run(name, CONCURRENCY, 300);
      const child = children[name];
      const profileThis = profile && name === 'gateway';
      await child?.call('start', { profile: profileThis });
      high[name].count += (await run(name, CONCURRENCY, ROUND_MS)).length;
      if (child)
        high[name].cpuMs += (await child.call<{ cpuMs: number }>('stop', { profile: profileThis })).cpuMs;
    }
  const perSecond = (name: Name) => (high[name].count * 1000) / (ROUNDS * ROUND_MS);
  const directHigh = { perSecond: perSecond('direct') };
  const proxyHigh = { ...high.proxy, perSecond: perSecond('proxy') };
  const gatewayHigh = { ...high.gateway, perSecond: perSecond('gateway') };

  const ms = (n: number) => `${n.toFixed(3)} ms`;
  const perCpu = (h: { count: number; cpuMs: number }) => (h.count * 1000) / h.cpuMs;
  console.log(
    `gateway vs direct vs minimal proxy (Contoso Mail GetEmails, HTTPS everywhere, cached tokens); ` +
      (pinned && behalf.pinnedTo !== undefined
        ? 'Behalf / minimal proxy pinned to core 0, mail API and load generator to core 1'
        : 'not pinned (no taskset)'),
  );
  console.log(`  concurrency 1 (${ROUNDS} interleaved rounds of ${ROUND_MS} ms each)`);
  for (const name of ['direct', 'proxy', 'gateway'] as const) {
    const list = low[name];
    const added =
      name === 'direct'
        ? ''
        : `  added p50 ${ms(at(list, 0.5) - at(low.direct, 0.5))} p99 ${ms(at(list, 0.99) - at(low.direct, 0.99))}`;
    console.log(
      `    ${name.padEnd(8)} n=${String(list.length).padStart(5)} p50 ${ms(at(list, 0.5))} p99 ${ms(at(list, 0.99))}${added}`,
    );
  }
  const delays = (name: 'proxy' | 'gateway') => loopDelays[name].map((d) => d.toFixed(1)).join(', ');
  console.log(
    `    event-loop delay p99 per round (1 ms sampling): proxy ${delays('proxy')} ms; Behalf ${delays('gateway')} ms`,
  );
  console.log(`    targets: gateway added p50 ≤ 0.3 ms, p99 ≤ 1 ms`);
  console.log(`  concurrency ${CONCURRENCY} (${ROUNDS} interleaved rounds of ${ROUND_MS} ms each)`);
  console.log(`    direct   ${directHigh.perSecond.toFixed(0)}/s`);
  console.log(
    `    proxy    ${proxyHigh.perSecond.toFixed(0)}/s, ${perCpu(proxyHigh).toFixed(0)} calls per CPU-second of its process`,
  );
  console.log(
    `    gateway  ${gatewayHigh.perSecond.toFixed(0)}/s, ${perCpu(gatewayHigh).toFixed(0)} calls per CPU-second of Behalf ` +
      `(${(gatewayHigh.cpuMs / 1000).toFixed(2)} CPU-s for ${gatewayHigh.count} calls; target ≥ ${TARGET_CALLS_PER_CPU_SECOND}); ` +
      `${((perCpu(gatewayHigh) / perCpu(proxyHigh)) * 100).toFixed(0)}% of the minimal proxy's`,
  );
  // What the target leaves for the gateway's own work once the two TLS hops are paid for (issue 7):
  // a negative budget means even the bare proxy misses it in this run.
  const microsPerCall = (h: { count: number; cpuMs: number }) => (h.cpuMs * 1000) / h.count;
  console.log(
    `    CPU per call: gateway ${microsPerCall(gatewayHigh).toFixed(0)} µs, minimal proxy ${microsPerCall(proxyHigh).toFixed(0)} µs; ` +
      `${TARGET_CALLS_PER_CPU_SECOND} calls per CPU-second leave ${(1e6 / TARGET_CALLS_PER_CPU_SECOND - microsPerCall(proxyHigh)).toFixed(0)} µs a call for everything ` +
      `the gateway does beyond relaying (caller check, connection, credential, request building, audit)`,
  );

  for (const target of Object.values(targets)) await target.pool.close();
  await mail.close();
  await proxy.close();
  await behalf.close();
}
