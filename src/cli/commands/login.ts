import { existsSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import type { Command } from 'commander';
import { Agent, request } from 'undici';
import type { Dispatcher } from 'undici';
import { BEHALF_CLI_APP_ID } from '../demo/demo-tenant.ts';
import { DEMO_FILE, readDemoFile, writePrivate } from '../demo/setup.ts';

/**
 * `behalf login`: the device code flow (RFC 8628) with the Behalf CLI public client, so the CLI acts as
 * the signed-in administrator rather than with the built-in admin app's secret. It prints Entra's
 * message (open /devicelogin, type the code), polls the token endpoint, and keeps the tokens in
 * `<dataDir>/login.json` (mode 0600; the management commands may read `accessToken` from it).
 */
export const LOGIN_FILE = 'login.json';

export interface StoredLogin {
  authority: string;
  tenantId: string;
  clientId: string;
  username: string | undefined;
  scope: string;
  accessToken: string;
  refreshToken: string | undefined;
  /** Epoch seconds. */
  expiresOn: number;
}

// Graph's delegated directory permission (admin consent): the management API accepts it for every
// operation, and for writes only when the signed-in user administers the tenant.
const DEFAULT_SCOPE = 'https://graph.microsoft.com/Directory.ReadWrite.All openid profile offline_access';

interface LoginFlags {
  dataDir?: string;
  authority?: string;
  clientId?: string;
  scope?: string;
}

function defaultAuthority(dataDir: string): string | undefined {
  const demo = readDemoFile(join(dataDir, DEMO_FILE));
  if (demo) return demo.authority;
  const credential = join(dataDir, 'admin-credential.json');
  if (!existsSync(credential)) return undefined;
  try {
    return (JSON.parse(readFileSync(credential, 'utf8')) as { authority?: string }).authority;
  } catch {
    return undefined;
  }
}

async function postForm(url: string, form: Record<string, string>, dispatcher: Dispatcher | undefined) {
  const response = await request(url, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams(form).toString(),
    ...(dispatcher ? { dispatcher } : {}),
  });
  const text = await response.body.text();
  let body: Record<string, unknown>;
  try {
    body = JSON.parse(text) as Record<string, unknown>;
  } catch {
    body = { error: 'invalid_response', error_description: text.slice(0, 200) };
  }
  return { status: response.statusCode, body };
}

function usernameOf(idToken: unknown): string | undefined {
  if (typeof idToken !== 'string') return undefined;
  try {
    const claims = JSON.parse(Buffer.from(idToken.split('.')[1] ?? '', 'base64url').toString('utf8')) as {
      preferred_username?: string;
    };
    return claims.preferred_username;
  } catch {
    return undefined;
  }
}

export function registerLoginCommand(program: Command): void {
  program
    .command('login')
    .description('Sign in as a user (device code flow) so the CLI acts as that administrator.')
    .option('--data-dir <dir>', 'Behalf data directory (tokens are kept here)')
    .option('--authority <url>', 'https://host/{tenant}[/v2.0]; defaults to the demo tenant')
    .option('--client-id <appId>', 'public client to sign in with', BEHALF_CLI_APP_ID)
    .option('--scope <scopes>', 'scopes to request', DEFAULT_SCOPE)
    .action(async (flags: LoginFlags) => {
      const dataDir = resolve(flags.dataDir ?? process.env.BEHALF_DATA_DIR ?? './.behalf');
      const authority = flags.authority ?? process.env.BEHALF_AUTHORITY ?? defaultAuthority(dataDir);
      if (!authority) {
        process.stderr.write('No authority: start Behalf (behalf up --demo) or pass --authority.\n');
        process.exitCode = 2;
        return;
      }
      const url = new URL(authority);
      const tenant = url.pathname.split('/').find((s) => s !== '' && s !== 'v2.0');
      if (!tenant) {
        process.stderr.write(`--authority '${authority}' names no tenant.\n`);
        process.exitCode = 2;
        return;
      }
      const caFile = join(dataDir, 'tls', 'ca.pem');
      const dispatcher = existsSync(caFile)
        ? new Agent({ connect: { ca: readFileSync(caFile, 'utf8') } })
        : undefined;
      try {
        const clientId = flags.clientId ?? BEHALF_CLI_APP_ID;
        const scope = flags.scope ?? DEFAULT_SCOPE;
        const base = `${url.origin}/${tenant}/oauth2/v2.0`;
        const started = await postForm(`${base}/devicecode`, { client_id: clientId, scope }, dispatcher);
        if (started.status !== 200) {
          process.stderr.write(
            `${String(started.body.error_description ?? started.body.error).split('\r\n')[0]}\n`,
          );
          process.exitCode = 1;
          return;
        }
        process.stderr.write(`${String(started.body.message)}\n`);
        const interval = Number(started.body.interval ?? 5) * 1000;
        const deadline = Date.now() + Number(started.body.expires_in ?? 900) * 1000;
        while (Date.now() < deadline) {
          await sleep(interval);
          const polled = await postForm(
            `${base}/token`,
            {
              grant_type: 'urn:ietf:params:oauth:grant-type:device_code',
              client_id: clientId,
              device_code: String(started.body.device_code),
            },
            dispatcher,
          );
          if (polled.body.error === 'authorization_pending') continue;
          if (polled.status !== 200 || typeof polled.body.access_token !== 'string') {
            process.stderr.write(
              `Sign-in failed: ${String(polled.body.error_description ?? polled.body.error).split('\r\n')[0]}\n`,
            );
            process.exitCode = 1;
            return;
          }
          const login: StoredLogin = {
            authority: `${url.origin}/${tenant}/v2.0`,
            tenantId: tenant,
            clientId,
            username: usernameOf(polled.body.id_token),
            scope: String(polled.body.scope ?? scope),
            accessToken: polled.body.access_token,
            refreshToken:
              typeof polled.body.refresh_token === 'string' ? polled.body.refresh_token : undefined,
            expiresOn: Math.floor(Date.now() / 1000) + Number(polled.body.expires_in ?? 3600),
          };
          writePrivate(join(dataDir, LOGIN_FILE), JSON.stringify(login, null, 2) + '\n');
          process.stdout.write(
            `Signed in as ${login.username ?? 'the user'}; tokens in ${join(dataDir, LOGIN_FILE)}\n`,
          );
          return;
        }
        process.stderr.write('The code expired before anyone signed in.\n');
        process.exitCode = 1;
      } finally {
        await dispatcher?.close();
      }
    });
}
