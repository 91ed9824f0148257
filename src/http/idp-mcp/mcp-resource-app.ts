import type { Envelope } from '../../crypto/envelope.ts';
import { DuplicateKeyError } from '../../core/errors.ts';
import type { Directory } from '../../directory/directory.ts';
import type { RecordStore } from '../../storage/record-store.ts';

/**
 * "Behalf MCP", one per tenant: the resource application MCP clients get tokens for. Each agent's MCP
 * URL (`{base}/mcp/{agent}`) is one of its identifier URIs, and it asks for v1 access tokens, whose
 * `aud` is the identifier as requested (entra-protocol.md §3.2): so the RFC 8707 `resource` an MCP
 * client names becomes exactly the token's audience, which `/mcp/{agent}` checks strictly (MCP
 * authorization 2025-11-25, "Token Audience Binding and Validation").
 *
 * Tools run through the gateway as the person: this app exchanges the person's MCP token on-behalf-of
 * for a Behalf Connections token (one more OBO hop, with an admin grant it gets here), so the MCP token
 * itself never leaves Behalf ("Token Passthrough" is forbidden) and is never the gateway's input.
 * Its client secret is kept only encrypted, under the master key.
 */
export interface McpResourceApp {
  readonly appId: string;
  readonly clientSecret: string;
}

export interface McpResourceApps {
  ensure(tenantId: string): Promise<McpResourceApp>;
  /** Registers `{base}/mcp/{agent}` as an identifier URI (idempotent). */
  ensureResource(tenantId: string, resourceUrl: string): Promise<McpResourceApp>;
}

export interface McpResourceAppsOptions {
  readonly directory: Directory;
  readonly store: RecordStore;
  readonly envelope: Envelope;
  /** Behalf Connections' appId: the OBO target, granted for all users of the tenant. */
  readonly behalfConnectionsAppId: () => string;
}

const KIND = 'mcp-resource-app';
const SCOPE = 'user_impersonation';

interface Stored {
  readonly appId: string;
  readonly applicationId: string;
  readonly secret: string;
}

export function createMcpResourceApps(options: McpResourceAppsOptions): McpResourceApps {
  const { directory, store, envelope } = options;
  const pending = new Map<string, Promise<McpResourceApp>>();
  const aad = (tenantId: string) => `mcp-resource-app:${tenantId}`;

  async function grantConnections(tenantId: string, appId: string): Promise<void> {
    const client = await directory.getServicePrincipalByAppId(tenantId, appId);
    const resource = await directory.getServicePrincipalByAppId(tenantId, options.behalfConnectionsAppId());
    if (!client || !resource) return;
    const grants = await directory.listPermissionGrants({
      tenantId,
      clientId: client.id,
      resourceId: resource.id,
    });
    if (grants.some((g) => g.consentType === 'AllPrincipals' && g.scope.split(' ').includes(SCOPE))) return;
    await directory.createGrant(tenantId, {
      clientId: client.id,
      consentType: 'AllPrincipals',
      resourceId: resource.id,
      scope: SCOPE,
    });
  }

  async function create(tenantId: string): Promise<McpResourceApp> {
    const app = await directory.createApplication(tenantId, {
      displayName: 'Behalf MCP',
      description: "Agents' MCP servers: MCP clients get tokens for an agent's URL here.",
      signInAudience: 'AzureADMyOrg',
      api: {
        oauth2PermissionScopes: [
          {
            value: SCOPE,
            type: 'User',
            isEnabled: true,
            adminConsentDisplayName: 'Use agent tools',
            adminConsentDescription: "Allow the MCP client to call an agent's tools as the signed-in user.",
            userConsentDisplayName: 'Use agent tools as you',
            userConsentDescription: "Allow the MCP client to call the agent's tools on your behalf.",
          },
        ],
      },
    });
    await directory.createServicePrincipal(tenantId, { appId: app.appId });
    const { secretText } = await directory.addPassword(tenantId, app.id, { displayName: 'Behalf MCP (OBO)' });
    try {
      await store.insert<Stored>({
        kind: KIND,
        id: tenantId,
        partition: tenantId,
        data: {
          appId: app.appId,
          applicationId: app.id,
          secret: envelope.encrypt(secretText, aad(tenantId)),
        },
      });
    } catch (error) {
      if (!(error instanceof DuplicateKeyError)) throw error;
      // Another process created it meanwhile: keep theirs.
      await directory.deleteApplication(tenantId, app.id);
      return load(tenantId) as Promise<McpResourceApp>;
    }
    await grantConnections(tenantId, app.appId);
    return { appId: app.appId, clientSecret: secretText };
  }

  async function load(tenantId: string): Promise<McpResourceApp | undefined> {
    const record = await store.get<Stored>(KIND, tenantId);
    if (!record) return undefined;
    return {
      appId: record.data.appId,
      clientSecret: envelope.decryptText(record.data.secret, aad(tenantId)),
    };
  }

  async function ensure(tenantId: string): Promise<McpResourceApp> {
    let running = pending.get(tenantId);
    if (!running) {
      running = (async () => {
        const found = await load(tenantId);
        if (!found) return create(tenantId);
        // Behalf Connections may have been registered after this app (demo set up later): grant then.
        await grantConnections(tenantId, found.appId);
        return found;
      })().finally(() => pending.delete(tenantId));
      pending.set(tenantId, running);
    }
    return running;
  }

  return {
    ensure,
    async ensureResource(tenantId, resourceUrl) {
      const resourceApp = await ensure(tenantId);
      for (let attempt = 0; attempt < 3; attempt++) {
        const app = await directory.getApplicationByAppId(resourceApp.appId);
        if (!app) throw new Error('the Behalf MCP application was deleted; remove its record to recreate it');
        if (app.identifierUris.includes(resourceUrl)) return resourceApp;
        try {
          await directory.updateApplication(tenantId, app.id, {
            identifierUris: [...app.identifierUris, resourceUrl],
          });
          return resourceApp;
        } catch (error) {
          // A concurrent registration of the same URI: read again.
          if (attempt === 2) throw error;
        }
      }
      return resourceApp;
    },
  };
}
