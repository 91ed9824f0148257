import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { systemClock } from '../core/clock.ts';
import { cryptoRandom } from '../core/ids.ts';
import { silentLogger } from '../core/logger.ts';
import { createMemoryStore } from '../storage/adapters/memory.ts';
import { openPostgresStore } from '../storage/adapters/postgres.ts';
import { openSqliteStore } from '../storage/adapters/sqlite.ts';
import type { RecordStore } from '../storage/record-store.ts';
import { testDatabaseUrl, uniqueSchema } from '../../test/support/postgres.ts';
import { testVaultCipher } from '../../test/support/gateway-cipher.ts';
import { createConnectionRepository } from './connection-repository.ts';
import type { ConnectionRecord } from './connection-repository.ts';
import { ConnectionError } from './errors.ts';
import { OAuthError } from './oauth-client.ts';
import type { TokenSet } from './oauth-client.ts';
import { LEASE_KIND, createLeaseManager } from './refresh-lease.ts';
import { createTokenRefresher } from './token-refresher.ts';
import type { RenewCredential } from './token-refresher.ts';
import { createVault, tokenHash } from './vault.ts';

const dir = mkdtempSync(join(tmpdir(), 'behalf-refresh-'));
let fileNo = 0;

/** A rotating-refresh-token server in miniature: each refresh token works once. */
function rotatingIssuer(delayMs = 30) {
  let counter = 0;
  const valid = new Set<string>(['rt-0']);
  const renewals: string[] = [];
  const renew: RenewCredential = async (_connection, refreshToken) => {
    renewals.push(refreshToken ?? '');
    await new Promise((r) => setTimeout(r, delayMs));
    if (!refreshToken || !valid.delete(refreshToken))
      throw new OAuthError({
        error: 'invalid_grant',
        description: 'AADSTS70008: expired',
        codes: [70008],
        status: 400,
        host: 'idp',
      });
    counter++;
    valid.add(`rt-${counter}`);
    return {
      accessToken: `at-${counter}-${'x'.repeat(40)}`,
      refreshToken: `rt-${counter}`,
      expiresAt: Date.now() + 3_600_000,
    } satisfies TokenSet;
  };
  return { renew, renewals, valid };
}

function setup(store: RecordStore, renew: RenewCredential, leaseMs = 3_000, cipher = testVaultCipher()) {
  const connections = createConnectionRepository({ store, clock: systemClock, random: cryptoRandom });
  const vault = createVault(cipher);
  const leases = createLeaseManager({ store, clock: systemClock, random: cryptoRandom, leaseMs });
  const refresher = () =>
    createTokenRefresher({
      connections,
      vault,
      leases,
      clock: systemClock,
      logger: silentLogger,
      renew,
      leaseMs,
      refreshTimeoutMs: leaseMs / 2,
      pollMs: 10,
    });
  const expiredConnection = async (refreshToken = 'rt-0'): Promise<ConnectionRecord> => {
    const created = await connections.create({
      tenantId: 't',
      connectorId: 'mail',
      mode: 'per-user',
      owner: { tenantId: 't', userObjectId: 'alice' },
      createdBy: 'alice',
    });
    const written = await connections.replaceCredential(created, {
      accessToken: await vault.seal(created.id, 'accessToken', 'at-old-' + 'y'.repeat(40)),
      accessTokenExpiresAt: Date.now() - 1,
      refreshToken: await vault.seal(created.id, 'refreshToken', refreshToken),
      refreshTokenHash: tokenHash(refreshToken),
    });
    return written!;
  };
  return { connections, vault, leases, refresher, expiredConnection };
}

const adapters: [string, () => Promise<RecordStore[]>][] = [
  [
    'memory',
    async () => {
      const s = createMemoryStore();
      return [s, s];
    },
  ],
  [
    'sqlite',
    async () => {
      const file = join(dir, `r-${fileNo++}.db`);
      return [openSqliteStore({ filename: file }), openSqliteStore({ filename: file })];
    },
  ],
  [
    'postgres',
    async () => {
      const schema = uniqueSchema('refresh');
      const first = await openPostgresStore({ connectionString: testDatabaseUrl(), schema, poolSize: 4 });
      return [first, await openPostgresStore({ connectionString: testDatabaseUrl(), schema, poolSize: 4 })];
    },
  ],
];

