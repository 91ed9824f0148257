import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import pg from 'pg';
import { CONNECTION_KIND } from '../../src/connections/connection-repository.ts';
import type { ConnectionData } from '../../src/connections/model.ts';
import { LEASE_KIND } from '../../src/connections/refresh-lease.ts';
import { tokenHash } from '../../src/connections/vault.ts';
import { openPostgresStore } from '../../src/storage/adapters/postgres.ts';
import { openSqliteStore } from '../../src/storage/adapters/sqlite.ts';
import type { RecordStore } from '../../src/storage/record-store.ts';
import { gatewayClient, loadBehalfNode, until } from '../support/gateway-refresh-behalf-cluster.ts';
import type { BehalfNode, GatewayClient, NodeSettings } from '../support/gateway-refresh-behalf-cluster.ts';
import { startRotatingProvider } from '../support/gateway-refresh-behalf-provider.ts';
import type { RotatingProvider } from '../support/gateway-refresh-behalf-provider.ts';
import { testDatabaseUrl, uniqueSchema } from '../support/postgres.ts';

/**
 * Refresh that never loses a connection, with whole Behalf processes (startBehalf: HTTPS, token
 * service, gateway, refresher) sharing one store: one SQLite file, or one PostgreSQL schema. The
 * connector's OAuth 2.0 provider rotates refresh tokens (each works once) and its API checks the
 * access token; Alice's connection holds an access token that has just expired.
 *
 * - 200 concurrent `POST /apim/…` calls, 100 on each process; the provider holds the first refresh
 *   until every call is in flight and both processes have gone for the refresh lease (one holds it,
 *   the other was refused). All succeed, and the provider saw exactly one refresh request.
 * - The process holding the refresh lease is killed with SIGKILL while the token endpoint holds its
 *   request (dropped unprocessed when its client goes away): nothing was written, and once the lease
 *   has expired (the survivor's clock moves on, a step per lease attempt, instead of sleeping 30 s)
 *   the survivor's waiting calls succeed with one refresh of the same refresh token; the connection
 *   stays connected, its stored refresh token is the live one, and a later 401 renews with it.
 *
 * Observable events only, no durations: the provider's counters, each process's IPC stats, the store.
 */
const LEASE_MS = 30_000; // createConnectionServices' default, which startBehalf uses
const STEP_MS = 2_000;

interface Backend {
  /** Settings of node `index` (0 or 1) and the test's own view of the shared store. */
  open(
    cleanups: Cleanups,
  ): Promise<{ settings: (index: number) => NodeSettings; store: () => Promise<RecordStore>; file?: string }>;
}

type Cleanups = (() => Promise<void>)[];

const tempDir = (cleanups: Cleanups) => {
  const dir = mkdtempSync(join(tmpdir(), 'behalf-refresh-nodes-'));
  cleanups.push(async () => rmSync(dir, { recursive: true, force: true }));
  return dir;
};

const backends: Record<string, Backend> = {
  SQLite: {
    async open(cleanups) {
      // Same data directory, hence the same behalf.db (and the same local CA), for both processes.
      const dataDir = tempDir(cleanups);
      const masterKey = randomBytes(32).toString('base64');
      const file = join(dataDir, 'behalf.db');
      return {
        settings: () => ({ dataDir, masterKey }),
        store: async () => openSqliteStore({ filename: file }),
        file,
      };
    },
  },
  PostgreSQL: {
    async open(cleanups) {
      // Behalf has no schema setting: the URL's libpq `options` put both processes in a fresh schema
      // (node-postgres lets URL parameters override the adapter's default search_path). The test's
      // own store creates and migrates the schema first.
      const schema = uniqueSchema('gwrefresh');
      const base = testDatabaseUrl();
      const databaseUrl = `${base}${base.includes('?') ? '&' : '?'}options=${encodeURIComponent(`-c search_path=${schema}`)}`;
      const masterKey = randomBytes(32).toString('base64');
      const store = await openPostgresStore({ connectionString: base, schema, poolSize: 2 });
      await store.close();
      cleanups.push(async () => {
        const client = new pg.Client({ connectionString: base });
        await client.connect();
        await client.query(`DROP SCHEMA IF EXISTS ${schema} CASCADE`);
        await client.end();
      });
      // Separate data directories, as on separate machines: only the store and the master key are shared.
      const dirs = [tempDir(cleanups), tempDir(cleanups)];
      return {
        settings: (index) => ({ dataDir: dirs[index]!, masterKey, databaseUrl }),
        store: () => openPostgresStore({ connectionString: base, schema, poolSize: 2 }),
      };
    },
  },
};

interface Cluster {
  readonly provider: RotatingProvider;
  readonly nodes: readonly [BehalfNode, BehalfNode];
  readonly client: GatewayClient;
  readonly store: RecordStore;
  readonly connectionId: string;
  readonly tokens: readonly [string, string];
  readonly expiredAccessToken: string;
  readonly file: string | undefined;
  connection(): Promise<{ version: number; data: ConnectionData }>;
}

