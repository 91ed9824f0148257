import type { Command } from 'commander';
import { systemClock } from '../../core/clock.ts';
import { ConfigError } from '../../core/config.ts';
import { cryptoRandom, isGuid } from '../../core/ids.ts';
import { createConnectionRepository } from '../../connections/connection-repository.ts';
import type { ConnectionRecord } from '../../connections/connection-repository.ts';
import { printer } from '../output.ts';
import type { DataFlags } from './vault.ts';
import { openData, runDataCommand } from './vault.ts';

const COLUMNS = ['id', 'connector', 'mode', 'owner', 'state', 'displayName'];

// Only what a person needs to tell connections apart: never a sealed value, not even its ciphertext.
function view(record: ConnectionRecord) {
  const d = record.data;
  return {
    id: d.id,
    tenantId: d.tenantId,
    connector: d.connectorId,
    mode: d.mode,
    owner: d.owner?.userObjectId ?? '',
    state: d.state,
    ...(d.stateReason !== undefined ? { stateReason: d.stateReason } : {}),
    displayName: d.displayName,
    generation: d.generation,
  };
}

const common = (command: Command) =>
  command
    .option('--data-dir <dir>', 'Behalf data directory')
    .option('--database-url <url>', 'PostgreSQL connection string (default: SQLite in the data directory)')
    .option('--json', 'machine-readable output');

export function registerConnectionCommand(program: Command): void {
  const connection = program
    .command('connection')
    .description('Connections of the gateway (read from and written to the data directly).');

  common(connection.command('list').description('List connections'))
    .option('--tenant <id>', 'only this tenant')
    .option('--connector <id>', 'only this connector (needs --tenant)')
    .option('--user <objectId>', "only this user's per-user connections (needs --tenant)")
    .action(async (flags: DataFlags & { tenant?: string; connector?: string; user?: string }) =>
      runDataCommand(async () => {
        if ((flags.connector || flags.user) && !flags.tenant)
          throw new ConfigError(['--connector and --user need --tenant.']);
        const data = await openData(flags);
        try {
          const repo = createConnectionRepository({
            store: data.store,
            clock: systemClock,
            random: cryptoRandom,
          });
          let records: ConnectionRecord[];
          if (flags.user)
            records = await repo.listByOwner({ tenantId: flags.tenant!, userObjectId: flags.user });
          else if (flags.connector) records = await repo.listByConnector(flags.tenant!, flags.connector);
          else {
            records = [];
            for (let after: string | undefined; ;) {
              const page = await repo.listAll(after, 100);
              records.push(...page);
              if (page.length < 100) break;
              after = page[page.length - 1]!.id;
            }
          }
          if (flags.connector && flags.user)
            records = records.filter((r) => r.data.connectorId === flags.connector);
          if (flags.tenant) records = records.filter((r) => r.data.tenantId === flags.tenant);
          printer(flags.json).list(records.map(view), COLUMNS);
        } finally {
          await data.store.close();
        }
      }),
    );

  common(connection.command('create').description('Create a shared (app-only) connection'))
    .requiredOption('--tenant <id>', 'the tenant id')
    .requiredOption('--connector <id>', 'the connector id')
    .option('--name <displayName>', 'display name')
    .action(async (flags: DataFlags & { tenant: string; connector: string; name?: string }) =>
      runDataCommand(async () => {
        if (!isGuid(flags.tenant))
          throw new ConfigError([`--tenant '${flags.tenant}' is not a tenant id (GUID).`]);
        const data = await openData(flags);
        try {
          const repo = createConnectionRepository({
            store: data.store,
            clock: systemClock,
            random: cryptoRandom,
          });
          // Per-user connections are made by their owner (consent link or SSO), never on someone's behalf.
          const created = await repo.create({
            tenantId: flags.tenant,
            connectorId: flags.connector,
            mode: 'shared',
            createdBy: 'behalf-cli',
            ...(flags.name !== undefined ? { displayName: flags.name } : {}),
          });
          printer(flags.json).item(view(created), ['id', 'connector', 'mode', 'state', 'displayName']);
        } finally {
          await data.store.close();
        }
      }),
    );

  common(connection.command('delete').description('Delete a connection and its tokens'))
    .argument('<id>', 'connection id')
    .action(async (id: string, flags: DataFlags) =>
      runDataCommand(async () => {
        const data = await openData(flags);
        try {
          const repo = createConnectionRepository({
            store: data.store,
            clock: systemClock,
            random: cryptoRandom,
          });
          if (!(await repo.delete(id))) throw new Error(`No connection '${id}'.`);
          printer(flags.json).message(`Deleted connection ${id}.`, { deleted: id });
        } finally {
          await data.store.close();
        }
      }),
    );
}
