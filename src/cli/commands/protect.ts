import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Command } from 'commander';
import { Option } from 'commander';
import { createJsonLogger } from '../../core/logger.ts';
import { startReverseProxy } from '../../easyauth/index.ts';
import type { ReverseProxyOptions, UnauthenticatedAction } from '../../easyauth/index.ts';

/**
 * `behalf protect`: Easy Auth as a reverse proxy in front of an app in any language.
 *   behalf protect --upstream http://127.0.0.1:3000 --port 8443 --client-id <appId> --authority https://localhost:7443/<tenant>
 * Secrets come from the environment (BEHALF_PROTECT_CLIENT_SECRET, BEHALF_PROTECT_SESSION_KEY) so they
 * do not show in the process list.
 */
interface ProtectFlags {
  upstream: string;
  port: string;
  host: string;
  clientId: string;
  authority: string;
  audience: string[];
  allowedTenant: string[];
  unauthenticatedAction: UnauthenticatedAction;
  scope: string[];
  role: string[];
  corsOrigin: string[];
  forwardAccessToken?: boolean;
  ca?: string;
  tlsCert?: string;
  tlsKey?: string;
  dataDir: string;
}

const collect = (value: string, previous: string[]) => [...previous, value];

export function registerProtectCommand(program: Command): void {
  program
    .command('protect')
    .description(
      'Put Easy Auth in front of any HTTP app: validate tokens, sign browsers in, pass the identity headers.',
    )
    .requiredOption('--upstream <url>', 'the app to protect, e.g. http://127.0.0.1:3000')
    .option('--port <port>', 'port to listen on', '8443')
    .option('--host <address>', 'address to listen on', '127.0.0.1')
    .requiredOption(
      '--client-id <appId>',
      "the API's app registration (accepted as token audience; signs browsers in)",
    )
    .option('--authority <url>', 'the identity provider and tenant', 'https://localhost:7443/common')
    .option('--audience <aud>', 'another accepted audience, e.g. an identifier URI (repeatable)', collect, [])
    .option(
      '--allowed-tenant <tid>',
      'with a multi-tenant authority: a tenant allowed to call (repeatable)',
      collect,
      [],
    )
    .addOption(
      new Option('--unauthenticated-action <action>', 'what requests without credentials get')
        .choices(['401', '302', '403', '404', 'allow'])
        .default('401'),
    )
    .option(
      '--scope <scope>',
      'a delegated scope every user caller must hold (any of; repeatable)',
      collect,
      [],
    )
    .option('--role <role>', 'an app role every app-only caller must hold (any of; repeatable)', collect, [])
    .option('--cors-origin <origin>', 'an origin allowed by CORS (repeatable)', collect, [])
    .option('--forward-access-token', 'pass the token to the app in X-MS-TOKEN-AAD-ACCESS-TOKEN')
    .option(
      '--ca <file>',
      "PEM CA to trust for the authority's HTTPS (default: Behalf's local CA if present)",
    )
    .option('--tls-cert <file>', 'serve HTTPS with this certificate chain (PEM)')
    .option('--tls-key <file>', 'the private key of --tls-cert (PEM)')
    .option('--data-dir <dir>', "Behalf's data directory, where the local CA is", './.behalf')
    .action(async (flags: ProtectFlags) => {
      const logger = createJsonLogger({ level: 'info' });
      const caFile = flags.ca ?? join(flags.dataDir, 'tls', 'ca.pem');
      const ca = existsSync(caFile) ? readFileSync(caFile, 'utf8') : undefined;
      if (flags.ca && !ca) throw new Error(`--ca ${flags.ca}: no such file`);
      if (!!flags.tlsCert !== !!flags.tlsKey) throw new Error('--tls-cert and --tls-key go together');
      const clientSecret = process.env['BEHALF_PROTECT_CLIENT_SECRET'];
      const sessionKey = process.env['BEHALF_PROTECT_SESSION_KEY'];
      const requirement =
        flags.scope.length + flags.role.length > 0 ? { scopes: flags.scope, roles: flags.role } : undefined;
      const options: ReverseProxyOptions = {
        upstream: flags.upstream,
        port: Number(flags.port),
        host: flags.host,
        authority: flags.authority,
        audiences: [flags.clientId, ...flags.audience],
        unauthenticatedAction: flags.unauthenticatedAction,
        logger,
        ...(flags.allowedTenant.length ? { allowedTenants: flags.allowedTenant } : {}),
        ...(requirement ? { requirement } : {}),
        ...(flags.corsOrigin.length ? { cors: { allowedOrigins: flags.corsOrigin } } : {}),
        ...(flags.forwardAccessToken ? { forwardAccessToken: true } : {}),
        ...(ca ? { ca } : {}),
        ...(flags.tlsCert && flags.tlsKey
          ? { tls: { cert: readFileSync(flags.tlsCert, 'utf8'), key: readFileSync(flags.tlsKey, 'utf8') } }
          : {}),
        // Browser sign-in needs a stable session key; without one only bearer tokens are accepted.
        ...(sessionKey
          ? { login: { clientId: flags.clientId, sessionKey, ...(clientSecret ? { clientSecret } : {}) } }
          : {}),
      };
      const proxy = await startReverseProxy(options);
      process.stdout.write(`Easy Auth is protecting ${flags.upstream} at ${proxy.url}\n`);
      const stop = () => {
        void proxy.close().then(() => process.exit(0));
      };
      process.once('SIGINT', stop);
      process.once('SIGTERM', stop);
    });
}
