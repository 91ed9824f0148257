import type { Command } from 'commander';
import { action, group, withConnection } from '../directory-command.ts';
import { GUID, resolveGroup, resolveServicePrincipal, resolveUser } from '../directory-resolve.ts';

const COLUMNS = ['displayName', 'id', 'description'];

/** `behalf group …` */
export function registerGroupCommand(program: Command): void {
  const cmd = group(program, 'group', 'Create groups and manage their members.');

  withConnection(cmd.command('list').description('List groups')).action(
    action(async ({ api, out }) => out.list(await api.list('/groups'), COLUMNS)),
  );

  withConnection(cmd.command('create <displayName>').description('Create a security group'))
    .option('--description <text>', 'description')
    .action(
      action(async ({ api, out }, displayName: string, flags: { description?: string }) => {
        const created = await api.call<Record<string, unknown>>('POST', '/groups', {
          displayName,
          securityEnabled: true,
          mailEnabled: false,
          ...(flags.description ? { description: flags.description } : {}),
        });
        out.item(created, COLUMNS);
      }),
    );

  withConnection(cmd.command('members <group>').description('List members')).action(
    action(async ({ api, out }, reference: string) => {
      const found = await resolveGroup(api, reference);
      out.list(await api.list(`/groups/${found.id}/members`), ['@odata.type', 'displayName', 'id']);
    }),
  );

  withConnection(
    cmd
      .command('add-member <group> <member>')
      .description('Add a user (UPN or id), group or service principal'),
  ).action(
    action(async ({ api, out }, reference: string, member: string) => {
      const found = await resolveGroup(api, reference);
      const memberId = member.includes('@')
        ? (await resolveUser(api, member)).id
        : GUID.test(member)
          ? member
          : (await resolveServicePrincipal(api, member)).id;
      await api.call('POST', `/groups/${found.id}/members/$ref`, {
        '@odata.id': `https://graph.microsoft.com/v1.0/directoryObjects/${memberId}`,
      });
      out.message(`Added ${member} to ${String(found.displayName)}.`, { groupId: found.id, memberId });
    }),
  );

  withConnection(cmd.command('remove-member <group> <memberId>').description('Remove a member')).action(
    action(async ({ api, out }, reference: string, member: string) => {
      const found = await resolveGroup(api, reference);
      const memberId = member.includes('@') ? (await resolveUser(api, member)).id : member;
      await api.call('DELETE', `/groups/${found.id}/members/${memberId}/$ref`);
      out.message(`Removed ${member} from ${String(found.displayName)}.`, { groupId: found.id, memberId });
    }),
  );

  withConnection(cmd.command('delete <group>').description('Delete a group')).action(
    action(async ({ api, out }, reference: string) => {
      const found = await resolveGroup(api, reference);
      await api.call('DELETE', `/groups/${found.id}`);
      out.message(`Deleted group ${String(found.displayName)}.`, { id: found.id, deleted: true });
    }),
  );
}
