/**
 * A separate OS process for the cross-process refresh tests: opens the shared store, asks for the
 * access token of one connection CONCURRENCY times at once through its own refresher, and prints what
 * it got as one JSON line. Configured through the environment so the parent can start several.
 */
import { systemClock } from '../../src/core/clock.ts';
import { cryptoRandom } from '../../src/core/ids.ts';
import { silentLogger } from '../../src/core/logger.ts';
import { createConnectionRepository } from '../../src/connections/connection-repository.ts';
import { requestToken } from '../../src/connections/oauth-client.ts';
import { createOutboundHttp } from '../../src/connections/outbound-http.ts';
import { createLeaseManager } from '../../src/connections/refresh-lease.ts';
import { createTokenRefresher } from '../../src/connections/token-refresher.ts';
import { createVault } from '../../src/connections/vault.ts';
import { openPostgresStore } from '../../src/storage/adapters/postgres.ts';
import { openSqliteStore } from '../../src/storage/adapters/sqlite.ts';
import { sharedTestVaultCipher } from './gateway-cipher.ts';

const env = (name: string) => {
  const value = process.env[name];
  if (value === undefined) throw new Error(`missing ${name}`);
  return value;
};

const store = process.env['WORKER_PG_SCHEMA']
  ? await openPostgresStore({
      connectionString: env('WORKER_DATABASE'),
      schema: env('WORKER_PG_SCHEMA'),
      poolSize: 4,
    })
  : openSqliteStore({ filename: env('WORKER_DATABASE') });
const http = createOutboundHttp({ timeoutMs: 5_000 });
const leaseMs = Number(env('WORKER_LEASE_MS'));
const connections = createConnectionRepository({ store, clock: systemClock, random: cryptoRandom });
const refresher = createTokenRefresher({
  connections,
  vault: createVault(sharedTestVaultCipher(env('WORKER_CIPHER_SEED'))),
  leases: createLeaseManager({ store, clock: systemClock, random: cryptoRandom, leaseMs }),
  clock: systemClock,
  logger: silentLogger,
  leaseMs,
  refreshTimeoutMs: Math.floor(leaseMs / 2),
  pollMs: 20,
  renew: (_connection, refreshToken) =>
    requestToken(http, systemClock, {
      tokenUrl: env('WORKER_TOKEN_URL'),
      form: { grant_type: 'refresh_token', refresh_token: refreshToken ?? '', client_id: 'connector-app' },
    }),
});

const record = await connections.get(env('WORKER_CONNECTION_ID'));
if (!record) throw new Error('connection not found');
const results = await Promise.allSettled(
  Array.from({ length: Number(env('WORKER_CONCURRENCY')) }, () => refresher.accessToken(record)),
);
const tokens = [...new Set(results.flatMap((r) => (r.status === 'fulfilled' ? [r.value] : [])))];
const errors = results.flatMap((r) => (r.status === 'rejected' ? [String((r.reason as Error).message)] : []));
process.stdout.write(JSON.stringify({ tokens, errors: [...new Set(errors)] }) + '\n');
await http.close();
await store.close();
