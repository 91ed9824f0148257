import type { Behalf } from '../../src/main.ts';
import { BEHALF_CONNECTIONS_APP_ID } from '../../src/cli/demo/demo-tenant.ts';

/**
 * The app registrations an administrator makes for an MCP server protected by Behalf, as for any API
 * (ARCHITECTURE.md, the on-behalf-of chain): the server's API ("Contoso Tools", scope Tools.Read, v2
 * tokens) and its connector app (a secret, a scope Behalf Connections is pre-authorized on, and the
 * admin-consented delegated permission Tools.Read on the server's API).
 */
export const TOOLS_API_APP_ID = '6d1c5e20-7a3b-4c8d-9e0f-a1b2c3d4e5f7';
export const TOOLS_CONNECTOR_APP_ID = '8e2d6f31-8b4c-4d9e-8f10-b2c3d4e5f6a8';
export const TOOLS_IDENTIFIER_URI = 'api://contoso-tools';
export const TOOLS_SCOPE = `${TOOLS_IDENTIFIER_URI}/Tools.Read`;
const TOOLS_READ_ID = '1a2b3c4d-5e6f-4a7b-8c9d-0e1f2a3b4c5d';
const CONNECTOR_SCOPE_ID = '2b3c4d5e-6f7a-4b8c-9d0e-1f2a3b4c5d6e';

const scope = (id: string, value: string, what: string) => ({
  id,
  value,
  type: 'User' as const,
  isEnabled: true,
  adminConsentDisplayName: what,
  adminConsentDescription: what,
  userConsentDisplayName: what,
  userConsentDescription: what,
});

export async function registerToolsApps(
  behalf: Behalf,
  tenantId: string,
): Promise<{ connectorClientId: string; connectorSecret: string }> {
  const { directory } = behalf;
  await directory.createApplication(
    tenantId,
    {
      displayName: 'Contoso Tools',
      signInAudience: 'AzureADMyOrg',
      identifierUris: [TOOLS_IDENTIFIER_URI],
      api: {
        requestedAccessTokenVersion: 2,
        oauth2PermissionScopes: [scope(TOOLS_READ_ID, 'Tools.Read', 'Use Contoso tools as you')],
        preAuthorizedApplications: [],
      },
    },
    { appId: TOOLS_API_APP_ID },
  );
  const connector = await directory.createApplication(
    tenantId,
    {
      displayName: 'Contoso Tools Connector',
      signInAudience: 'AzureADMyOrg',
      identifierUris: [`api://${TOOLS_CONNECTOR_APP_ID}`],
      api: {
        requestedAccessTokenVersion: 2,
        oauth2PermissionScopes: [
          scope(CONNECTOR_SCOPE_ID, 'access_as_user', 'Use Contoso Tools Connector as you'),
        ],
        // Hop 1 of the on-behalf-of chain: Behalf Connections may ask for this app without a prompt.
        preAuthorizedApplications: [
          { appId: BEHALF_CONNECTIONS_APP_ID, delegatedPermissionIds: [CONNECTOR_SCOPE_ID] },
        ],
      },
      requiredResourceAccess: [
        { resourceAppId: TOOLS_API_APP_ID, resourceAccess: [{ id: TOOLS_READ_ID, type: 'Scope' }] },
      ],
    },
    { appId: TOOLS_CONNECTOR_APP_ID },
  );
  const api = await directory.createServicePrincipal(tenantId, { appId: TOOLS_API_APP_ID });
  const client = await directory.createServicePrincipal(tenantId, { appId: TOOLS_CONNECTOR_APP_ID });
  // Hop 2: the administrator's consent for the connector app's delegated permission on the tools API.
  await directory.createGrant(tenantId, {
    clientId: client.id,
    consentType: 'AllPrincipals',
    principalId: null,
    resourceId: api.id,
    scope: 'Tools.Read',
  });
  const secret = await directory.addPassword(tenantId, connector.id, { displayName: 'Behalf connector' });
  return { connectorClientId: TOOLS_CONNECTOR_APP_ID, connectorSecret: secret.secretText };
}
