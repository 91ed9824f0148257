// bench/easyauth.ts's server processes: started as `… easyauth-servers.ts upstream` (a plain node:http
// app answering a small JSON body) or `… easyauth-servers.ts proxy` (Easy Auth's reverse proxy, told
// its authority and upstream over IPC), each in its own process so neither shares the load
// generator's event loop.
import { readFileSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { startReverseProxy } from '../../src/easyauth/index.ts';
import type { ReverseProxy } from '../../src/easyauth/index.ts';
import { cpuMsSince, phaseProfiler, serveParent } from './child.ts';

const role = process.argv[2];
let phase: NodeJS.CpuUsage | undefined;
let waitedAt = 0;
const profiler = phaseProfiler();
/** Nanoseconds this process's main thread has spent runnable but waiting for a core (Linux), else 0. */
function runQueueNs(): number {
  try {
    return Number(readFileSync('/proc/self/schedstat', 'utf8').split(' ')[1]);
  } catch {
    return 0;
  }
}
const cpuHandlers = {
  async start() {
    await profiler.start();
    phase = process.cpuUsage();
    waitedAt = runQueueNs();
    return {};
  },
  /** The run-queue wait since `start`, for the parent's per-second windows. */
  sample() {
    return { runQueueMs: (runQueueNs() - waitedAt) / 1e6 };
  },
  async stop() {
    if (!phase) throw new Error('stop without start');
    const cpuMs = cpuMsSince(phase);
    const runQueueMs = (runQueueNs() - waitedAt) / 1e6;
    phase = undefined;
    await profiler.stop(`${role}`);
    return { cpuMs, runQueueMs };
  },
};

if (role === 'upstream') {
  const body = JSON.stringify({ value: [{ id: 1, subject: 'hello' }] });
  const server = createServer((_req, res) => {
    res.writeHead(200, { 'content-type': 'application/json' }).end(body);
  });
  server.keepAliveTimeout = 65_000;
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  serveParent({ url }, cpuHandlers, async () => {
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
  });
} else if (role === 'proxy') {
  const proxies: ReverseProxy[] = [];
  serveParent(
    {},
    {
      ...cpuHandlers,
      async proxy(message) {
        const proxy = await startReverseProxy({
          authority: String(message['authority']),
          audiences: [String(message['audience'])],
          upstream: String(message['upstream']),
          port: 0,
          tokenCacheSeconds: Number(message['tokenCacheSeconds']),
        });
        proxies.push(proxy);
        return { url: proxy.url };
      },
    },
    async () => {
      for (const proxy of proxies) await proxy.close();
    },
  );
} else {
  throw new Error(`easyauth-servers.ts: unknown role ${role}`);
}
