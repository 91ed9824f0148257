import { mkdirSync } from 'node:fs';
import { join, resolve } from 'node:path';
import type { FastifyInstance } from 'fastify';
import type { Clock } from './core/clock.ts';
import { systemClock } from './core/clock.ts';
import type { Config } from './core/config.ts';
import type { Random } from './core/ids.ts';
import { cryptoRandom } from './core/ids.ts';
import type { Logger } from './core/logger.ts';
import { createJsonLogger } from './core/logger.ts';
import { openPostgresStore } from './storage/adapters/postgres.ts';
import { openSqliteStore } from './storage/adapters/sqlite.ts';
import type { RecordStore } from './storage/record-store.ts';
import type { RouteModule } from './http/server.ts';
import { createHttpServer } from './http/server.ts';
import { ensureTlsMaterial, readTlsFiles } from './crypto/tls.ts';
import { clientSecretPepper, loadMasterKeyRing, pinKeyDerivation } from './crypto/master-key.ts';
import { createSecretHasher, hashPassword, verifyPassword } from './crypto/hashing.ts';
import { createDirectory } from './directory/directory.ts';
import type { Directory } from './directory/directory.ts';
import { bootstrapDirectory, ensureAdminCredential } from './directory/bootstrap.ts';
import type { AdminCredential } from './directory/bootstrap.ts';
import { createInteractiveIdp } from './http/idp-interactive/wire.ts';
import type { Administrators } from './idp/session/administrators.ts';
import { createTokenIdp } from './http/idp/wire.ts';
import { watchDirectoryWrites } from './idp/directory-changes.ts';
import type { TokenService } from './idp/token-service.ts';
import { graphApiRoutes, graphBearerVerifier } from './http/graph/index.ts';
import { connectorRoutes } from './http/connectors/routes.ts';
import { createConnectorRegistry } from './connections/connector-registry.ts';
import { createEnvelope } from './crypto/envelope.ts';
import type { SigningKeyRing } from './crypto/signing-keys.ts';
import { createAgentsFeature, registryLoadConnector } from './http/agents/wire.ts';
import type { AgentsFeature } from './http/agents/wire.ts';
import { llmFromConfig } from './agents/llm/from-config.ts';
import { createConnectionsFeature } from './http/connections/wire.ts';
import type { ConnectionsFeature } from './http/connections/wire.ts';
import { createGatewayAppSecret } from './connections/gateway-app-secret.ts';

/**
 * The composition root: configuration → store → services → HTTP. Every collaborator is built here with
 * plain factories and passed explicitly (ARCHITECTURE.md, "Explicit dependencies").
 */
export interface BehalfOptions {
  readonly config: Config;
  readonly logger?: Logger;
  readonly clock?: Clock;
  readonly random?: Random;
}

/** The base URL is known only once the server listens (port 0 in tests), so services read it lazily. */
export interface PublicUrl {
  (): string;
}

export interface Behalf {
  readonly config: Config;
  readonly url: string;
  readonly store: RecordStore;
  readonly http: FastifyInstance;
  /** The local CA certificate clients must trust (`NODE_EXTRA_CA_CERTS`); undefined with an operator certificate. */
  readonly caCertificatePath: string | undefined;
  readonly directory: Directory;
  /** Who may consent for a whole tenant (stand-in for Entra's directory roles). */
  readonly administrators: Administrators;
  /** The built-in administrator app's client secret (`<dataDir>/admin-credential.json`). */
  readonly adminCredential: AdminCredential;
  /** The Entra-compatible token service (token endpoint, codes, verifier of Behalf-issued tokens). */
  readonly tokens: TokenService;
  /** The token signing keys (rotation; Easy Auth's e2e rotates them to prove validators follow). */
  readonly signingKeys: SigningKeyRing;
  /** Connections and the gateway: services, `invokeOperation` for agent tools (docs/connections.md). */
  readonly connections: ConnectionsFeature;
  /** Agents: their store, run history and tool runner (MCP server and MCP authorization routes). */
  readonly agents: AgentsFeature;
  close(): Promise<void>;
}

