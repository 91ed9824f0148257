import { join, resolve } from 'node:path';
import type { Command } from 'commander';
import { systemClock } from '../../core/clock.ts';
import { ConfigError, loadConfig } from '../../core/config.ts';
import { cryptoRandom } from '../../core/ids.ts';
import { createJsonLogger } from '../../core/logger.ts';
import type { Logger } from '../../core/logger.ts';
import { createEnvelope } from '../../crypto/envelope.ts';
import { addMasterKeyVersion, loadMasterKeyRing } from '../../crypto/master-key.ts';
import type { MasterKeyRing } from '../../crypto/master-key.ts';
import { rotateVault } from '../../connections/vault-rotation.ts';
import { openPostgresStore } from '../../storage/adapters/postgres.ts';
import { openSqliteStore } from '../../storage/adapters/sqlite.ts';
import type { RecordStore } from '../../storage/record-store.ts';
import { printer } from '../output.ts';

/** Flags of the commands that work on Behalf's data directly (no running Behalf needed). */
export interface DataFlags {
  dataDir?: string;
  databaseUrl?: string;
  json?: boolean;
}

export interface OpenedData {
  readonly store: RecordStore;
  readonly dataDir: string;
  readonly masterKeyFromConfig: boolean;
  readonly logger: Logger;
  keyRing(): MasterKeyRing;
}

/** The store and master key ring Behalf itself would open with the same configuration. */
export async function openData(flags: DataFlags): Promise<OpenedData> {
  const config = loadConfig({
    ...(flags.dataDir !== undefined ? { dataDir: flags.dataDir } : {}),
    ...(flags.databaseUrl !== undefined ? { databaseUrl: flags.databaseUrl } : {}),
  });
  const dataDir = resolve(config.dataDir);
  const logger = createJsonLogger({ level: 'warn' });
  const store = config.databaseUrl
    ? await openPostgresStore({ connectionString: config.databaseUrl, clock: systemClock })
    : openSqliteStore({ filename: join(dataDir, 'behalf.db'), clock: systemClock });
  return {
    store,
    dataDir,
    logger,
    masterKeyFromConfig: Boolean(config.masterKey),
    keyRing: () => loadMasterKeyRing({ masterKey: config.masterKey, dataDir, logger }),
  };
}

/** Runs a data command: configuration mistakes exit 2, anything else 1, with one line on stderr. */
export async function runDataCommand(work: () => Promise<void>): Promise<void> {
  try {
    await work();
  } catch (error) {
    process.stderr.write(`behalf: ${(error as Error).message}\n`);
    process.exitCode = error instanceof ConfigError ? 2 : 1;
  }
}

export function registerVaultCommand(program: Command): void {
  const vault = program.command('vault').description('The vault of connection tokens and secrets.');
  vault
    .command('rotate')
    .description(
      'Add a master key version and re-wrap every vault value under it. Run it while Behalf is stopped ' +
        '(a running Behalf does not know the new version until it restarts).',
    )
    .option('--data-dir <dir>', 'Behalf data directory')
    .option('--database-url <url>', 'PostgreSQL connection string (default: SQLite in the data directory)')
    .option(
      '--rewrap-only',
      'do not add a version (the master key comes from configuration and already has it)',
    )
    .option('--json', 'machine-readable output')
    .action(async (flags: DataFlags & { rewrapOnly?: boolean }) =>
      runDataCommand(async () => {
        const data = await openData(flags);
        try {
          if (!flags.rewrapOnly) {
            if (data.masterKeyFromConfig)
              throw new ConfigError([
                'The master key comes from configuration: add the new version there, then run `behalf vault rotate --rewrap-only`.',
              ]);
            addMasterKeyVersion({ dataDir: data.dataDir, logger: data.logger });
          }
          const ring = data.keyRing();
          const result = await rotateVault({
            store: data.store,
            envelope: createEnvelope(ring),
            clock: systemClock,
            random: cryptoRandom,
          });
          printer(flags.json).message(
            `Re-wrapped ${result.values} values of ${result.connections} connections and ` +
              `${result.gatewaySecrets} gateway secrets under master key version ${ring.currentVersion}.`,
            { ...result, masterKeyVersion: ring.currentVersion },
          );
        } finally {
          await data.store.close();
        }
      }),
    );
}
