import { join, resolve } from 'node:path';
import type { Command } from 'commander';
import { Option } from 'commander';
import { ConfigError, SETTINGS, flagName, loadConfig } from '../../core/config.ts';
import type { DemoApis } from '../../../examples/demo-apis.ts';
import { demoApiApps, ensureDemoGrants, startDemoApisFor } from '../demo/demo-apis.ts';
import { DEMO_FILE, ensureDemoTenant, writePrivate } from '../demo/setup.ts';
import { welcomeText } from '../demo/welcome.ts';
import { ensureDemoAgent } from '../demo/demo-agent.ts';
import { cryptoRandom } from '../../core/ids.ts';
import { createJsonLogger } from '../../core/logger.ts';

/**
 * `behalf up`: every configuration setting is also a flag of this command. With `--demo` (what
 * `npm start` runs) the Contoso tenant is created or found again and a welcome is printed.
 */
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
    const logger = createJsonLogger({ level: config.logLevel });
    // Loaded here, not at the top: every other `behalf` command would otherwise pay for loading the
    // whole server (seconds on a busy machine) just to parse its arguments.
    const { startBehalf } = await import('../../main.ts');
    const behalf = await startBehalf({ config, logger });
    let demoApis: DemoApis | undefined;
    let stopping = false;
    const stop = (signal: string) => {
      if (stopping) return;
      stopping = true;
      logger.info('stopping', { signal });
      Promise.all([behalf.close(), demoApis?.close()]).then(
        () => process.exit(0),
        (error: unknown) => {
          logger.error('shutdown failed', { error });
          process.exit(1);
        },
      );
    };
    process.once('SIGINT', () => stop('SIGINT'));
    process.once('SIGTERM', () => stop('SIGTERM'));

    if (config.demo) {
      const dataDir = resolve(config.dataDir);
      const demo = await ensureDemoTenant({
        directory: behalf.directory,
        administrators: behalf.administrators,
        random: cryptoRandom,
        logger,
        baseUrl: behalf.url,
        dataDir,
        caCertificatePath: behalf.caCertificatePath,
        adminApp: {
          appId: behalf.adminCredential.clientId,
          clientSecret: behalf.adminCredential.clientSecret,
        },
        extraApps: demoApiApps(),
      });
      await ensureDemoGrants(behalf.directory, demo.tenantId);
      try {
        demoApis = await startDemoApisFor({
          config,
          dataDir,
          baseUrl: behalf.url,
          tenantId: demo.tenantId,
          caCertificatePath: behalf.caCertificatePath,
        });
        demo.urls.mailApi = demoApis.urls.mailApi;
        demo.urls.resourceManagerApi = demoApis.urls.resourceManagerApi;
        try {
          Object.assign(
            demo.urls,
            await ensureDemoAgent({
              behalf,
              tenantId: demo.tenantId,
              mailApiUrl: demoApis.urls.mailApi,
              connectorSecret: demo.apps['Contoso Mail Connector']?.clientSecret,
            }),
          );
        } catch (error) {
          logger.warn('the demo agent could not be set up; Behalf runs without it', { error });
        }
        writePrivate(join(dataDir, DEMO_FILE), JSON.stringify(demo, null, 2) + '\n');
      } catch (error) {
        // A taken port (a second Behalf, another service) must not cost the newcomer the sign-in demo.
        logger.warn('the demo APIs did not start; Behalf runs without them', { error });
      }
      process.stdout.write(welcomeText(demo, join(dataDir, DEMO_FILE)) + '\n');
      return;
    }
    process.stdout.write(
      [
        `Behalf is up at ${behalf.url}`,
        `  Administrator credential (client credentials for the management API): ${join(resolve(config.dataDir), 'admin-credential.json')}`,
        ...(behalf.caCertificatePath
          ? [`  Trust the local CA: export NODE_EXTRA_CA_CERTS=${behalf.caCertificatePath}`]
          : []),
        '',
      ].join('\n'),
    );
  });
}
