import type { Command } from 'commander';
import { action, collect, group, withConnection } from '../directory-command.ts';

const FIELDS = ['displayName', 'id', 'verifiedDomains'];

/** `behalf tenant …`: the organization the credential acts in, and (Behalf extension) new tenants. */
export function registerTenantCommand(program: Command): void {
  const tenant = group(program, 'tenant', 'Show the current tenant or create tenants.');

  withConnection(tenant.command('show').description('Show the tenant the credential acts in')).action(
    action(async ({ api, out }) => {
      const [organization] = await api.list('/organization');
      out.item(organization ?? {}, FIELDS);
    }),
  );

  withConnection(
    tenant.command('create <displayName>').description('Create a tenant (home-tenant administrators only)'),
  )
    .requiredOption('--domain <name>', 'verified domain, the first is the default (repeatable)', collect)
    .action(
      action(async ({ api, out }, displayName: string, flags: { domain: string[] }) => {
        const created = await api.call<Record<string, unknown>>('POST', '/organization', {
          displayName,
          verifiedDomains: flags.domain.map((name, i) => ({ name, isDefault: i === 0 })),
        });
        out.item(created, FIELDS);
      }),
    );
}
