import type { Command } from 'commander';
import { systemClock } from '../../core/clock.ts';
import { ConfigError } from '../../core/config.ts';
import { cryptoRandom } from '../../core/ids.ts';
import { createAuditLog } from '../../connections/audit-log.ts';
import type { AuditEntry } from '../../connections/audit-log.ts';
import { printer } from '../output.ts';
import type { DataFlags } from './vault.ts';
import { openData, runDataCommand } from './vault.ts';

const COLUMNS = [
  'time',
  'caller',
  'connector',
  'operation',
  'mode',
  'outcome',
  'status',
  'ms',
  'correlationId',
];

// `--since 1h` or an ISO time: the common question is "what happened in the last hour".
const UNITS: Readonly<Record<string, number>> = { s: 1_000, m: 60_000, h: 3_600_000, d: 86_400_000 };
function sinceTime(value: string, now: number): string {
  const relative = /^(\d+)([smhd])$/.exec(value);
  if (relative) return new Date(now - Number(relative[1]) * UNITS[relative[2]!]!).toISOString();
  if (Number.isNaN(Date.parse(value)))
    throw new ConfigError([`--since '${value}' is neither an ISO time nor a duration like 30m, 2h or 7d.`]);
  return new Date(value).toISOString();
}

function row(entry: AuditEntry) {
  return {
    time: entry.time,
    caller: entry.callerUpn ?? entry.callerObjectId,
    connector: entry.connectorId,
    operation: entry.operationId,
    mode: entry.mode ?? '',
    outcome: entry.outcome,
    status: entry.upstreamStatus ?? '',
    ms: Math.round(entry.durationMs),
    correlationId: entry.correlationId,
  };
}

export function registerAuditCommand(program: Command): void {
  program
    .command('audit')
    .description('Operation calls through the gateway, newest first (read from the data directly).')
    .option('--data-dir <dir>', 'Behalf data directory')
    .option('--database-url <url>', 'PostgreSQL connection string (default: SQLite in the data directory)')
    .option('--user <user>', "the caller's object id or user principal name")
    .option('--connector <id>', 'only calls of this connector')
    .option('--since <time>', 'ISO time or a duration back from now (30m, 2h, 7d)')
    .option('--limit <n>', 'at most this many entries (1-500)', '50')
    .option('--json', 'machine-readable output (every field)')
    .action(async (flags: DataFlags & { user?: string; connector?: string; since?: string; limit: string }) =>
      runDataCommand(async () => {
        const limit = Number(flags.limit);
        if (!Number.isInteger(limit) || limit < 1 || limit > 500)
          throw new ConfigError([`--limit '${flags.limit}' must be an integer from 1 to 500.`]);
        const since = flags.since !== undefined ? sinceTime(flags.since, Date.now()) : undefined;
        const data = await openData(flags);
        try {
          const audit = createAuditLog({ store: data.store, clock: systemClock, random: cryptoRandom });
          const byUpn = flags.user?.includes('@') ? flags.user.toLowerCase() : undefined;
          const entries: AuditEntry[] = [];
          let before: string | undefined;
          // A UPN is not indexed: page through the (connector/time-filtered) entries until enough match.
          for (let pages = 0; entries.length < limit && pages < 20; pages++) {
            const page = await audit.query({
              ...(flags.user !== undefined && !byUpn ? { callerObjectId: flags.user } : {}),
              ...(flags.connector !== undefined ? { connectorId: flags.connector } : {}),
              ...(since !== undefined ? { since } : {}),
              ...(before !== undefined ? { before } : {}),
              limit: byUpn ? 500 : limit,
            });
            entries.push(...page.entries.filter((e) => !byUpn || e.callerUpn?.toLowerCase() === byUpn));
            if (!page.next) break;
            before = page.next;
          }
          const shown = entries.slice(0, limit);
          if (flags.json) process.stdout.write(JSON.stringify(shown, null, 2) + '\n');
          else printer(false).list(shown.map(row), COLUMNS);
        } finally {
          await data.store.close();
        }
      }),
    );
}
