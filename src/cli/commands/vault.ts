import { join, resolve } from 'node:path';
import { setTimeout } from 'node:timers/promises';
import type { Command } from 'commander';
import { systemClock } from '../../core/clock.ts';
import { ConfigError, envName, flagName, loadConfig } from '../../core/config.ts';
import { createJsonLogger } from '../../core/logger.ts';
import type { Logger } from '../../core/logger.ts';
import { createEnvelope } from '../../crypto/envelope.ts';
import { addMasterKeyVersion, loadMasterKeyRing, MASTER_KEY_FILE } from '../../crypto/master-key.ts';
import type { MasterKeyRing } from '../../crypto/master-key.ts';
import { rotateVault } from '../../connections/vault-rotation.ts';
import { openPostgresStore } from '../../storage/adapters/postgres.ts';
import { openSqliteStore } from '../../storage/adapters/sqlite.ts';
import type { ListableRecordStore } from '../../storage/record-store.ts';
import { printer, table } from '../output.ts';

/** Flags of the commands that work on Behalf's data directly (no running Behalf needed). */
export interface DataFlags {
  dataDir?: string;
  databaseUrl?: string;
  json?: boolean;
}

export interface OpenedData {
  readonly store: ListableRecordStore;
  readonly dataDir: string;
  readonly masterKeyFromConfig: boolean;
  readonly logger: Logger;
  readonly upkeep: StoreUpkeep;
  keyRing(): MasterKeyRing;
}

/**
 * Re-wrapping replaces each value in its row; the database keeps copies of values as they were
 * elsewhere (docs/connections.md, "Copies of old values on disk"). This is how to drop them.
 */
export interface StoreUpkeep {
  /** Where such copies stay until the database is compacted, and what compacting costs. */
  readonly leftovers: string;
  readonly whileCompacting: string;
  /** SQLite: empties the write-ahead log, which holds pages as they were. False if kept from completing. */
  afterRewrap?(): Promise<boolean>;
  /** Rewrites the database's storage (and empties the log, as above, where there is one). */
  compact(): Promise<boolean | undefined>;
}

/** The store and master key ring Behalf itself would open with the same configuration. */
export async function openData(flags: DataFlags): Promise<OpenedData> {
  const config = loadConfig({
    ...(flags.dataDir !== undefined ? { dataDir: flags.dataDir } : {}),
    ...(flags.databaseUrl !== undefined ? { databaseUrl: flags.databaseUrl } : {}),
  });
  const dataDir = resolve(config.dataDir);
  const logger = createJsonLogger({ level: 'warn' });
  const common = {
    dataDir,
    logger,
    masterKeyFromConfig: Boolean(config.masterKey),
    keyRing: () => loadMasterKeyRing({ masterKey: config.masterKey, dataDir, logger }),
  };
  if (config.databaseUrl) {
    const postgres = await openPostgresStore({ connectionString: config.databaseUrl, clock: systemClock });
    return {
      ...common,
      store: postgres,
      upkeep: {
        leftovers: 'in old row versions of the records table',
        whileCompacting: "VACUUM FULL records: every node's use of the store waits while it runs",
        compact: async () => void (await postgres.compact()),
      },
    };
  }
  const sqlite = openSqliteStore({ filename: join(dataDir, 'behalf.db'), clock: systemClock });
  return {
    ...common,
    store: sqlite,
    upkeep: {
      leftovers: 'in unused space inside the pages of behalf.db',
      whileCompacting: "VACUUM: a running Behalf's writes wait while it runs",
      afterRewrap: () => sqlite.checkpointAndTruncateLog(),
      compact: () => sqlite.compact(),
    },
  };
}

/** Where a data command writes and how it exits: the process's, or a test's. */
export interface CommandIo {
  out(text: string): void;
  err(text: string): void;
  exit(code: number): void;
}

const processIo: CommandIo = {
  out: (text) => void process.stdout.write(text),
  err: (text) => void process.stderr.write(text),
  exit: (code) => void (process.exitCode = code),
};

/** Runs a data command: configuration mistakes exit 2, anything else 1, with one line on stderr. */
export async function runDataCommand(work: () => Promise<void>, io: CommandIo = processIo): Promise<void> {
  try {
    await work();
  } catch (error) {
    io.err(`behalf: ${(error as Error).message}\n`);
    io.exit(error instanceof ConfigError ? 2 : 1);
  }
}

const ENV_PROCEDURE =
  `A running Behalf cannot re-read a master key given by configuration (${flagName('masterKey')} / ` +
  `${envName('masterKey')}). Add the new version to it on every node (e.g. "1:<old key>,2:<new key>", ` +
  'the highest version is current), restart the nodes one at a time, then run ' +
  '`behalf vault rotate --rewrap-only`; remove the old version from the configuration only after that ' +
  'reports every value re-wrapped.';

