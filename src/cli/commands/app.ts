import { randomUUID } from 'node:crypto';
import type { Command } from 'commander';
import { UsageError } from '../api-client.ts';
import type { Run } from '../directory-command.ts';
import { action, collect, group, withConnection } from '../directory-command.ts';
import type { GraphObject } from '../directory-resolve.ts';
import { resolveApplication, resolveServicePrincipal } from '../directory-resolve.ts';

const APP_COLUMNS = ['displayName', 'appId', 'id', 'identifierUris', 'signInAudience'];
const APP_FIELDS = [
  'displayName',
  'appId',
  'id',
  'identifierUris',
  'signInAudience',
  'web',
  'spa',
  'api',
  'requiredResourceAccess',
  'passwordCredentials',
];

interface Scope {
  id: string;
  value: string;
  isEnabled: boolean;
}
interface Api {
  oauth2PermissionScopes?: Scope[];
  preAuthorizedApplications?: { appId: string; delegatedPermissionIds: string[] }[];
}

/** `behalf app …`: app registrations, as in the Entra admin center's "App registrations" blade. */
export function registerAppCommand(program: Command): void {
  const app = group(
    program,
    'app',
    'Register applications: scopes, redirect URIs, permissions, secrets, federated credentials.',
  );

  withConnection(app.command('list').description('List applications'))
    .option('--filter <odata>', 'OData $filter, e.g. "startswith(displayName,\'Contoso\')"')
    .action(
      action(async ({ api, out }, flags: { filter?: string }) => {
        const query = flags.filter ? `?$filter=${encodeURIComponent(flags.filter)}` : '';
        out.list(await api.list(`/applications${query}`), APP_COLUMNS);
      }),
    );

  withConnection(
    app.command('show <app>').description('Show an application (appId, object id, identifier URI or name)'),
  ).action(
    action(async ({ api, out }, reference: string) =>
      out.item(await resolveApplication(api, reference), APP_FIELDS),
    ),
  );

  withConnection(
    app.command('create <displayName>').description('Register an application (and its service principal)'),
  )
    .option('--identifier-uri <uri>', 'Application ID URI (repeatable)', collect)
    .option('--redirect-uri <uri>', 'web redirect URI (repeatable)', collect)
    .option('--spa-redirect-uri <uri>', 'single-page-app redirect URI (repeatable)', collect)
    .option('--public-client-redirect-uri <uri>', 'mobile/desktop redirect URI (repeatable)', collect)
    .option('--sign-in-audience <audience>', 'AzureADMyOrg (default) or AzureADMultipleOrgs')
    .option('--access-token-version <n>', 'api.requestedAccessTokenVersion (1 or 2)')
    .option('--no-service-principal', 'do not create the service principal (the portal always does)')
    .action(
      action(
        async (
          { api, out },
          displayName: string,
          flags: {
            identifierUri?: string[];
            redirectUri?: string[];
            spaRedirectUri?: string[];
            publicClientRedirectUri?: string[];
            signInAudience?: string;
            accessTokenVersion?: string;
            servicePrincipal: boolean;
          },
        ) => {
          const version = flags.accessTokenVersion;
          if (version !== undefined && version !== '1' && version !== '2')
            throw new UsageError('--access-token-version must be 1 or 2.');
          const created = await api.call<GraphObject>('POST', '/applications', {
            displayName,
            ...(flags.identifierUri ? { identifierUris: flags.identifierUri } : {}),
            ...(flags.redirectUri ? { web: { redirectUris: flags.redirectUri } } : {}),
            ...(flags.spaRedirectUri ? { spa: { redirectUris: flags.spaRedirectUri } } : {}),
            ...(flags.publicClientRedirectUri
              ? { publicClient: { redirectUris: flags.publicClientRedirectUri } }
              : {}),
            ...(flags.signInAudience ? { signInAudience: flags.signInAudience } : {}),
            ...(version ? { api: { requestedAccessTokenVersion: Number(version) } } : {}),
          });
          if (flags.servicePrincipal) await api.call('POST', '/servicePrincipals', { appId: created.appId });
          out.item(created, APP_FIELDS);
        },
      ),
    );

  withConnection(
    app.command('delete <app>').description('Delete an application and its service principal'),
  ).action(
    action(async ({ api, out }, reference: string) => {
      const found = await resolveApplication(api, reference);
      await api.call('DELETE', `/applications/${found.id}`);
      out.message(`Deleted application ${String(found.displayName)} (${String(found.appId)}).`, {
        id: found.id,
        deleted: true,
      });
    }),
  );

  withConnection(
    app
      .command('set <app>')
      .description('Change identifier URIs or redirect URIs (replaces the lists given)'),
  )
    .option('--identifier-uri <uri>', 'Application ID URI (repeatable)', collect)
    .option('--redirect-uri <uri>', 'web redirect URI (repeatable)', collect)
    .option('--spa-redirect-uri <uri>', 'single-page-app redirect URI (repeatable)', collect)
    .option('--display-name <name>', 'new display name')
    .action(
      action(
        async (
          { api, out },
          reference: string,
          flags: {
            identifierUri?: string[];
            redirectUri?: string[];
            spaRedirectUri?: string[];
            displayName?: string;
          },
        ) => {
          const found = await resolveApplication(api, reference);
          const patch = {
            ...(flags.identifierUri ? { identifierUris: flags.identifierUri } : {}),
            ...(flags.redirectUri ? { web: { redirectUris: flags.redirectUri } } : {}),
            ...(flags.spaRedirectUri ? { spa: { redirectUris: flags.spaRedirectUri } } : {}),
            ...(flags.displayName ? { displayName: flags.displayName } : {}),
          };
          if (Object.keys(patch).length === 0)
            throw new UsageError(
              'Nothing to change: pass --identifier-uri, --redirect-uri, --spa-redirect-uri or --display-name.',
            );
          await api.call('PATCH', `/applications/${found.id}`, patch);
          out.item(await api.call('GET', `/applications/${found.id}`), APP_FIELDS);
        },
      ),
    );

  withConnection(app.command('add-redirect-uri <app> <uri>').description('Add a web (or --spa) redirect URI'))
    .option('--spa', 'add to spa.redirectUris instead of web.redirectUris')
    .action(
      action(async ({ api, out }, reference: string, uri: string, flags: { spa?: boolean }) => {
        const found = await resolveApplication(api, reference);
        const platform = flags.spa ? 'spa' : 'web';
        const current = (
          (found[platform] as { redirectUris?: string[] } | undefined)?.redirectUris ?? []
        ).filter((u) => u !== uri);
        await api.call('PATCH', `/applications/${found.id}`, {
          [platform]: { redirectUris: [...current, uri] },
        });
        out.message(`Added ${platform} redirect URI ${uri}.`, {
          id: found.id,
          platform,
          redirectUris: [...current, uri],
        });
      }),
    );

  withConnection(
    app
      .command('expose-scope <app> <value>')
      .description('Expose a delegated permission (scope) on the application'),
  )
    .option('--admin-only', 'only administrators may consent (type Admin)')
    .option('--display-name <text>', 'consent display name')
    .option('--description <text>', 'consent description')
    .action(
      action(
        async (
          { api, out },
          reference: string,
          value: string,
          flags: { adminOnly?: boolean; displayName?: string; description?: string },
        ) => {
          const found = await resolveApplication(api, reference);
          const current = (found.api as Api).oauth2PermissionScopes ?? [];
          if (current.some((s) => s.value === value))
            throw new UsageError(`The application already exposes '${value}'.`);
          const label = flags.displayName ?? value;
          const scope = {
            id: randomUUID(),
            value,
            type: flags.adminOnly ? 'Admin' : 'User',
            isEnabled: true,
            adminConsentDisplayName: label,
            adminConsentDescription: flags.description ?? label,
            userConsentDisplayName: flags.adminOnly ? null : label,
            userConsentDescription: flags.adminOnly ? null : (flags.description ?? label),
          };
          await api.call('PATCH', `/applications/${found.id}`, {
            api: { oauth2PermissionScopes: [...current, scope] },
          });
          out.item(scope, ['value', 'id', 'type']);
        },
      ),
    );

  withConnection(
    app
      .command('add-role <app> <value>')
      .description('Define an app role (an application permission by default)'),
  )
    .option('--member-types <types>', 'Application, User or Application,User', 'Application')
    .option('--display-name <text>', 'display name')
    .action(
      action(
        async (
          { api, out },
          reference: string,
          value: string,
          flags: { memberTypes: string; displayName?: string },
        ) => {
          const found = await resolveApplication(api, reference);
          const role = {
            id: randomUUID(),
            value,
            displayName: flags.displayName ?? value,
            description: flags.displayName ?? value,
            allowedMemberTypes: flags.memberTypes.split(',').map((t) => t.trim()),
            isEnabled: true,
          };
          await api.call('PATCH', `/applications/${found.id}`, {
            appRoles: [...((found.appRoles as unknown[]) ?? []), role],
          });
          out.item(role, ['value', 'id', 'allowedMemberTypes']);
        },
      ),
    );

  withConnection(
    app
      .command('pre-authorize <app> <clientAppId>')
      .description('Authorize a client application for scopes without consent'),
  )
    .requiredOption('--scope <value>', 'exposed scope value (repeatable)', collect)
    .action(
      action(async ({ api, out }, reference: string, clientAppId: string, flags: { scope: string[] }) => {
        const found = await resolveApplication(api, reference);
        const current = found.api as Api;
        const ids = flags.scope.map((value) => {
          const scope = current.oauth2PermissionScopes?.find((s) => s.value === value);
          if (!scope) throw new UsageError(`The application exposes no scope '${value}'.`);
          return scope.id;
        });
        const others = (current.preAuthorizedApplications ?? []).filter((p) => p.appId !== clientAppId);
        await api.call('PATCH', `/applications/${found.id}`, {
          api: {
            preAuthorizedApplications: [...others, { appId: clientAppId, delegatedPermissionIds: ids }],
          },
        });
        out.message(`Pre-authorized ${clientAppId} for ${flags.scope.join(' ')}.`, {
          appId: clientAppId,
          delegatedPermissionIds: ids,
        });
      }),
    );

  withConnection(
    app
      .command('add-permission <app> <resource> <values...>')
      .description('Request permissions on a resource (requiredResourceAccess)'),
  )
    .option('--role', 'application permissions (app roles) instead of delegated scopes')
    .action(
      action(
        async (
          run: Run,
          reference: string,
          resource: string,
          values: string[],
          flags: { role?: boolean },
        ) => {
          const { api, out } = run;
          const found = await resolveApplication(api, reference);
          const resourceSp = await resolveServicePrincipal(api, resource);
          const catalogue = (flags.role ? resourceSp.appRoles : resourceSp.oauth2PermissionScopes) as {
            id: string;
            value: string;
          }[];
          const access = values.map((value) => {
            const match = catalogue.find((p) => p.value === value);
            if (!match)
              throw new UsageError(
                `${String(resourceSp.displayName)} has no ${flags.role ? 'app role' : 'scope'} '${value}'.`,
              );
            return { id: match.id, type: flags.role ? 'Role' : 'Scope' };
          });
          const required =
            (found.requiredResourceAccess as {
              resourceAppId: string;
              resourceAccess: { id: string; type: string }[];
            }[]) ?? [];
          const entry = required.find((r) => r.resourceAppId === resourceSp.appId);
          const merged = [...(entry?.resourceAccess ?? []), ...access].filter(
            (a, i, all) => all.findIndex((b) => b.id === a.id && b.type === a.type) === i,
          );
          const next = [
            ...required.filter((r) => r !== entry),
            { resourceAppId: String(resourceSp.appId), resourceAccess: merged },
          ];
          await api.call('PATCH', `/applications/${found.id}`, { requiredResourceAccess: next });
          out.message(`Requested ${values.join(' ')} on ${String(resourceSp.displayName)}.`, {
            requiredResourceAccess: next,
          });
        },
      ),
    );

  withConnection(app.command('add-secret <app>').description('Add a client secret; it is printed once'))
    .option('--display-name <text>', 'description')
    .option('--end-date <iso>', 'expiry (default: two years)')
    .action(
      action(
        async ({ api, out, json }, reference: string, flags: { displayName?: string; endDate?: string }) => {
          const found = await resolveApplication(api, reference);
          const created = await api.call<Record<string, unknown>>(
            'POST',
            `/applications/${found.id}/addPassword`,
            {
              passwordCredential: {
                ...(flags.displayName ? { displayName: flags.displayName } : {}),
                ...(flags.endDate ? { endDateTime: flags.endDate } : {}),
              },
            },
          );
          out.item(created, ['secretText', 'keyId', 'hint', 'endDateTime']);
          if (!json) process.stderr.write('Copy the secret now: it cannot be shown again.\n');
        },
      ),
    );

  withConnection(app.command('remove-secret <app> <keyId>').description('Remove a client secret')).action(
    action(async ({ api, out }, reference: string, keyId: string) => {
      const found = await resolveApplication(api, reference);
      await api.call('POST', `/applications/${found.id}/removePassword`, { keyId });
      out.message(`Removed secret ${keyId}.`, { keyId, removed: true });
    }),
  );

  withConnection(
    app
      .command('add-federated-credential <app>')
      .description('Trust tokens of an external issuer (workload identity federation)'),
  )
    .requiredOption('--name <name>', 'credential name')
    .requiredOption('--issuer <url>', 'issuer of the external tokens')
    .requiredOption('--subject <sub>', 'subject of the external tokens')
    .option('--audience <aud>', 'audience of the external tokens', 'api://AzureADTokenExchange')
    .option('--description <text>', 'description')
    .action(
      action(
        async (
          { api, out },
          reference: string,
          flags: { name: string; issuer: string; subject: string; audience: string; description?: string },
        ) => {
          const found = await resolveApplication(api, reference);
          const created = await api.call<Record<string, unknown>>(
            'POST',
            `/applications/${found.id}/federatedIdentityCredentials`,
            {
              name: flags.name,
              issuer: flags.issuer,
              subject: flags.subject,
              audiences: [flags.audience],
              ...(flags.description ? { description: flags.description } : {}),
            },
          );
          out.item(created, ['name', 'id', 'issuer', 'subject', 'audiences']);
        },
      ),
    );

  withConnection(app.command('federated-credentials <app>').description('List federated credentials')).action(
    action(async ({ api, out }, reference: string) => {
      const found = await resolveApplication(api, reference);
      out.list(await api.list(`/applications/${found.id}/federatedIdentityCredentials`), [
        'name',
        'issuer',
        'subject',
        'audiences',
      ]);
    }),
  );

  withConnection(
    app.command('remove-federated-credential <app> <name>').description('Remove a federated credential'),
  ).action(
    action(async ({ api, out }, reference: string, name: string) => {
      const found = await resolveApplication(api, reference);
      await api.call(
        'DELETE',
        `/applications/${found.id}/federatedIdentityCredentials/${encodeURIComponent(name)}`,
      );
      out.message(`Removed federated credential ${name}.`, { name, removed: true });
    }),
  );
}
