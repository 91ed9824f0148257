import { Command } from 'commander';
import { registerConnectorCommand } from './commands/connector.ts';
import { registerConnectorMcpCommand } from './commands/connector-mcp.ts';
import { registerProtectCommand } from './commands/protect.ts';
import { registerUpCommand } from './commands/up.ts';
import { registerLoginCommand } from './commands/login.ts';
import { registerTenantCommand } from './commands/tenant.ts';
import { registerUserCommand } from './commands/user.ts';
import { registerGroupCommand } from './commands/group.ts';
import { registerAppCommand } from './commands/app.ts';
import { registerSpCommand } from './commands/sp.ts';
import { registerGrantCommand } from './commands/grant.ts';
import { registerConnectionCommand } from './commands/connection.ts';
import { registerVaultCommand } from './commands/vault.ts';
import { registerAuditCommand } from './commands/audit.ts';
import { registerAgentCommand } from './commands/agent.ts';

/** The `behalf` command. Each sub-command lives in its own file under commands/. */
export function buildProgram(): Command {
  const program = new Command('behalf')
    .description('Call APIs on behalf of the signed-in user.')
    .showHelpAfterError();
  registerUpCommand(program);
  registerLoginCommand(program);
  registerConnectorCommand(program);
  registerConnectorMcpCommand(program);
  registerProtectCommand(program);
  registerTenantCommand(program);
  registerUserCommand(program);
  registerGroupCommand(program);
  registerAppCommand(program);
  registerSpCommand(program);
  registerGrantCommand(program);
  registerConnectionCommand(program);
  registerVaultCommand(program);
  registerAuditCommand(program);
  registerAgentCommand(program);
  return program;
}

await buildProgram().parseAsync(process.argv);
