import { spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { Agent, request } from 'undici';
import { BEHALF_CONNECTIONS_APP_ID } from '../../src/cli/demo/demo-tenant.ts';

/**
 * The parent's side of the multi-process refresh e2e: starts whole Behalf processes
 * (gateway-refresh-behalf-node.ts), talks to them over IPC, kills them, and calls them over HTTPS
 * as a client would (ROPC for Alice's token at the node's own token endpoint, then the gateway).
 */
export interface NodeSettings {
  readonly dataDir: string;
  readonly masterKey: string;
  readonly databaseUrl?: string;
}

export interface BehalfNode {
  readonly name: string;
  readonly url: string;
  readonly caPem: string;
  readonly child: ChildProcess;
  /** Sends `{type, ...payload}` over IPC and resolves with the node's reply. */
  call<T = Record<string, unknown>>(type: string, payload?: Record<string, unknown>): Promise<T>;
  /** What the node wrote on stderr (its JSON logs). */
  logs(): string;
  /** SIGKILL, resolved once the process is gone. */
  kill(): Promise<void>;
  close(): Promise<void>;
}

const NODE = new URL('./gateway-refresh-behalf-node.ts', import.meta.url).pathname;

/** A process that has loaded Behalf's modules; `start()` runs startBehalf in it. */
export interface LoadedNode {
  start(): Promise<BehalfNode>;
  close(): Promise<void>;
}

export async function loadBehalfNode(name: string, settings: NodeSettings): Promise<LoadedNode> {
  const child = spawn(process.execPath, ['--import', 'tsx', NODE], {
    env: { ...process.env, BEHALF_NODE_CONFIG: JSON.stringify(settings) },
    stdio: ['ignore', 'ignore', 'pipe', 'ipc'],
  });
  let stderr = '';
  child.stderr!.on('data', (chunk: Buffer) => (stderr += chunk.toString('utf8')));
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const waiting = new Map<
    number,
    { resolve: (m: Record<string, unknown>) => void; reject: (e: Error) => void }
  >();
  let gone: Error | undefined;
  child.once('exit', (code, signal) => {
    gone = new Error(`Behalf node ${name} ended (${code ?? signal}):\n${stderr.slice(-4000)}`);
    for (const w of waiting.values()) w.reject(gone);
    waiting.clear();
  });
  child.on('message', (raw) => {
    const message = raw as Record<string, unknown> & { id: number; error?: string };
    const w = waiting.get(message.id);
    if (!w) return;
    waiting.delete(message.id);
    if (message.error !== undefined) w.reject(new Error(`${name}: ${message.error}`));
    else w.resolve(message);
  });
  await new Promise<Record<string, unknown>>((resolve, reject) => waiting.set(-1, { resolve, reject }));
  let nextId = 0;
  const call = <T>(type: string, payload: Record<string, unknown> = {}) => {
    if (gone) return Promise.reject(gone);
    const id = nextId++;
    return new Promise<T>((resolve, reject) => {
      waiting.set(id, { resolve: resolve as (m: Record<string, unknown>) => void, reject });
      child.send({ ...payload, type, id });
    });
  };
  const close = async () => {
    if (child.exitCode !== null || child.signalCode !== null) return;
    child.send({ type: 'close', id: -2 });
    const timer = setTimeout(() => child.kill('SIGKILL'), 10_000);
    await exited;
    clearTimeout(timer);
  };
  return {
    close,
    async start() {
      const ready = await call<{ url: string; caCertificatePath: string }>('start');
      return {
        name,
        url: ready.url,
        caPem: readFileSync(ready.caCertificatePath, 'utf8'),
        child,
        call,
        logs: () => stderr,
        async kill() {
          if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
          await exited;
        },
        close,
      };
    },
  };
}

export interface GatewayClient {
  /** Alice's token for Behalf Connections from `node`'s own token endpoint (its issuer is that node). */
  aliceToken(node: BehalfNode): Promise<string>;
  /** `POST /apim/{connector}/{connection}/GetEmails` on `node`. */
  getEmails(node: BehalfNode, token: string): Promise<{ status: number; text: string }>;
  close(): Promise<void>;
}

export function gatewayClient(
  nodes: readonly BehalfNode[],
  setup: {
    tenantId: string;
    connectorId: string;
    connectionId: string;
    chat: { appId: string; secret: string };
    alice: { username: string; password: string };
  },
): GatewayClient {
  const dispatcher = new Agent({ connect: { ca: [...new Set(nodes.map((n) => n.caPem))] } });
  return {
    async aliceToken(node) {
      const response = await request(`${node.url}/${setup.tenantId}/oauth2/v2.0/token`, {
        method: 'POST',
        dispatcher,
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
        body: new URLSearchParams({
          grant_type: 'password',
          client_id: setup.chat.appId,
          client_secret: setup.chat.secret,
          username: setup.alice.username,
          password: setup.alice.password,
          scope: `api://${BEHALF_CONNECTIONS_APP_ID}/user_impersonation`,
        }).toString(),
      });
      const body = (await response.body.json()) as Record<string, string>;
      if (response.statusCode !== 200 || !body['access_token'])
        throw new Error(`token request at ${node.name} failed: ${JSON.stringify(body)}`);
      return body['access_token'];
    },
    async getEmails(node, token) {
      const response = await request(
        `${node.url}/apim/${setup.connectorId}/${setup.connectionId}/GetEmails`,
        {
          method: 'POST',
          dispatcher,
          headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
          body: JSON.stringify({ $top: 5 }),
        },
      );
      return { status: response.statusCode, text: await response.body.text() };
    },
    close: () => dispatcher.close(),
  };
}

/** Polls `check` until it holds (an observable event, not a duration); fails after `timeoutMs`. */
export async function until(what: string, check: () => Promise<boolean>, timeoutMs = 20_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting until ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}