// A running Behalf looks at master.key at most once a second: after this, every process on the data
// directory writes new values under the new version, so the passes below are not chasing new old values.
const SETTLE_MS = 1500;

export function registerVaultCommand(program: Command, io: CommandIo = processIo): void {
  const vault = program
    .command('vault')
    .description(
      'The vault: every token, secret and key Behalf keeps, envelope-encrypted under the master key.',
    );
  vault
    .command('rotate')
    .description(
      'Add a master key version to <dataDir>/master.key and re-wrap every envelope value in the store under ' +
        'it, online: a running Behalf on the same data directory reads the new version from the file within ' +
        'a second, and a value it writes meanwhile is re-read, never overwritten. Then the old version can ' +
        'be removed from the file (a running Behalf keeps it until it restarts). ' +
        ENV_PROCEDURE,
    )
    .option('--data-dir <dir>', 'Behalf data directory')
    .option('--database-url <url>', 'PostgreSQL connection string (default: SQLite in the data directory)')
    .option(
      '--rewrap-only',
      'add no version: re-wrap under the current one (the master key comes from configuration and already has it)',
    )
    .option(
      '--compact',
      'then rewrite the database so that no copy of a value as it was stays in it (SQLite: VACUUM; ' +
        "PostgreSQL: VACUUM FULL records); a running Behalf's use of the store waits while it runs " +
        '(see docs/connections.md)',
    )
    .option('--json', 'machine-readable output')
    .action(async (flags: DataFlags & { rewrapOnly?: boolean; compact?: boolean }) =>
      runDataCommand(async () => {
        const data = await openData(flags);
        try {
          if (!flags.rewrapOnly) {
            if (data.masterKeyFromConfig)
              throw new ConfigError([
                `the master key comes from configuration, so \`behalf vault rotate\` cannot add a version. ${ENV_PROCEDURE}`,
              ]);
            addMasterKeyVersion({ dataDir: data.dataDir, logger: data.logger });
            await setTimeout(SETTLE_MS);
          }
          const ring = data.keyRing();
          const result = await rotateVault({ store: data.store, envelope: createEnvelope(ring) });
          const { upkeep } = data;
          const logEmptied = flags.compact
            ? await upkeep.compact()
            : result.remaining === 0
              ? await upkeep.afterRewrap?.()
              : undefined;
          const older = ring.versions.filter((v) => v !== ring.currentVersion);
          const removable = result.remaining === 0 ? older : [];
          const where = data.masterKeyFromConfig
            ? `the configuration of every node (${envName('masterKey')})`
            : `${join(data.dataDir, MASTER_KEY_FILE)} (a running Behalf keeps it until it restarts)`;
          const rows = Object.entries(result.kinds).map(([kind, counts]) => ({ kind, ...counts }));
          const text =
            `Re-wrapped ${result.values} values in ${result.records} records under master key version ` +
            `${ring.currentVersion}.\n` +
            (rows.length > 0 ? table(rows, ['kind', 'records', 'values', 'remaining']) : '') +
            (result.remaining > 0
              ? `${result.remaining} values are still under another version (see "remaining"): keep every ` +
                'version in the ring; a value under a version the ring lacks cannot be re-wrapped.'
              : removable.length > 0
                ? `Every value is under version ${ring.currentVersion}: version${removable.length > 1 ? 's' : ''} ` +
                  `${removable.join(', ')} can now be removed from ${where}.`
                : `Every value is under version ${ring.currentVersion}.`) +
            (logEmptied === false
              ? '\nAnother process kept the write-ahead log (behalf.db-wal) from being emptied, so it may ' +
                'still hold values as they were before: run this command again with --rewrap-only later.'
              : '') +
            (!flags.compact && result.remaining === 0
              ? `\nCopies of values as they were may remain ${upkeep.leftovers} until the database is ` +
                `compacted: \`behalf vault rotate --rewrap-only --compact\` (${upkeep.whileCompacting}; see ` +
                'docs/connections.md).'
              : '');
          printer(flags.json, io.out).message(text, {
            masterKeyVersion: ring.currentVersion,
            addedVersion: !flags.rewrapOnly,
            ...result,
            removableVersions: removable,
            ...(logEmptied !== undefined ? { writeAheadLogEmptied: logEmptied } : {}),
            compacted: Boolean(flags.compact),
          });
          if (result.remaining > 0) io.exit(1);
        } finally {
          await data.store.close();
        }
      }, io),
    );
}