for (const [name, open] of adapters) {
  describe(`token refresher on ${name}`, () => {
    it('200 concurrent callers on an expired token cause exactly one refresh, in one process', async () => {
      const [store] = await open();
      const issuer = rotatingIssuer();
      const { refresher, expiredConnection, connections } = setup(store!, issuer.renew);
      const record = await expiredConnection();
      const r = refresher();
      const tokens = await Promise.all(Array.from({ length: 200 }, () => r.accessToken(record)));
      assert.deepEqual(issuer.renewals, ['rt-0']);
      assert.equal(new Set(tokens).size, 1);
      assert.match(tokens[0]!, /^at-1-/);
      const after = await connections.get(record.id);
      assert.equal(after?.data.generation, record.data.generation + 1);
      assert.equal(after?.data.credential.refreshTokenHash, tokenHash('rt-1'));
      assert.equal(await store!.get(LEASE_KIND, record.id), undefined, 'the lease is released');
      await store!.close();
    });

    it('two refreshers on two store handles (as two processes) refresh exactly once', async () => {
      const [a, b] = await open();
      const issuer = rotatingIssuer(80);
      const cipher = testVaultCipher();
      const one = setup(a!, issuer.renew, 3_000, cipher);
      const two = setup(b!, issuer.renew, 3_000, cipher);
      const record = await one.expiredConnection();
      const viaTwo = (await two.connections.get(record.id))!;
      const [r1, r2] = [one.refresher(), two.refresher()];
      const tokens = await Promise.all(
        Array.from({ length: 100 }, (_, i) => (i % 2 ? r1.accessToken(record) : r2.accessToken(viaTwo))),
      );
      assert.deepEqual(issuer.renewals, ['rt-0']);
      assert.equal(new Set(tokens).size, 1);
      await a!.close();
      if (b !== a) await b!.close();
    });

    it('a stale lease left by a crashed holder is taken over once it expires', async () => {
      const [store] = await open();
      const issuer = rotatingIssuer(5);
      const { refresher, expiredConnection } = setup(store!, issuer.renew, 400);
      const record = await expiredConnection();
      await store!.insert({
        kind: LEASE_KIND,
        id: record.id,
        partition: '',
        data: { owner: 'dead', acquiredAt: Date.now() },
        expiresAt: Date.now() + 300,
      });
      const started = Date.now();
      const token = await refresher().accessToken(record);
      assert.match(token, /^at-1-/);
      assert.ok(Date.now() - started >= 250, 'it waited for the crashed lease to expire');
      assert.deepEqual(issuer.renewals, ['rt-0']);
      await store!.close();
    });

    it('invalid_grant with an unchanged generation marks needs-reauth; nothing else is lost', async () => {
      const [store] = await open();
      const issuer = rotatingIssuer(5);
      const { refresher, expiredConnection, connections } = setup(store!, issuer.renew);
      const record = await expiredConnection('rt-revoked');
      await assert.rejects(
        refresher().accessToken(record),
        (e: unknown) =>
          e instanceof ConnectionError && e.status === 401 && e.code === 'ConnectionNeedsReauth',
      );
      const after = await connections.get(record.id);
      assert.equal(after?.data.state, 'needs-reauth');
      assert.match(after?.data.stateReason ?? '', /invalid_grant, AADSTS70008/);
      assert.equal(
        after?.data.credential.refreshTokenHash,
        tokenHash('rt-revoked'),
        'credential kept for inspection',
      );
      await store!.close();
    });

    it('a losing invalid_grant after someone else reconnected does not mark needs-reauth', async () => {
      const [store] = await open();
      const hooks: { reconnect?: () => Promise<void> } = {};
      const renew: RenewCredential = async () => {
        await hooks.reconnect!();
        throw new OAuthError({
          error: 'invalid_grant',
          description: 'used',
          codes: [],
          status: 400,
          host: 'idp',
        });
      };
      const { refresher, expiredConnection, connections, vault } = setup(store!, renew);
      const record = await expiredConnection();
      hooks.reconnect = async () => {
        const current = (await connections.get(record.id))!;
        await connections.replaceCredential(current, {
          accessToken: await vault.seal(record.id, 'accessToken', 'at-reconnected'),
          accessTokenExpiresAt: Date.now() + 3_600_000,
          refreshToken: await vault.seal(record.id, 'refreshToken', 'rt-new'),
          refreshTokenHash: tokenHash('rt-new'),
        });
      };
      assert.equal(await refresher().accessToken(record), 'at-reconnected');
      assert.equal((await connections.get(record.id))?.data.state, 'connected');
      await store!.close();
    });

    it('a transient token-endpoint failure leaves the connection unchanged', async () => {
      const [store] = await open();
      const renew: RenewCredential = async () => {
        throw new OAuthError({
          error: 'temporarily_unavailable',
          description: 'busy',
          codes: [],
          status: 503,
          host: 'login.example',
        });
      };
      const { refresher, expiredConnection, connections } = setup(store!, renew);
      const record = await expiredConnection();
      await assert.rejects(
        refresher().accessToken(record),
        (e: unknown) => e instanceof ConnectionError && e.status === 502 && /login\.example/.test(e.message),
      );
      const after = await connections.get(record.id);
      assert.equal(after?.version, record.version);
      assert.equal(after?.data.state, 'connected');
      await store!.close();
    });
  });
}

it('the SQLite file holds no token in plaintext', async () => {
  const file = join(dir, 'grep.db');
  const store = openSqliteStore({ filename: file });
  const issuer = rotatingIssuer(1);
  const { refresher, expiredConnection } = setup(store, issuer.renew);
  const record = await expiredConnection();
  const token = await refresher().accessToken(record);
  await store.close();
  const bytes =
    readFileSync(file).toString('latin1') + readFileSync(file + '-wal', { flag: 'a+' }).toString('latin1');
  for (const secret of [token, 'rt-1', 'rt-0', 'at-old-'])
    assert.ok(!bytes.includes(secret), `found ${secret.slice(0, 8)}… in the database`);
});
