import type { ApplicationInput } from '../../directory/application-input.ts';
import { MICROSOFT_GRAPH_APP_ID } from '../../directory/model.ts';

/**
 * The Contoso demo tenant as data: who and what `behalf up --demo` creates. The first-party appIds are
 * fixed, like Microsoft's well-known first-party ids, so scripts, docs and the CLI can name them:
 *
 * - Behalf Connections `be4a1f00-c044-4a00-8000-000000000002`: the gateway's own application, the
 *   counterpart of "Azure API Connections"; clients get tokens for it, it exchanges them on-behalf-of.
 * - Behalf Chat `be4a1f00-c4a7-4a00-8000-000000000003`: the chat client (confidential web app).
 * - Behalf CLI `be4a1f00-c11a-4a00-8000-000000000004`: the `behalf` command (public client, device code).
 */
export const BEHALF_CONNECTIONS_APP_ID = 'be4a1f00-c044-4a00-8000-000000000002';
export const BEHALF_CHAT_APP_ID = 'be4a1f00-c4a7-4a00-8000-000000000003';
export const BEHALF_CLI_APP_ID = 'be4a1f00-c11a-4a00-8000-000000000004';
/** Scope ids are fixed too, so pre-authorizations and requiredResourceAccess can name them. */
export const CONNECTIONS_SCOPE_ID = 'be4a1f00-5c0e-4a00-8000-000000000012';

export const DEMO_TENANT = { displayName: 'Contoso', domain: 'contoso.test' } as const;

export interface DemoUser {
  readonly key: string;
  readonly alias: string;
  readonly displayName: string;
  readonly givenName: string;
  readonly surname: string;
  readonly administrator?: boolean;
}

export const DEMO_USERS: readonly DemoUser[] = [
  { key: 'alice', alias: 'alice', displayName: 'Alice Adams', givenName: 'Alice', surname: 'Adams' },
  { key: 'bob', alias: 'bob', displayName: 'Bob Brown', givenName: 'Bob', surname: 'Brown' },
  {
    key: 'admin',
    alias: 'admin',
    displayName: 'Contoso Administrator',
    givenName: 'Contoso',
    surname: 'Administrator',
    administrator: true,
  },
];

export interface DemoApp {
  readonly name: string;
  readonly appId: string;
  /** Create a client secret (written to demo.json). */
  readonly secret?: boolean;
  readonly input: (baseUrl: string) => ApplicationInput;
}

// Graph's delegated `User.Read` (Microsoft's id), so the CLI's token can read the signed-in admin.
const GRAPH_USER_READ = 'e1fe6dd8-ba31-4d61-89e7-88639da4683d';

export const FIRST_PARTY_APPS: readonly DemoApp[] = [
  {
    name: 'Behalf Connections',
    appId: BEHALF_CONNECTIONS_APP_ID,
    secret: true,
    input: (base) => ({
      displayName: 'Behalf Connections',
      description: 'The gateway: holds per-user connections and calls APIs on behalf of the signed-in user.',
      signInAudience: 'AzureADMyOrg',
      identifierUris: [`api://${BEHALF_CONNECTIONS_APP_ID}`],
      api: {
        requestedAccessTokenVersion: 2,
        oauth2PermissionScopes: [
          {
            id: CONNECTIONS_SCOPE_ID,
            value: 'user_impersonation',
            type: 'User',
            isEnabled: true,
            adminConsentDisplayName: 'Use your connections',
            adminConsentDescription:
              'Allow the application to call connectors and APIs as the signed-in user.',
            userConsentDisplayName: 'Use your connections',
            userConsentDescription: 'Allow the application to call connectors and APIs on your behalf.',
          },
        ],
        preAuthorizedApplications: [
          { appId: BEHALF_CHAT_APP_ID, delegatedPermissionIds: [CONNECTIONS_SCOPE_ID] },
          { appId: BEHALF_CLI_APP_ID, delegatedPermissionIds: [CONNECTIONS_SCOPE_ID] },
        ],
      },
      web: { redirectUris: [`${base}/connections/redirect`] },
    }),
  },
  {
    name: 'Behalf Chat',
    appId: BEHALF_CHAT_APP_ID,
    secret: true,
    input: (base) => ({
      displayName: 'Behalf Chat',
      description: 'The chat client: an agent that uses your connections as tools.',
      signInAudience: 'AzureADMyOrg',
      web: { redirectUris: [`${base}/chat/callback`], logoutUrl: `${base}/chat/` },
      requiredResourceAccess: [
        {
          resourceAppId: BEHALF_CONNECTIONS_APP_ID,
          resourceAccess: [{ id: CONNECTIONS_SCOPE_ID, type: 'Scope' }],
        },
      ],
    }),
  },
  {
    name: 'Behalf CLI',
    appId: BEHALF_CLI_APP_ID,
    input: () => ({
      displayName: 'Behalf CLI',
      description: 'The behalf command line; signs in with the device code flow.',
      signInAudience: 'AzureADMyOrg',
      isFallbackPublicClient: true,
      publicClient: { redirectUris: ['http://localhost'] },
      requiredResourceAccess: [
        {
          resourceAppId: BEHALF_CONNECTIONS_APP_ID,
          resourceAccess: [{ id: CONNECTIONS_SCOPE_ID, type: 'Scope' }],
        },
        { resourceAppId: MICROSOFT_GRAPH_APP_ID, resourceAccess: [{ id: GRAPH_USER_READ, type: 'Scope' }] },
      ],
    }),
  },
];
