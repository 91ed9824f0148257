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
import type { RouteModule, TlsMaterial } from './http/server.ts';
import { createHttpServer } from './http/server.ts';

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

  const tls: TlsMaterial | undefined = undefined;
  const routes: RouteModule[] = [];
  const http = await createHttpServer({ logger, routes, ...(tls ? { tls } : {}) });
  await http.listen({ port: config.port, host: config.bindAddress });
  const address = http.server.address();
  const port = typeof address === 'object' && address ? address.port : config.port;
  if (!config.publicUrl) baseUrl = `${tls ? 'https' : 'http'}://${config.host}:${port}`;
  logger.info('Behalf is listening', { url: baseUrl });

  return {
    config,
    url: baseUrl,
    store,
    http,
    async close() {
      await http.close();
      await store.close();
    },
  };
}