async function startCluster(backend: Backend, cleanups: Cleanups): Promise<Cluster> {
  const { settings, store: openStore, file } = await backend.open(cleanups);
  const provider = await startRotatingProvider();
  cleanups.push(() => provider.close());
  // Both processes load their modules at once; Behalf starts in the first, which sets the store up.
  const loading = [loadBehalfNode('one', settings(0)), loadBehalfNode('two', settings(1))] as const;
  for (const node of loading) cleanups.push(async () => (await node.catch(() => undefined))?.close());
  const loaded = await Promise.all(loading);
  const one = await loaded[0].start();
  const expiredAccessToken = `rot-at-0-${randomBytes(24).toString('base64url')}`;
  const setup = await one.call<Parameters<typeof gatewayClient>[1]>('setup', {
    providerUrl: provider.url,
    clientId: provider.clientId,
    clientSecret: provider.clientSecret,
    refreshToken: provider.signIn(),
    expiredAccessToken,
  });
  // The second starts on the store the first one set up (same directory, apps, connector).
  const two = await loaded[1].start();
  const client = gatewayClient([one, two], setup);
  cleanups.push(() => client.close());
  const store = await openStore();
  cleanups.push(() => store.close());
  const tokens = await Promise.all([client.aliceToken(one), client.aliceToken(two)] as const);
  return {
    provider,
    nodes: [one, two],
    client,
    store,
    connectionId: setup.connectionId,
    tokens,
    expiredAccessToken,
    file,
    async connection() {
      const record = await store.get<ConnectionData>(CONNECTION_KIND, setup.connectionId);
      assert.ok(record, 'the connection exists');
      return record;
    },
  };
}

interface NodeStats {
  /** `/apim/…` requests the process received. */
  apimRequests: number;
  /** Attempts to take a refresh lease in the shared store, as they settled. */
  leaseAcquired: number;
  leaseRefused: number;
}
const stats = (node: BehalfNode) => node.call<NodeStats>('stats');

/** The connection is usable and holds exactly the refresh token the provider will accept next. */
async function assertConnected(cluster: Cluster, generation: number) {
  const after = await cluster.connection();
  assert.equal(after.data.state, 'connected', after.data.stateReason ?? '');
  assert.equal(after.data.generation, generation);
  const live = cluster.provider.liveRefreshToken();
  assert.ok(live, 'the provider has one live refresh token');
  assert.equal(after.data.credential.refreshTokenHash, tokenHash(live));
  assert.equal(await cluster.store.get(LEASE_KIND, cluster.connectionId), undefined, 'the lease is released');
}

/** Neither the shared database nor any log holds a token the provider issued (or the expired one). */
function assertNoTokenLeaked(cluster: Cluster) {
  const secrets = [...cluster.provider.issued(), cluster.expiredAccessToken, cluster.provider.clientSecret];
  const logs = cluster.nodes.map((n) => n.logs()).join('\n');
  const database = cluster.file
    ? readFileSync(cluster.file).toString('latin1') +
      readFileSync(cluster.file + '-wal', { flag: 'a+' }).toString('latin1')
    : '';
  for (const secret of secrets) {
    assert.ok(!logs.includes(secret), `a token is in the logs (${secret.slice(0, 9)}…)`);
    assert.ok(!database.includes(secret), `a token is in the database file (${secret.slice(0, 9)}…)`);
  }
}

/** Runs `body` on a fresh cluster, then stops every process and removes what it made. */
async function withCluster(backend: Backend, body: (cluster: Cluster) => Promise<void>) {
  const cleanups: Cleanups = [];
  let cluster: Cluster | undefined;
  try {
    cluster = await startCluster(backend, cleanups);
    await body(cluster);
  } catch (error) {
    // The processes' warnings and errors say why a call failed (their logs never hold a token).
    const notes = (cluster?.nodes ?? []).map(
      (n) =>
        `--- ${n.name} ---\n` +
        n
          .logs()
          .split('\n')
          .filter((line) => /"level":"(warn|error)"/.test(line))
          .slice(-20)
          .join('\n'),
    );
    if (error instanceof Error && notes.length > 0) error.message += `\n${notes.join('\n')}`;
    throw error;
  } finally {
    for (const cleanup of cleanups.reverse()) await cleanup().catch(() => undefined);
  }
}

