import type { Command } from 'commander';
import type { GraphClient } from '../api-client.ts';
import { ApiError, UsageError } from '../api-client.ts';
import { action, collect, group, withConnection } from '../directory-command.ts';
import type { GraphObject } from '../directory-resolve.ts';
import { resolveApplication, resolveServicePrincipal, resolveUser } from '../directory-resolve.ts';

const GRANT_COLUMNS = ['id', 'consentType', 'clientId', 'resourceId', 'principalId', 'scope'];

interface Grant {
  id: string;
  scope: string;
  principalId: string | null;
  consentType: string;
}

/** The client's service principal, created first if the app has none in this tenant (as consent does). */
async function clientServicePrincipal(api: GraphClient, appId: string): Promise<GraphObject> {
  try {
    return await resolveServicePrincipal(api, appId);
  } catch (error) {
    if (!(error instanceof ApiError) || error.status !== 404) throw error;
    return api.call<GraphObject>('POST', '/servicePrincipals', { appId });
  }
}

/** Creates the grant, or widens the existing one for the same client, resource and principal. */
async function grantScopes(
  api: GraphClient,
  client: GraphObject,
  resource: GraphObject,
  scopes: string[],
  principalId: string | null,
): Promise<Grant> {
  const filter = `clientId eq '${client.id}' and resourceId eq '${resource.id}'`;
  const existing = (
    await api.list<Grant>(`/oauth2PermissionGrants?$filter=${encodeURIComponent(filter)}`)
  ).find((g) => g.principalId === principalId);
  if (existing) {
    const scope = [...new Set([...existing.scope.split(' '), ...scopes])].filter((s) => s !== '').join(' ');
    await api.call('PATCH', `/oauth2PermissionGrants/${existing.id}`, { scope });
    return { ...existing, scope };
  }
  return api.call<Grant>('POST', '/oauth2PermissionGrants', {
    clientId: client.id,
    consentType: principalId ? 'Principal' : 'AllPrincipals',
    principalId,
    resourceId: resource.id,
    scope: scopes.join(' '),
  });
}

async function assignRole(api: GraphClient, principalId: string, resource: GraphObject, appRoleId: string) {
  try {
    return await api.call<Record<string, unknown>>(
      'POST',
      `/servicePrincipals/${resource.id}/appRoleAssignedTo`,
      {
        principalId,
        resourceId: resource.id,
        appRoleId,
      },
    );
  } catch (error) {
    if (error instanceof ApiError && error.code === 'Request_MultipleObjectsWithSameKeyValue')
      return { principalId, appRoleId, existing: true };
    throw error;
  }
}

/** `behalf grant …`: consent (delegated permission grants) and app role assignments. */
export function registerGrantCommand(program: Command): void {
  const grant = group(program, 'grant', 'Consent and role assignments: who may call what.');

  withConnection(grant.command('list').description('List delegated permission grants'))
    .option('--client <app>', 'only grants of this client application')
    .action(
      action(async ({ api, out }, flags: { client?: string }) => {
        const filter = flags.client
          ? `?$filter=${encodeURIComponent(`clientId eq '${(await resolveServicePrincipal(api, flags.client)).id}'`)}`
          : '';
        out.list(await api.list(`/oauth2PermissionGrants${filter}`), GRANT_COLUMNS);
      }),
    );

  withConnection(
    grant
      .command('admin-consent <app>')
      .description(
        "Grant tenant-wide consent to everything the app requests (requiredResourceAccess), like the portal's button",
      ),
  ).action(
    action(async ({ api, out }, reference: string) => {
      const app = await resolveApplication(api, reference);
      const client = await clientServicePrincipal(api, String(app.appId));
      const required =
        (app.requiredResourceAccess as {
          resourceAppId: string;
          resourceAccess: { id: string; type: string }[];
        }[]) ?? [];
      if (required.length === 0)
        throw new UsageError(
          `${String(app.displayName)} requests no permissions (see 'behalf app add-permission').`,
        );
      const results: Record<string, unknown>[] = [];
      for (const entry of required) {
        const resource = await resolveServicePrincipal(api, entry.resourceAppId);
        const scopes = entry.resourceAccess
          .filter((a) => a.type === 'Scope')
          .map(
            (a) =>
              (resource.oauth2PermissionScopes as { id: string; value: string }[]).find((s) => s.id === a.id)
                ?.value,
          )
          .filter((v): v is string => v !== undefined);
        if (scopes.length > 0) {
          const created = await grantScopes(api, client, resource, scopes, null);
          results.push({ kind: 'delegated', resource: resource.displayName, permissions: created.scope });
        }
        for (const role of entry.resourceAccess.filter((a) => a.type === 'Role')) {
          await assignRole(api, client.id, resource, role.id);
          const value =
            (resource.appRoles as { id: string; value: string }[]).find((r) => r.id === role.id)?.value ??
            role.id;
          results.push({ kind: 'application', resource: resource.displayName, permissions: value });
        }
      }
      out.list(results, ['kind', 'resource', 'permissions']);
    }),
  );

  withConnection(
    grant
      .command('create <clientApp> <resource>')
      .description('Grant delegated permissions to a client on a resource'),
  )
    .requiredOption('--scope <value>', 'permission value (repeatable)', collect)
    .option('--user <user>', 'for this user only (consentType Principal); default: all users')
    .action(
      action(
        async (
          { api, out },
          clientRef: string,
          resourceRef: string,
          flags: { scope: string[]; user?: string },
        ) => {
          const client = await clientServicePrincipal(
            api,
            String((await resolveApplication(api, clientRef)).appId),
          );
          const resource = await resolveServicePrincipal(api, resourceRef);
          const principalId = flags.user ? (await resolveUser(api, flags.user)).id : null;
          out.item(
            (await grantScopes(api, client, resource, flags.scope, principalId)) as unknown as Record<
              string,
              unknown
            >,
            GRANT_COLUMNS,
          );
        },
      ),
    );

  withConnection(
    grant
      .command('assign-role <principal> <resource> <role>')
      .description('Assign an app role to a user (UPN) or an application'),
  ).action(
    action(async ({ api, out }, principalRef: string, resourceRef: string, roleValue: string) => {
      const resource = await resolveServicePrincipal(api, resourceRef);
      const role = (resource.appRoles as { id: string; value: string }[]).find((r) => r.value === roleValue);
      if (!role) throw new UsageError(`${String(resource.displayName)} defines no app role '${roleValue}'.`);
      const principalId = principalRef.includes('@')
        ? (await resolveUser(api, principalRef)).id
        : (await clientServicePrincipal(api, String((await resolveApplication(api, principalRef)).appId))).id;
      out.item(await assignRole(api, principalId, resource, role.id), [
        'id',
        'principalDisplayName',
        'resourceDisplayName',
        'appRoleId',
      ]);
    }),
  );

  withConnection(grant.command('delete <id>').description('Delete a delegated permission grant')).action(
    action(async ({ api, out }, id: string) => {
      await api.call('DELETE', `/oauth2PermissionGrants/${encodeURIComponent(id)}`);
      out.message(`Deleted grant ${id}.`, { id, deleted: true });
    }),
  );
}
