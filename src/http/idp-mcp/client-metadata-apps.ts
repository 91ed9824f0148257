import { createHash } from 'node:crypto';
import { DuplicateKeyError } from '../../core/errors.ts';
import type { Directory } from '../../directory/directory.ts';
import { DirectoryError } from '../../directory/errors.ts';
import { ClientMetadataError } from '../../idp/endpoints/client-metadata-document.ts';
import type { ClientMetadata } from '../../idp/endpoints/client-metadata-document.ts';
import { CLIENT_METADATA_APP_TAG } from '../../idp/self-registered-apps.ts';
import type { RecordStore } from '../../storage/record-store.ts';

/**
 * A client ID metadata document becomes, in each tenant that sees it, one public-client application
 * registration, exactly like a client registered by RFC 7591: Behalf's standard /authorize and /token
 * then run unchanged (sign-in, consent, PKCE, codes, refresh) with that app's appId. The app is created
 * once per (tenant, document URL): a record keyed by both holds its appId, so two requests racing, or
 * two nodes, still make one app. When the document changes (new redirect URIs, another name) the app
 * follows it. An administrator sees these apps tagged `clientIdMetadataDocument` with the URL as
 * description, and can disable the service principal to block the client.
 */
export interface ClientMetadataApps {
  /** The appId of the application standing for this document in the tenant (created or updated). */
  appIdFor(tenantId: string, metadata: ClientMetadata): Promise<string>;
}

const KIND = 'mcp-client-metadata-app';
export { CLIENT_METADATA_APP_TAG };

interface Stored {
  readonly clientId: string;
  readonly appId: string;
}

const sameList = (a: readonly string[], b: readonly string[]) =>
  a.length === b.length && a.every((value, index) => value === b[index]);

export function createClientMetadataApps(options: {
  readonly directory: Directory;
  readonly store: RecordStore;
}): ClientMetadataApps {
  const { directory, store } = options;
  const pending = new Map<string, Promise<string>>();
  const recordId = (tenantId: string, clientId: string) =>
    `${tenantId}:${createHash('sha256').update(clientId).digest('base64url')}`;

  /** A document the directory refuses (a redirect URI Entra's rules reject) is the client's fault. */
  async function directoryWrite<T>(clientId: string, write: () => Promise<T>): Promise<T> {
    try {
      return await write();
    } catch (error) {
      if (error instanceof DirectoryError && error.status === 400)
        throw new ClientMetadataError(
          'invalid_client',
          `The client ID metadata document at ${clientId.slice(0, 200)} cannot be registered: ${error.message}`,
        );
      throw error;
    }
  }

  async function create(tenantId: string, metadata: ClientMetadata, id: string): Promise<string> {
    const app = await directoryWrite(metadata.clientId, () =>
      directory.createApplication(tenantId, {
        displayName: metadata.displayName,
        description: `Client ID metadata document: ${metadata.clientId}`.slice(0, 1024),
        signInAudience: 'AzureADMyOrg',
        isFallbackPublicClient: true,
        publicClient: { redirectUris: [...metadata.redirectUris] },
        tags: [CLIENT_METADATA_APP_TAG],
      }),
    );
    await directory.createServicePrincipal(tenantId, { appId: app.appId });
    try {
      await store.insert<Stored>({
        kind: KIND,
        id,
        partition: tenantId,
        data: { clientId: metadata.clientId, appId: app.appId },
      });
    } catch (error) {
      if (!(error instanceof DuplicateKeyError)) throw error;
      // Another node created it meanwhile: keep theirs.
      await directory.deleteApplication(tenantId, app.id);
      return resolve(tenantId, metadata, id);
    }
    return app.appId;
  }

  async function resolve(tenantId: string, metadata: ClientMetadata, id: string): Promise<string> {
    const record = await store.get<Stored>(KIND, id);
    if (!record) return create(tenantId, metadata, id);
    const app = await directory.getApplicationByAppId(record.data.appId);
    if (!app || app.tenantId !== tenantId) {
      // The application was deleted: the next request registers the client afresh.
      await store.delete(KIND, id, record.version);
      return create(tenantId, metadata, id);
    }
    if (
      app.displayName !== metadata.displayName ||
      !sameList(app.publicClient.redirectUris, metadata.redirectUris)
    )
      await directoryWrite(metadata.clientId, () =>
        directory.updateApplication(tenantId, app.id, {
          displayName: metadata.displayName,
          publicClient: { redirectUris: [...metadata.redirectUris] },
        }),
      );
    return app.appId;
  }

  return {
    appIdFor(tenantId, metadata) {
      const id = recordId(tenantId, metadata.clientId);
      let running = pending.get(id);
      if (!running) {
        running = resolve(tenantId, metadata, id).finally(() => pending.delete(id));
        pending.set(id, running);
      }
      return running;
    },
  };
}
