import { mkdirSync } from 'node:fs';
import { join, resolve } from 'node:path';
import type { FastifyInstance } from 'fastify';
import type { Clock } from './core/clock.ts';
import { systemClock } from './core/clock.ts';
import type { Config } from './core/config.ts';
import type { Random } from './core/ids.ts';
import { cryptoRandom } from './core/ids.ts';
import type { Logger } from './core/logger.ts';
import { createJsonLogger } from './core/logger.ts';
import { openPostgresStore } from './storage/adapters/postgres.ts';
import { openSqliteStore } from './storage/adapters/sqlite.ts';
import type { RecordStore } from './storage/record-store.ts';
import type { RouteModule } from './http/server.ts';
import { createHttpServer } from './http/server.ts';
import { ensureTlsMaterial, readTlsFiles } from './crypto/tls.ts';

/**
 * The composition root: configuration → store → services → HTTP. Every collaborator is built here with
 * plain factories and passed explicitly (ARCHITECTURE.md, "Explicit dependencies").
 */
export interface BehalfOptions {
  readonly config: Config;
  readonly logger?: Logger;
  readonly clock?: Clock;
  readonly random?: Random;
}

/** The base URL is known only once the server listens (port 0 in tests), so services read it lazily. */
export interface PublicUrl {
  (): string;
}

export interface Behalf {
  readonly config: Config;
  readonly url: string;
  readonly store: RecordStore;
  readonly http: FastifyInstance;
  /** The local CA certificate clients must trust (`NODE_EXTRA_CA_CERTS`); undefined with an operator certificate. */
  readonly caCertificatePath: string | undefined;
  close(): Promise<void>;
}

export async function startBehalf(options: BehalfOptions): Promise<Behalf> {
  const { config } = options;
  const logger = options.logger ?? createJsonLogger({ level: config.logLevel });
  const clock = options.clock ?? systemClock;
  const random = options.random ?? cryptoRandom;
  const dataDir = resolve(config.dataDir);
  mkdirSync(dataDir, { recursive: true, mode: 0o700 });

  const store = config.databaseUrl
    ? await openPostgresStore({ connectionString: config.databaseUrl, clock })
    : openSqliteStore({ filename: join(dataDir, 'behalf.db'), clock });

  let baseUrl = config.publicUrl?.replace(/\/$/, '') ?? '';
  const publicUrl: PublicUrl = () => baseUrl;
  void random;
  void publicUrl;

  // MSAL refuses http: authorities, so Behalf always serves HTTPS: the operator's certificate, or one
  // issued by a local CA kept in the data directory.
  const tls =
    config.tlsCert || config.tlsKey
      ? readTlsFiles({ certificateFile: config.tlsCert, keyFile: config.tlsKey })
      : await ensureTlsMaterial({ dir: join(dataDir, 'tls'), hostNames: [config.host], clock, logger });
  const routes: RouteModule[] = [];
  const http = await createHttpServer({ logger, routes, tls });
  await http.listen({ port: config.port, host: config.bindAddress });
  const address = http.server.address();
  const port = typeof address === 'object' && address ? address.port : config.port;
  if (!config.publicUrl) baseUrl = `https://${config.host}:${port}`;
  logger.info('Behalf is listening', {
    url: baseUrl,
    ...(tls.caCertificatePath ? { trust: `NODE_EXTRA_CA_CERTS=${tls.caCertificatePath}` } : {}),
  });

  return {
    config,
    url: baseUrl,
    caCertificatePath: tls.caCertificatePath,
    store,
    http,
    async close() {
      await http.close();
      await store.close();
    },
  };
}
