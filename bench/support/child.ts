// A benchmark's server in a child process of its own, so the load generator does not share its event
// loop (or its core), talked to over Node's IPC channel with request/reply messages. On Linux the child
// is pinned to one core with `taskset` (its libuv thread pool too: threads inherit the affinity), which
// is how performance.md compares "per core"; elsewhere it just runs unpinned.
import { spawn, spawnSync } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { Session } from 'node:inspector/promises';

export type Message = Record<string, unknown>;

export interface Child {
  /** Sends `{type, ...payload}` and resolves with the child's reply to it. */
  call<T = Message>(type: string, payload?: Message): Promise<T>;
  /** The child's first message (what it serves, where). */
  readonly ready: Message;
  readonly pinnedTo: number | undefined;
  close(): Promise<void>;
}

const hasTaskset = process.platform === 'linux' && spawnSync('taskset', ['-V']).status === 0;

/** Pins the current process (all its threads present now) to one core, when `taskset` is there. */
export function pinSelf(core: number): boolean {
  if (!hasTaskset) return false;
  return spawnSync('taskset', ['-a', '-p', '-c', String(core), String(process.pid)]).status === 0;
}

export async function startChild(
  file: string,
  options: { core?: number; args?: readonly string[] } = {},
): Promise<Child> {
  // BENCH_CHILD_NODE_OPTIONS: extra flags for the server, e.g. `--cpu-prof --cpu-prof-dir=/tmp/prof`.
  const extra = (process.env['BENCH_CHILD_NODE_OPTIONS'] ?? '').split(' ').filter(Boolean);
  const node = [process.execPath, ...extra, '--import', 'tsx', file, ...(options.args ?? [])];
  const pinned = options.core !== undefined && hasTaskset ? options.core : undefined;
  const [command, ...args] = pinned !== undefined ? ['taskset', '-c', String(pinned), ...node] : node;
  const child: ChildProcess = spawn(command!, args, { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
  let nextId = 0;
  const waiting = new Map<number, { resolve: (m: Message) => void; reject: (e: Error) => void }>();
  let failure: Error | undefined;
  const failAll = (error: Error) => {
    failure = error;
    for (const w of waiting.values()) w.reject(error);
    waiting.clear();
  };
  child.on('exit', (code) => failAll(new Error(`bench child ${file} exited (${code})`)));
  child.on('error', failAll);
  const ready = await new Promise<Message>((resolve, reject) => {
    waiting.set(-1, { resolve, reject });
    child.on('message', (raw) => {
      const message = raw as Message & { id: number; error?: string };
      const w = waiting.get(message.id);
      if (!w) return;
      waiting.delete(message.id);
      if (message.error !== undefined) w.reject(new Error(message.error));
      else w.resolve(message);
    });
  });
  return {
    ready,
    pinnedTo: pinned,
    call<T>(type: string, payload: Message = {}) {
      if (failure) return Promise.reject(failure);
      const id = nextId++;
      return new Promise<T>((resolve, reject) => {
        waiting.set(id, { resolve: resolve as (m: Message) => void, reject });
        child.send({ ...payload, type, id });
      });
    },
    async close() {
      if (child.exitCode !== null) return;
      const exited = new Promise((resolve) => child.once('exit', resolve));
      child.send({ type: 'close', id: nextId++ });
      const timer = setTimeout(() => child.kill(), 10_000);
      await exited;
      clearTimeout(timer);
    },
  };
}

/**
 * The child's side: announces `ready`, then answers each request with its handler's result. `close`
 * runs the cleanup and exits. CPU time of this process is what the parent reads through `cpu`.
 */
export function serveParent(
  ready: Message,
  handlers: Record<string, (message: Message) => Promise<Message> | Message>,
  cleanup: () => Promise<void>,
): void {
  if (!process.send) throw new Error('serveParent: not started by startChild');
  const send = (message: Message) => process.send!(message);
  // A parent that dies without `close` (a crash, Ctrl-C) must not leave its servers running.
  process.on('disconnect', () => void cleanup().finally(() => process.exit(1)));
  process.on('message', (raw) => {
    const message = raw as Message & { id: number; type: string };
    if (message.type === 'close') {
      void cleanup().finally(() => process.exit(0));
      return;
    }
    const handler = handlers[message.type];
    Promise.resolve()
      .then(() => {
        if (!handler) throw new Error(`unknown bench request ${message.type}`);
        return handler(message);
      })
      .then(
        (reply) => send({ ...reply, id: message.id }),
        (error: unknown) => send({ id: message.id, error: String(error) }),
      );
  });
  send({ ...ready, id: -1 });
}

/** CPU milliseconds (user + system, all threads) this process used since `since`. */
export function cpuMsSince(since: NodeJS.CpuUsage): number {
  const used = process.cpuUsage(since);
  return (used.user + used.system) / 1000;
}

export function median(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}

/**
 * With BENCH_PROFILE_DIR set, a CPU profile of each measured phase only (not start-up or set-up) is
 * written there as `<name>-<n>.cpuprofile`, for Chrome DevTools or any cpuprofile reader.
 */
export function phaseProfiler(): { start(): Promise<void>; stop(name: string): Promise<void> } {
  const dir = process.env['BENCH_PROFILE_DIR'];
  if (!dir) return { start: async () => undefined, stop: async () => undefined };
  mkdirSync(dir, { recursive: true });
  const session = new Session();
  session.connect();
  let n = 0;
  return {
    async start() {
      await session.post('Profiler.enable');
      await session.post('Profiler.setSamplingInterval', { interval: 200 });
      await session.post('Profiler.start');
    },
    async stop(name) {
      const { profile } = await session.post('Profiler.stop');
      writeFileSync(`${dir}/${name}-${n++}.cpuprofile`, JSON.stringify(profile));
    },
  };
}