export async function startBehalf(options: BehalfOptions): Promise<Behalf> {
  const { config } = options;
  const logger = options.logger ?? createJsonLogger({ level: config.logLevel });
  const clock = options.clock ?? systemClock;
  const random = options.random ?? cryptoRandom;
  const dataDir = resolve(config.dataDir);
  mkdirSync(dataDir, { recursive: true, mode: 0o700 });

  // Directory writes made through this store drop the token service's directory cache at once.
  const { store, changes: directoryChanges } = watchDirectoryWrites(
    config.databaseUrl
      ? await openPostgresStore({ connectionString: config.databaseUrl, clock })
      : openSqliteStore({ filename: join(dataDir, 'behalf.db'), clock }),
  );

  let baseUrl = config.publicUrl?.replace(/\/$/, '') ?? '';
  const publicUrl: PublicUrl = () => baseUrl;
  void random;
  void publicUrl;

  // MSAL refuses http: authorities, so Behalf always serves HTTPS: the operator's certificate, or one
  // issued by a local CA kept in the data directory.
  const tls =
    config.tlsCert || config.tlsKey
      ? readTlsFiles({ certificateFile: config.tlsCert, keyFile: config.tlsKey })
      : await ensureTlsMaterial({ dir: join(dataDir, 'tls'), hostNames: [config.host], clock, logger });
  // Follows <dataDir>/master.key while running (vault rotate is online); subkeys from a root kept in the store.
  const keyRing = await pinKeyDerivation(
    loadMasterKeyRing({ masterKey: config.masterKey, dataDir, logger, follow: true }),
    store,
  );
  const directory = createDirectory({
    store,
    clock,
    random,
    secretHasher: createSecretHasher(clientSecretPepper(keyRing)),
    passwordHasher: { hash: (p) => hashPassword(p), verify: verifyPassword },
  });
  const { homeTenant } = await bootstrapDirectory(directory);
  const interactive = createInteractiveIdp({
    store,
    clock,
    random,
    logger,
    directory,
    deriveKey: (purpose) => keyRing.deriveKey(purpose),
    authorizationCodeLifetime: config.authorizationCodeLifetime,
    baseUrl: publicUrl,
    // Late-bound: the token service is built next, and userinfo only runs once the server listens.
    verifyAccessToken: (token, expect) => tokenIdp.tokens.verifyAccessToken(token, expect),
    signingKeys: () => tokenIdp.signingKeys,
    idTokenLifetime: config.idTokenLifetime,
  });
  const tokenIdp = await createTokenIdp({
    config,
    store,
    clock,
    random,
    logger,
    directory,
    masterKeys: keyRing,
    baseUrl: publicUrl,
    caCertificatePem: tls.caCertificatePem,
    extraGrants: interactive.grants,
    directoryChanges,
  });
  const connectorRegistry = createConnectorRegistry({
    store,
    clock,
    random,
    publicUrl,
    envelope: createEnvelope(keyRing),
  });
  // The gateway's own app (the demo's fixed appId); its secret is provisioned by Behalf on first use.
  const behalfConnectionsAppId = 'be4a1f00-c044-4a00-8000-000000000002';
  const gatewaySecret = createGatewayAppSecret({
    appId: behalfConnectionsAppId,
    store,
    envelope: createEnvelope(keyRing),
    directory: {
      async issueSecret(appId) {
        const app = await directory.getApplicationByAppId(appId);
        if (!app) return undefined;
        return (await directory.addPassword(app.tenantId, app.id, { displayName: 'Behalf gateway' }))
          .secretText;
      },
      isValid: async (appId, secret) =>
        (await directory.verifyClientSecret(appId, secret)).status === 'valid',
    },
  });
  // Management API callers: app-only by Graph application permissions; delegated ones bounded by the
  // user's own rights (only tenant administrators write).
  const managementBearer = graphBearerVerifier(tokenIdp.tokens, interactive.administrators);
  const connections = createConnectionsFeature({
    store,
    clock,
    random,
    logger,
    masterKeys: keyRing,
    registry: connectorRegistry,
    publicUrl,
    caCertificatePem: tls.caCertificatePem,
    behalfConnections: { clientId: behalfConnectionsAppId, secret: () => gatewaySecret.get() },
    isAdministrator: (tenantId, objectId) => interactive.administrators.isAdministrator(tenantId, objectId),
    // A multi-tenant connector app exposes the same scopes in every tenant it has a service principal in.
    exposedScopes: async (_tenantId, appId) => {
      const app = await directory.getApplicationByAppId(appId);
      if (!app) return [];
      const prefix = app.identifierUris[0] ?? app.appId;
      return app.api.oauth2PermissionScopes
        .filter((scope) => scope.isEnabled)
        .map((scope) => `${prefix}/${scope.value}`);
    },
  });
  const agents = createAgentsFeature({
    store,
    clock,
    random,
    logger,
    directory,
    tokens: tokenIdp.tokens,
    envelope: createEnvelope(keyRing),
    publicUrl,
    loadConnector: registryLoadConnector(connectorRegistry),
    invokeOperation: connections.invokeOperation,
    behalfConnectionsAppId: () => behalfConnectionsAppId,
    caCertificatePem: tls.caCertificatePem,
    clientMetadataAllowlist: config.clientMetadataAllowlist,
    isAdministrator: (tenantId, objectId) => interactive.administrators.isAdministrator(tenantId, objectId),
    llm: llmFromConfig(config),
    api: { verifyMaker: managementBearer, userVerifier: connections.services.verifier },
    mcpConnectors: { registry: connectorRegistry, services: connections.services },
  });
  const routes: RouteModule[] = [
    interactive.routes,
    tokenIdp.routes,
    graphApiRoutes({
      directory,
      logger,
      verifyBearer: managementBearer,
      homeTenantId: () => homeTenant.id,
    }),
    connectorRoutes({
      registry: connectorRegistry,
      verifyBearer: managementBearer,
      logger,
    }),
    ...connections.routes,
    ...agents.routes,
  ];
  const http = await createHttpServer({ logger, routes, tls });
  await http.listen({ port: config.port, host: config.bindAddress });
  const address = http.server.address();
  const port = typeof address === 'object' && address ? address.port : config.port;
  if (!config.publicUrl) baseUrl = `https://${config.host}:${port}`;
  logger.info('Behalf is listening', {
    url: baseUrl,
    ...(tls.caCertificatePath ? { trust: `NODE_EXTRA_CA_CERTS=${tls.caCertificatePath}` } : {}),
  });

  const adminCredential = await ensureAdminCredential({
    directory,
    file: join(dataDir, 'admin-credential.json'),
    authority: `${baseUrl}/${homeTenant.id}/v2.0`,
    tenantId: homeTenant.id,
    logger,
  });

  return {
    config,
    url: baseUrl,
    directory,
    administrators: interactive.administrators,
    adminCredential,
    tokens: tokenIdp.tokens,
    signingKeys: tokenIdp.signingKeys,
    connections,
    agents,
    caCertificatePath: tls.caCertificatePath,
    store,
    http,
    async close() {
      await http.close();
      await connections.close();
      await store.close();
    },
  };
}
