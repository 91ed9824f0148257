import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { systemClock } from '../../src/core/clock.ts';
import { cryptoRandom } from '../../src/core/ids.ts';
import { createConnectionRepository } from '../../src/connections/connection-repository.ts';
import { createVault, tokenHash } from '../../src/connections/vault.ts';
import { openPostgresStore } from '../../src/storage/adapters/postgres.ts';
import { openSqliteStore } from '../../src/storage/adapters/sqlite.ts';
import type { RecordStore } from '../../src/storage/record-store.ts';
import { sharedTestVaultCipher } from '../support/gateway-cipher.ts';
import { startFakeTokenEndpoint } from '../support/gateway-fake-token-endpoint.ts';
import type { FakeTokenEndpoint } from '../support/gateway-fake-token-endpoint.ts';
import { testDatabaseUrl, uniqueSchema } from '../support/postgres.ts';

/**
 * Single-flight refresh across real OS processes sharing one store, against a token endpoint over
 * real HTTP with rotating refresh tokens: concurrent processes refresh exactly once, and a process
 * killed with SIGKILL in the middle of a refresh loses no connection.
 */
const worker = new URL('../support/gateway-refresh-worker.ts', import.meta.url).pathname;
const seed = 'refresh-processes-test';
const dir = mkdtempSync(join(tmpdir(), 'behalf-refresh-proc-'));

interface WorkerResult {
  tokens: string[];
  errors: string[];
}

function startWorker(env: Record<string, string>) {
  const child = spawn(process.execPath, ['--import', 'tsx', worker], {
    env: { ...process.env, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  let err = '';
  child.stdout.on('data', (chunk: Buffer) => (out += chunk.toString()));
  child.stderr.on('data', (chunk: Buffer) => (err += chunk.toString()));
  const done = new Promise<WorkerResult>((resolve, reject) =>
    child.on('exit', (code, signal) =>
      code === 0
        ? resolve(JSON.parse(out) as WorkerResult)
        : reject(new Error(`worker ended ${code ?? signal}: ${err}`)),
    ),
  );
  return { child, done };
}

const backends: [
  string,
  () => Promise<{ store: RecordStore; env: Record<string, string>; file?: string }>,
][] = [
  [
    'SQLite',
    async () => {
      const file = join(dir, `${cryptoRandom.uuid()}.db`);
      return { store: openSqliteStore({ filename: file }), env: { WORKER_DATABASE: file }, file };
    },
  ],
  [
    'PostgreSQL',
    async () => {
      const schema = uniqueSchema('refproc');
      const store = await openPostgresStore({ connectionString: testDatabaseUrl(), schema, poolSize: 2 });
      return { store, env: { WORKER_DATABASE: testDatabaseUrl(), WORKER_PG_SCHEMA: schema } };
    },
  ],
];

const endpoints: FakeTokenEndpoint[] = [];
after(async () => {
  await Promise.all(endpoints.map((e) => e.close()));
});

for (const [name, open] of backends) {
  describe(`refresh across processes on ${name}`, () => {
    const prepare = async (leaseMs: number) => {
      const { store, env, file } = await open();
      const endpoint = await startFakeTokenEndpoint({ delayMs: 100 });
      endpoints.push(endpoint);
      const firstRefresh = `fake-rt-0-${'r'.repeat(40)}`;
      endpoint.issue(firstRefresh);
      const connections = createConnectionRepository({ store, clock: systemClock, random: cryptoRandom });
      const vault = createVault(sharedTestVaultCipher(seed));
      const created = await connections.create({
        tenantId: 't',
        connectorId: 'mail',
        mode: 'per-user',
        owner: { tenantId: 't', userObjectId: 'alice' },
        createdBy: 'alice',
      });
      const expired = await connections.replaceCredential(created, {
        accessToken: await vault.seal(created.id, 'accessToken', `fake-at-0-${'a'.repeat(60)}`),
        accessTokenExpiresAt: Date.now() - 1000,
        refreshToken: await vault.seal(created.id, 'refreshToken', firstRefresh),
        refreshTokenHash: tokenHash(firstRefresh),
      });
      const workerEnv = {
        ...env,
        WORKER_CONNECTION_ID: created.id,
        WORKER_TOKEN_URL: endpoint.url,
        WORKER_CIPHER_SEED: seed,
        WORKER_LEASE_MS: String(leaseMs),
        WORKER_CONCURRENCY: '100',
      };
      return { store, connections, endpoint, expired: expired!, workerEnv, file };
    };

    it('two processes with 100 concurrent callers each refresh exactly once', async () => {
      const { store, connections, endpoint, expired, workerEnv, file } = await prepare(4000);
      const [one, two] = await Promise.all([startWorker(workerEnv).done, startWorker(workerEnv).done]);
      assert.deepEqual([...one.errors, ...two.errors], []);
      assert.equal(endpoint.refreshes(), 1);
      assert.equal(endpoint.received(), 1, 'the second process never even asked');
      assert.equal(new Set([...one.tokens, ...two.tokens]).size, 1);
      const after = await connections.get(expired.id);
      assert.equal(after?.data.generation, expired.data.generation + 1);
      assert.equal(after?.data.state, 'connected');
      await store.close();
      if (file) {
        const bytes =
          readFileSync(file).toString('latin1') +
          readFileSync(file + '-wal', { flag: 'a+' }).toString('latin1');
        for (const secret of ['fake-at-', 'fake-rt-'])
          assert.ok(!bytes.includes(secret), `${secret}… is in the database file`);
      }
    });

    it('SIGKILL in the middle of a refresh loses no connection', async () => {
      const { store, connections, endpoint, expired, workerEnv } = await prepare(1500);
      const arrived = endpoint.hangNext();
      const doomed = startWorker(workerEnv);
      doomed.done.catch(() => undefined);
      await arrived;
      doomed.child.kill('SIGKILL');
      await new Promise((resolve) => doomed.child.once('exit', resolve));
      const middle = await connections.get(expired.id);
      assert.equal(middle?.version, expired.version, 'nothing was half-written');
      const survivor = await startWorker(workerEnv).done;
      assert.deepEqual(survivor.errors, []);
      assert.equal(survivor.tokens.length, 1);
      assert.equal(endpoint.refreshes(), 1);
      const after = await connections.get(expired.id);
      assert.equal(after?.data.state, 'connected');
      assert.equal(after?.data.generation, expired.data.generation + 1);
      await store.close();
    });
  });
}
