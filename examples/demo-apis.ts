import { defaultMailSeed } from './mail-api/mailbox-seed.ts';
import { startMailApi } from './mail-api/server.ts';
import { defaultSubscriptionSeed } from './resource-manager-api/subscriptions-seed.ts';
import { startResourceManagerApi } from './resource-manager-api/server.ts';
import type { RunningApi } from './serve.ts';

/**
 * The demo tenant's API and connector app registrations, as data (Microsoft Graph `application` field
 * names, entra-protocol.md §6), for `behalf up --demo` to create through the directory service, and
 * `startDemoApis` to run the two APIs. Ids are fixed so the demo tenant, the connector packages in
 * examples/connectors/ and the docs agree from one run to the next.
 */
export interface DemoScope {
  readonly id: string;
  readonly value: string;
  readonly type: 'User' | 'Admin';
  readonly adminConsentDisplayName: string;
  readonly adminConsentDescription: string;
  readonly userConsentDisplayName: string;
  readonly userConsentDescription: string;
  readonly isEnabled: true;
}

export interface DemoAppRole {
  readonly id: string;
  readonly value: string;
  readonly displayName: string;
  readonly description: string;
  readonly allowedMemberTypes: readonly ('User' | 'Application')[];
  readonly isEnabled: true;
}

export interface DemoApplication {
  readonly appId: string;
  readonly displayName: string;
  readonly identifierUris: readonly string[];
  readonly signInAudience: 'AzureADMyOrg';
  readonly api: {
    readonly requestedAccessTokenVersion: 1 | 2;
    readonly oauth2PermissionScopes: readonly DemoScope[];
    readonly preAuthorizedApplications: readonly {
      readonly appId: string;
      readonly delegatedPermissionIds: readonly string[];
    }[];
  };
  readonly appRoles: readonly DemoAppRole[];
  readonly requiredResourceAccess: readonly {
    readonly resourceAppId: string;
    readonly resourceAccess: readonly { readonly id: string; readonly type: 'Scope' | 'Role' }[];
  }[];
  readonly web: { readonly redirectUris: readonly string[] };
}

/** An admin-consented delegated grant (`oauth2PermissionGrant`, consentType AllPrincipals). */
export interface DemoGrant {
  readonly clientAppId: string;
  readonly resourceAppId: string;
  readonly scope: string;
}

export interface DemoRegistrations {
  readonly apis: { readonly mailApi: DemoApplication; readonly resourceManagerApi: DemoApplication };
  readonly connectors: {
    readonly contosoMail: DemoApplication;
    readonly contosoResourceManager: DemoApplication;
  };
  readonly grants: readonly DemoGrant[];
  /** Which connector package (examples/connectors/<name>) each connector app backs. */
  readonly connectorPackages: { readonly contosoMail: string; readonly contosoResourceManager: string };
}

export const DEMO_APP_IDS = {
  mailApi: '5e3c1a80-2b4d-4c6e-8f01-a1b2c3d4e5f6',
  resourceManagerApi: '7a1d2c3b-4e5f-4061-8273-94a5b6c7d8e9',
  contosoMailConnector: '9b8c7d6e-5f40-4a3b-8c2d-1e0f9a8b7c6d',
  contosoResourceManagerConnector: 'b2c3d4e5-f6a7-4b8c-9d0e-1f2a3b4c5d6e',
} as const;

const SCOPE_IDS = {
  mailRead: 'e1f2a3b4-c5d6-4e7f-8091-a2b3c4d5e6f7',
  mailSend: 'f2a3b4c5-d6e7-4f80-91a2-b3c4d5e6f708',
  mailReadAll: 'a3b4c5d6-e7f8-4091-a2b3-c4d5e6f70819',
  userImpersonation: 'b4c5d6e7-f809-41a2-b3c4-d5e6f708192a',
  mailConnectorAccess: 'c5d6e7f8-091a-42b3-84d5-e6f708192a3b',
  rmConnectorAccess: 'd6e7f809-1a2b-43c4-95e6-f708192a3b4c',
} as const;

const scope = (
  id: string,
  value: string,
  admin: string,
  adminDescription: string,
  user: string,
  userDescription: string,
): DemoScope => ({
  id,
  value,
  type: 'User',
  adminConsentDisplayName: admin,
  adminConsentDescription: adminDescription,
  userConsentDisplayName: user,
  userConsentDescription: userDescription,
  isEnabled: true,
});

