import type { Command } from 'commander';
import { action, group, withConnection } from '../directory-command.ts';
import { resolveServicePrincipal } from '../directory-resolve.ts';

const COLUMNS = ['displayName', 'appId', 'id', 'appRoleAssignmentRequired'];
const FIELDS = [
  'displayName',
  'appId',
  'id',
  'servicePrincipalNames',
  'appRoleAssignmentRequired',
  'accountEnabled',
];

/** `behalf sp …`: service principals (the "Enterprise applications" of a tenant). */
export function registerSpCommand(program: Command): void {
  const sp = group(program, 'sp', 'Service principals: an application’s presence in a tenant.');

  withConnection(sp.command('list').description('List service principals')).action(
    action(async ({ api, out }) => out.list(await api.list('/servicePrincipals'), COLUMNS)),
  );

  withConnection(
    sp.command('show <sp>').description('Show a service principal (appId, id, name or identifier URI)'),
  ).action(
    action(async ({ api, out }, reference: string) =>
      out.item(await resolveServicePrincipal(api, reference), FIELDS),
    ),
  );

  withConnection(
    sp.command('create <appId>').description('Create the service principal of an application in this tenant'),
  )
    .option('--assignment-required', 'only assigned users and apps may get tokens')
    .action(
      action(async ({ api, out }, appId: string, flags: { assignmentRequired?: boolean }) => {
        const created = await api.call<Record<string, unknown>>('POST', '/servicePrincipals', {
          appId,
          ...(flags.assignmentRequired ? { appRoleAssignmentRequired: true } : {}),
        });
        out.item(created, FIELDS);
      }),
    );

  withConnection(sp.command('set <sp>').description('Change a service principal'))
    .option('--assignment-required <bool>', 'true or false')
    .option('--enabled <bool>', 'true or false')
    .action(
      action(
        async ({ api, out }, reference: string, flags: { assignmentRequired?: string; enabled?: string }) => {
          const found = await resolveServicePrincipal(api, reference);
          await api.call('PATCH', `/servicePrincipals/${found.id}`, {
            ...(flags.assignmentRequired
              ? { appRoleAssignmentRequired: flags.assignmentRequired === 'true' }
              : {}),
            ...(flags.enabled ? { accountEnabled: flags.enabled === 'true' } : {}),
          });
          out.item(await api.call('GET', `/servicePrincipals/${found.id}`), FIELDS);
        },
      ),
    );

  withConnection(sp.command('delete <sp>').description('Delete a service principal (and its grants)')).action(
    action(async ({ api, out }, reference: string) => {
      const found = await resolveServicePrincipal(api, reference);
      await api.call('DELETE', `/servicePrincipals/${found.id}`);
      out.message(`Deleted service principal ${String(found.displayName)}.`, { id: found.id, deleted: true });
    }),
  );
}
