import { randomBytes } from 'node:crypto';
import type { Command } from 'commander';
import { action, group, withConnection } from '../directory-command.ts';
import { resolveUser } from '../directory-resolve.ts';

const COLUMNS = ['userPrincipalName', 'displayName', 'id', 'accountEnabled'];
const FIELDS = ['userPrincipalName', 'displayName', 'id', 'mail', 'accountEnabled'];

/** `behalf user …` */
export function registerUserCommand(program: Command): void {
  const user = group(program, 'user', 'Create and manage users.');

  withConnection(user.command('list').description('List users')).action(
    action(async ({ api, out }) => out.list(await api.list('/users'), COLUMNS)),
  );

  withConnection(
    user.command('show <user>').description('Show a user (object id or userPrincipalName)'),
  ).action(
    action(async ({ api, out }, reference: string) => out.item(await resolveUser(api, reference), FIELDS)),
  );

  withConnection(user.command('create <userPrincipalName>').description('Create a user'))
    .option('--display-name <name>', 'display name (default: the alias)')
    .option(
      '--password <password>',
      'initial password (or BEHALF_USER_PASSWORD; default: generated and printed once)',
    )
    .option('--mail <address>', 'mail address')
    .action(
      action(
        async (
          { api, out },
          upn: string,
          flags: { displayName?: string; password?: string; mail?: string },
        ) => {
          const supplied = flags.password ?? process.env.BEHALF_USER_PASSWORD;
          const password = supplied ?? randomBytes(12).toString('base64url');
          const created = await api.call<Record<string, unknown>>('POST', '/users', {
            userPrincipalName: upn,
            displayName: flags.displayName ?? upn.split('@')[0],
            accountEnabled: true,
            ...(flags.mail ? { mail: flags.mail } : {}),
            passwordProfile: { password },
          });
          out.item(
            supplied ? created : { ...created, password },
            supplied ? FIELDS : [...FIELDS, 'password'],
          );
        },
      ),
    );

  withConnection(user.command('set-password <user> <password>').description('Set a user’s password')).action(
    action(async ({ api, out }, reference: string, password: string) => {
      const found = await resolveUser(api, reference);
      await api.call('PATCH', `/users/${found.id}`, { passwordProfile: { password } });
      out.message(`Password changed for ${String(found.userPrincipalName)}.`, {
        id: found.id,
        changed: true,
      });
    }),
  );

  withConnection(user.command('delete <user>').description('Delete a user')).action(
    action(async ({ api, out }, reference: string) => {
      const found = await resolveUser(api, reference);
      await api.call('DELETE', `/users/${found.id}`);
      out.message(`Deleted ${String(found.userPrincipalName)}.`, { id: found.id, deleted: true });
    }),
  );
}
