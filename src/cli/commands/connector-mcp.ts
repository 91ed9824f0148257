import type { Command } from 'commander';
import { UsageError } from '../api-client.ts';
import { action, collect, withConnection } from '../directory-command.ts';

// GraphClient.call prefixes /v1.0.
const PATH = '/behalf/connectors/mcp';
const AUTH = ['none', 'apikey', 'oauth'] as const;

interface AddMcpFlags {
  auth: string;
  name?: string;
  description?: string;
  keyName?: string;
  keyIn?: string;
  key?: string;
  oauthClientId?: string;
  oauthClientSecret?: string;
  scope?: string[];
  authorizationUrl?: string;
  tokenUrl?: string;
  refreshUrl?: string;
}

function authBody(flags: AddMcpFlags, env: NodeJS.ProcessEnv): Record<string, unknown> {
  const auth = flags.auth.toLowerCase();
  if (!(AUTH as readonly string[]).includes(auth))
    throw new UsageError(`--auth must be one of ${AUTH.join(', ')} (got ${flags.auth}).`);
  if (auth !== 'apikey' && (flags.key ?? flags.keyName ?? flags.keyIn) !== undefined)
    throw new UsageError('--key, --key-name and --key-in go with --auth apikey.');
  const oauthFlags = [flags.oauthClientId, flags.oauthClientSecret, flags.authorizationUrl, flags.tokenUrl];
  if (auth !== 'oauth' && (oauthFlags.some((f) => f !== undefined) || flags.scope))
    throw new UsageError(
      '--oauth-client-id, --oauth-client-secret, --scope and the URLs go with --auth oauth.',
    );
  if (auth === 'none') return { type: 'none' };
  if (auth === 'apikey') {
    const value = flags.key ?? env.BEHALF_MCP_API_KEY;
    return {
      type: 'apiKey',
      ...(flags.keyIn !== undefined ? { in: flags.keyIn } : {}),
      ...(flags.keyName !== undefined ? { name: flags.keyName } : {}),
      ...(value !== undefined ? { value } : {}),
    };
  }
  const secret = flags.oauthClientSecret ?? env.BEHALF_MCP_CLIENT_SECRET;
  return {
    type: 'oauth',
    ...(flags.oauthClientId !== undefined ? { clientId: flags.oauthClientId } : {}),
    ...(secret !== undefined ? { clientSecret: secret } : {}),
    ...(flags.scope ? { scopes: flags.scope } : {}),
    ...(flags.authorizationUrl !== undefined ? { authorizationUrl: flags.authorizationUrl } : {}),
    ...(flags.tokenUrl !== undefined ? { tokenUrl: flags.tokenUrl } : {}),
    ...(flags.refreshUrl !== undefined ? { refreshUrl: flags.refreshUrl } : {}),
  };
}

/**
 * `behalf connector add-mcp <url>`: registers an external Streamable HTTP MCP server as a connector,
 * as Copilot Studio's MCP onboarding wizard does (server URL, name, description; auth none, API key or
 * OAuth 2.0 with discovery and dynamic registration, or a client given here). Secrets may come from
 * BEHALF_MCP_API_KEY and BEHALF_MCP_CLIENT_SECRET instead of the command line.
 */
export function registerConnectorMcpCommand(program: Command): void {
  const connector =
    program.commands.find((c) => c.name() === 'connector') ??
    program.command('connector').description('Connectors.');
  withConnection(
    connector
      .command('add-mcp <url>')
      .description(
        'Register an external Streamable HTTP MCP server as a connector; its tools become agent tools.',
      )
      .requiredOption('--auth <type>', `authentication: ${AUTH.join(' | ')}`)
      .option('--name <text>', 'display name (default: the server’s own name)')
      .option('--description <text>', 'what the server is for (agents read it to choose tools)')
      .option('--key-name <name>', 'apikey: the header or query parameter name (default X-API-Key)')
      .option('--key-in <where>', 'apikey: header (default) or query')
      .option('--key <value>', 'apikey: a key for a shared connection everyone uses (or BEHALF_MCP_API_KEY)')
      .option('--oauth-client-id <id>', 'oauth: a client registered with the server’s authorization server')
      .option('--oauth-client-secret <secret>', 'oauth: its secret (or BEHALF_MCP_CLIENT_SECRET)')
      .option(
        '--scope <scope>',
        'oauth: a scope to ask for (repeatable; default: what the server publishes)',
        collect,
      )
      .option('--authorization-url <url>', 'oauth: authorization endpoint (default: discovered)')
      .option('--token-url <url>', 'oauth: token endpoint (default: discovered)')
      .option('--refresh-url <url>', 'oauth: refresh endpoint (default: the token endpoint)'),
  ).action(
    action(async ({ api, out, json }, url: string, flags: AddMcpFlags) => {
      const body = {
        url,
        ...(flags.name !== undefined ? { displayName: flags.name } : {}),
        ...(flags.description !== undefined ? { description: flags.description } : {}),
        auth: authBody(flags, process.env),
      };
      const created = await api.call<Record<string, unknown> & { mcp: Record<string, unknown> }>(
        'POST',
        PATH,
        body,
      );
      if (json) return out.item(created, []);
      const mcp = created.mcp as {
        connectorId: string;
        displayName: string;
        auth: {
          type: string;
          identityProvider?: string;
          clientId?: string;
          dynamicClientRegistration?: boolean;
        };
        connectionId?: string;
        tools?: { name: string }[];
      };
      out.item(
        {
          id: mcp.connectorId,
          displayName: mcp.displayName,
          auth: mcp.auth.identityProvider ? `${mcp.auth.type} (${mcp.auth.identityProvider})` : mcp.auth.type,
          clientId: mcp.auth.clientId,
          dynamicRegistration: mcp.auth.dynamicClientRegistration,
          redirectUrl: created['redirectUrl'],
          sharedConnection: mcp.connectionId,
          tools: mcp.tools?.map((t) => t.name),
        },
        [
          'id',
          'displayName',
          'auth',
          'clientId',
          'dynamicRegistration',
          'redirectUrl',
          'sharedConnection',
          'tools',
        ],
      );
    }),
  );
}