function connectorApp(
  appId: string,
  displayName: string,
  scopeId: string,
  behalfConnectionsAppId: string,
  resourceAppId: string,
  resourceScopeIds: readonly string[],
  redirectUris: readonly string[],
): DemoApplication {
  return {
    appId,
    displayName,
    identifierUris: [`api://${appId}`],
    signInAudience: 'AzureADMyOrg',
    api: {
      requestedAccessTokenVersion: 2,
      oauth2PermissionScopes: [
        scope(
          scopeId,
          'access_as_user',
          `Access ${displayName} as the signed-in user`,
          `Lets Behalf Connections call ${displayName} on behalf of the signed-in user.`,
          `Access ${displayName} on your behalf`,
          `Lets the app use ${displayName} as you.`,
        ),
      ],
      // The on-behalf-of chain's first hop (ARCHITECTURE.md): without this users get a consent prompt.
      preAuthorizedApplications: [{ appId: behalfConnectionsAppId, delegatedPermissionIds: [scopeId] }],
    },
    appRoles: [],
    requiredResourceAccess: [
      { resourceAppId, resourceAccess: resourceScopeIds.map((id) => ({ id, type: 'Scope' as const })) },
    ],
    web: { redirectUris },
  };
}

export interface DemoRegistrationOptions {
  /** The appId of the "Behalf Connections" first-party app of the demo tenant. */
  readonly behalfConnectionsAppId: string;
  /** Redirect URIs of each connector's interactive sign-in (per-connector redirect mode), if known. */
  readonly connectorRedirectUris?: {
    readonly contosoMail?: readonly string[];
    readonly contosoResourceManager?: readonly string[];
  };
}

export function demoRegistrations(options: DemoRegistrationOptions): DemoRegistrations {
  const mailApi: DemoApplication = {
    appId: DEMO_APP_IDS.mailApi,
    displayName: 'Contoso Mail',
    identifierUris: ['api://contoso-mail'],
    signInAudience: 'AzureADMyOrg',
    api: {
      requestedAccessTokenVersion: 2,
      oauth2PermissionScopes: [
        scope(
          SCOPE_IDS.mailRead,
          'Mail.Read',
          'Read user mail',
          'Allows the app to read the signed-in user’s mailbox.',
          'Read your mail',
          'Allows the app to read your mailbox.',
        ),
        scope(
          SCOPE_IDS.mailSend,
          'Mail.Send',
          'Send mail as a user',
          'Allows the app to send mail as the signed-in user.',
          'Send mail as you',
          'Allows the app to send mail as you.',
        ),
      ],
      preAuthorizedApplications: [],
    },
    appRoles: [
      {
        id: SCOPE_IDS.mailReadAll,
        value: 'Mail.Read.All',
        displayName: 'Read mail in all mailboxes',
        description: 'Allows the app to read mail in all mailboxes without a signed-in user.',
        allowedMemberTypes: ['Application'],
        isEnabled: true,
      },
    ],
    requiredResourceAccess: [],
    web: { redirectUris: [] },
  };
  const resourceManagerApi: DemoApplication = {
    appId: DEMO_APP_IDS.resourceManagerApi,
    displayName: 'Contoso Resource Manager',
    // Seed 000: the resource URL is entered "exactly as written, including the trailing slash".
    identifierUris: ['https://management.contoso.test/'],
    signInAudience: 'AzureADMyOrg',
    api: {
      requestedAccessTokenVersion: 1,
      oauth2PermissionScopes: [
        scope(
          SCOPE_IDS.userImpersonation,
          'user_impersonation',
          'Access Contoso Resource Manager as organization users',
          'Allows the application to access Contoso Resource Manager as organization users.',
          'Access Contoso Resource Manager as you',
          'Allows the application to access Contoso Resource Manager as you.',
        ),
      ],
      preAuthorizedApplications: [],
    },
    appRoles: [],
    requiredResourceAccess: [],
    web: { redirectUris: [] },
  };
  const redirects = options.connectorRedirectUris ?? {};
  return {
    apis: { mailApi, resourceManagerApi },
    connectors: {
      contosoMail: connectorApp(
        DEMO_APP_IDS.contosoMailConnector,
        'Contoso Mail Connector',
        SCOPE_IDS.mailConnectorAccess,
        options.behalfConnectionsAppId,
        DEMO_APP_IDS.mailApi,
        [SCOPE_IDS.mailRead, SCOPE_IDS.mailSend],
        redirects.contosoMail ?? [],
      ),
      contosoResourceManager: connectorApp(
        DEMO_APP_IDS.contosoResourceManagerConnector,
        'Contoso Resource Manager Connector',
        SCOPE_IDS.rmConnectorAccess,
        options.behalfConnectionsAppId,
        DEMO_APP_IDS.resourceManagerApi,
        [SCOPE_IDS.userImpersonation],
        redirects.contosoResourceManager ?? [],
      ),
    },
    // Admin consent for the connector apps' delegated permissions (the second OBO hop needs it).
    grants: [
      {
        clientAppId: DEMO_APP_IDS.contosoMailConnector,
        resourceAppId: DEMO_APP_IDS.mailApi,
        scope: 'Mail.Read Mail.Send',
      },
      {
        clientAppId: DEMO_APP_IDS.contosoResourceManagerConnector,
        resourceAppId: DEMO_APP_IDS.resourceManagerApi,
        scope: 'user_impersonation',
      },
    ],
    connectorPackages: {
      contosoMail: 'examples/connectors/contoso-mail',
      contosoResourceManager: 'examples/connectors/contoso-resource-manager',
    },
  };
}