for (const [name, backend] of Object.entries(backends)) {
  describe(`gateway refresh with two Behalf processes on ${name}`, () => {
    it('200 concurrent calls on a just-expired connection, split across both processes, refresh exactly once', () =>
      withCluster(backend, async (cluster) => {
        const { provider, nodes, client } = cluster;
        const before = await cluster.connection();
        const held = provider.hold();
        const calls = Array.from({ length: 200 }, (_, i) =>
          client.getEmails(nodes[i % 2]!, cluster.tokens[i % 2]!),
        );
        await held.arrived;
        // Before the first refresh is answered, every call is in flight and both processes have gone
        // for the refresh lease: one holds it (its request is the held one), the other was refused.
        await until('both processes have their 100 calls and have tried the refresh lease', async () =>
          (await Promise.all(nodes.map(stats))).every(
            (n) => n.apimRequests >= 100 && n.leaseAcquired + n.leaseRefused >= 1,
          ),
        );
        assert.equal(provider.received(), 1);
        held.release();
        const results = await Promise.all(calls);
        const failed = results.filter((r) => r.status !== 200);
        assert.deepEqual(failed.slice(0, 3), [], `${failed.length} calls failed`);
        for (const result of results) assert.match(result.text, /Quarterly numbers/);
        const [one, two] = await Promise.all(nodes.map(stats));
        assert.deepEqual([one!.apimRequests, two!.apimRequests], [100, 100]);
        assert.equal(one!.leaseAcquired + two!.leaseAcquired, 1, 'one process ever held the lease');
        const waiter = one!.leaseAcquired === 1 ? two! : one!;
        assert.ok(waiter.leaseRefused >= 1, 'the other process waited for it');

        assert.equal(provider.refreshes(), 1, 'exactly one refresh');
        assert.equal(provider.received(), 1, 'no second refresh request, not even a refused one');
        assert.deepEqual(provider.apiCalls(), { ok: 200, unauthorized: 0 });
        await assertConnected(cluster, before.data.generation + 1);
        const renewed = nodes.map((n) => n.logs().split('connection token renewed').length - 1);
        assert.equal(renewed[0]! + renewed[1]!, 1, `renewals logged per process: ${renewed.join(', ')}`);
        assertNoTokenLeaked(cluster);
      }));

    it('SIGKILL of the process in the middle of a refresh loses no connection', () =>
      withCluster(backend, async (cluster) => {
        const { provider, client } = cluster;
        const [doomed, survivor] = cluster.nodes;
        const [doomedToken, survivorToken] = cluster.tokens;
        const before = await cluster.connection();

        // Only the doomed process is called first, so it is the one that takes the lease and refreshes.
        const held = provider.hold();
        const doomedCall = client.getEmails(doomed, doomedToken);
        doomedCall.catch(() => undefined);
        await held.arrived;
        assert.ok(
          await cluster.store.get(LEASE_KIND, cluster.connectionId),
          'the doomed process holds the lease',
        );
        const waiting = Array.from({ length: 100 }, () => client.getEmails(survivor, survivorToken));
        await until('the survivor has its 100 calls and was refused the lease', async () => {
          const now = await stats(survivor);
          return now.apimRequests >= 100 && now.leaseRefused >= 1;
        });

        await doomed.kill();
        await held.abandoned;
        await assert.rejects(doomedCall, 'the killed process never answered');
        const middle = await cluster.connection();
        assert.equal(middle.version, before.version, 'nothing was half-written');
        assert.equal(middle.data.state, 'connected');
        assert.ok(
          await cluster.store.get(LEASE_KIND, cluster.connectionId),
          "the dead process's lease is still there",
        );
        assert.equal(provider.received(), 1, 'the survivor waits for the lease instead of refreshing');

        // Time passes for the survivor until the dead holder's lease has expired: STEP_MS per lease
        // attempt it makes, so a lease it takes meanwhile never looks expired to itself before its
        // release, and its wait (lease + refresh timeout) is never overshot.
        let seen = (await stats(survivor)).leaseRefused;
        for (let advanced = 0; (await stats(survivor)).leaseAcquired === 0; advanced += STEP_MS) {
          assert.ok(advanced <= LEASE_MS + 5 * STEP_MS, 'the survivor never took the expired lease over');
          await survivor.call('advanceClock', { ms: STEP_MS });
          await until('the survivor tries the lease again', async () => {
            const now = await stats(survivor);
            const tried = now.leaseRefused > seen || now.leaseAcquired > 0;
            seen = now.leaseRefused;
            return tried;
          });
        }
        const results = await Promise.all(waiting);
        const failed = results.filter((r) => r.status !== 200);
        assert.deepEqual(failed.slice(0, 3), [], `${failed.length} calls failed`);
        assert.equal((await stats(survivor)).leaseAcquired, 1, 'the survivor took the expired lease over');
        assert.equal(provider.refreshes(), 1, 'one refresh, by the survivor');
        assert.equal(provider.received(), 2, 'the dropped request and the survivor’s');
        assert.equal(provider.refused(), 0, 'the rotation stayed consistent: no refresh token was replayed');
        await assertConnected(cluster, before.data.generation + 1);

        // The stored refresh token is the live one: the API rejects the access token, the gateway renews.
        provider.revokeAccessTokens();
        const again = await client.getEmails(survivor, survivorToken);
        assert.equal(again.status, 200, again.text);
        assert.equal(provider.refreshes(), 2);
        assert.equal(provider.refused(), 0);
        assert.equal(provider.apiCalls().unauthorized, 1);
        await assertConnected(cluster, before.data.generation + 2);
        assertNoTokenLeaked(cluster);
      }));
  });
}
