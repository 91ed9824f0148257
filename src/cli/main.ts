import { Command } from 'commander';
import { registerConnectorCommand } from './commands/connector.ts';
import { registerProtectCommand } from './commands/protect.ts';
import { registerUpCommand } from './commands/up.ts';

/** The `behalf` command. Each sub-command lives in its own file under commands/. */
export function buildProgram(): Command {
  const program = new Command('behalf')
    .description('Call APIs on behalf of the signed-in user.')
    .showHelpAfterError();
  registerUpCommand(program);
  registerConnectorCommand(program);
  registerProtectCommand(program);
  return program;
}

await buildProgram().parseAsync(process.argv);
