import type { Command } from 'commander';
import type { CommanderError } from 'commander';
import type { ConnectionFlags, GraphClient } from './api-client.ts';
import { ApiError, UsageError, connect } from './api-client.ts';
import type { Printer } from './output.ts';
import { printer } from './output.ts';

/** Exit codes scripts can rely on. */
export const EXIT = { ok: 0, api: 1, usage: 2 } as const;

/** The flags every directory command shares. */
export function withConnection(cmd: Command): Command {
  return cmd
    .option('--json', 'print JSON (the API objects) instead of tables')
    .option('--tenant <idOrDomain>', 'act in this tenant (default: the credential’s tenant)')
    .option(
      '--data-dir <dir>',
      'data directory holding admin-credential.json and tls/ca.pem (or BEHALF_DATA_DIR)',
    )
    .option('--authority <url>', 'https://host/{tenant} (or BEHALF_AUTHORITY)')
    .option('--client-id <id>', 'administrator client id (or BEHALF_CLIENT_ID)')
    .option('--client-secret <secret>', 'administrator client secret (or BEHALF_CLIENT_SECRET)');
}

/** A command group: usage errors exit 2 (commander's default is 1, which scripts read as "API said no"). */
export function group(program: Command, name: string, description: string): Command {
  const cmd = program.command(name).description(description);
  cmd.exitOverride((error: CommanderError) => {
    if (
      error.code === 'commander.helpDisplayed' ||
      error.code === 'commander.help' ||
      error.code === 'commander.version'
    )
      process.exit(EXIT.ok);
    process.exit(EXIT.usage);
  });
  return cmd;
}

export interface Run {
  readonly api: GraphClient;
  readonly out: Printer;
  readonly json: boolean;
}

/**
 * Runs a command's action with a connected client; maps failures to messages and exit codes. Commander
 * calls actions with (…arguments, options, command); `work` receives (…arguments, options).
 */
export function action<A extends unknown[]>(
  work: (run: Run, ...args: A) => Promise<void>,
): (...args: [...A, Command]) => Promise<void> {
  return async (...args) => {
    const command = args[args.length - 1] as Command;
    const flags = command.optsWithGlobals() as ConnectionFlags;
    let api: GraphClient | undefined;
    try {
      api = connect(flags);
      await work(
        { api, out: printer(flags.json), json: flags.json === true },
        ...(args.slice(0, -1) as unknown as A),
      );
    } catch (error) {
      if (error instanceof UsageError) {
        process.stderr.write(`behalf: ${error.message}\n`);
        process.exitCode = EXIT.usage;
      } else if (error instanceof ApiError) {
        process.stderr.write(
          flags.json
            ? JSON.stringify({ error: { code: error.code, message: error.message } }) + '\n'
            : `behalf: ${error.code}: ${error.message}\n`,
        );
        process.exitCode = EXIT.api;
      } else throw error;
    } finally {
      await api?.close();
    }
  };
}

/** Collects a repeatable option into an array. */
export function collect(value: string, previous: string[] = []): string[] {
  return [...previous, value];
}