export interface StartDemoApisOptions {
  /** Behalf's base URL as clients see it (`https://localhost:7443`). */
  readonly issuerBaseUrl: string;
  readonly tenantId: string;
  readonly host?: string;
  /** Host name in the URLs returned (`localhost` to match a TLS certificate); defaults to `host`. */
  readonly publicHost?: string;
  /** Defaults 7444 and 7445: the `host` the connector packages in examples/connectors/ declare. */
  readonly ports?: { readonly mailApi?: number; readonly resourceManagerApi?: number };
  readonly tls?: { readonly key: string; readonly cert: string };
  /** PEM of Behalf's local CA, so the APIs trust its discovery and JWKS endpoints. */
  readonly ca?: string;
  /** An unknown signing key refetches the JWKS at most this often (default 30 s). */
  readonly keyRefreshCooldownMs?: number;
  /** The domain of the seeded mailboxes and role assignments (alice@…, bob@…). */
  readonly domain?: string;
}

export interface DemoApis {
  readonly urls: { readonly mailApi: string; readonly resourceManagerApi: string };
  close(): Promise<void>;
}

/** What `behalf up --demo` calls: both APIs, on their own ports, trusting the demo tenant. */
export async function startDemoApis(options: StartDemoApisOptions): Promise<DemoApis> {
  const { mailApi: mailApp, resourceManagerApi: rmApp } = demoRegistrations({
    behalfConnectionsAppId: '',
  }).apis;
  const authority = `${options.issuerBaseUrl.replace(/\/$/, '')}/${options.tenantId}`;
  const common = {
    authority,
    tenantId: options.tenantId,
    host: options.host ?? '127.0.0.1',
    ...(options.publicHost ? { publicHost: options.publicHost } : {}),
    ...(options.tls ? { tls: options.tls } : {}),
    ...(options.ca ? { ca: options.ca } : {}),
    ...(options.keyRefreshCooldownMs !== undefined
      ? { keyRefreshCooldownMs: options.keyRefreshCooldownMs }
      : {}),
  };
  const mail: RunningApi = await startMailApi({
    ...common,
    port: options.ports?.mailApi ?? 7444,
    audiences: [mailApp.appId, ...mailApp.identifierUris],
    seed: defaultMailSeed(options.domain),
  });
  let rm: RunningApi;
  try {
    rm = await startResourceManagerApi({
      ...common,
      port: options.ports?.resourceManagerApi ?? 7445,
      audiences: [rmApp.appId, ...rmApp.identifierUris],
      seed: defaultSubscriptionSeed(options.domain),
    });
  } catch (error) {
    await mail.close();
    throw error;
  }
  return {
    urls: { mailApi: mail.url, resourceManagerApi: rm.url },
    async close() {
      await Promise.all([mail.close(), rm.close()]);
    },
  };
}
