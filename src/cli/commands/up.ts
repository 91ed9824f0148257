import type { Command } from 'commander';
import { Option } from 'commander';
import { ConfigError, SETTINGS, flagName, loadConfig } from '../../core/config.ts';
import { startBehalf } from '../../main.ts';

/** `behalf up`: every configuration setting is also a flag of this command. */
export function registerUpCommand(program: Command): void {
  const up = program
    .command('up')
    .description('Start Behalf (identity provider, management API, gateway, console) in one process.');
  for (const [key, setting] of Object.entries(SETTINGS)) {
    const isBoolean = setting.default === false;
    up.addOption(new Option(isBoolean ? flagName(key) : `${flagName(key)} <value>`, setting.doc));
  }
  up.action(async (flags: Record<string, unknown>) => {
    let config;
    try {
      config = loadConfig(flags);
    } catch (error) {
      if (error instanceof ConfigError) {
        process.stderr.write(error.message + '\n');
        process.exitCode = 2;
        return;
      }
      throw error;
    }
    const behalf = await startBehalf({ config });
    process.stdout.write(`Behalf is up at ${behalf.url}\n`);
    const stop = () => {
      void behalf.close().then(() => process.exit(0));
    };
    process.once('SIGINT', stop);
    process.once('SIGTERM', stop);
  });
}
