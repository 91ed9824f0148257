import type { Clock } from '../../core/clock.ts';
import type { Random } from '../../core/ids.ts';
import type { Logger } from '../../core/logger.ts';
import { createEnvelope } from '../../crypto/envelope.ts';
import type { MasterKeyRing } from '../../crypto/master-key.ts';
import type { ConnectorRegistry } from '../../connections/connector-registry.ts';
import { versionCheckedConnectorSource } from '../../connections/connector-cache.ts';
import { registryConnectorSource } from '../../connections/connector-source.ts';
import { createOutboundHttp } from '../../connections/outbound-http.ts';
import type { OutboundHttp } from '../../connections/outbound-http.ts';
import { createConnectionServices } from '../../connections/services.ts';
import type { ConnectionServices } from '../../connections/services.ts';
import { createInvokeOperation } from '../../gateway/invoke-operation.ts';
import type { InvokeOperation } from '../../gateway/invoke-operation.ts';
import { createGateway } from '../../gateway/invoke.ts';
import type { Gateway } from '../../gateway/invoke.ts';
import type { RecordStore } from '../../storage/record-store.ts';
import type { RouteModule } from '../server.ts';
import { gatewayRoutes } from '../gateway/routes.ts';
import { connectionRoutes } from './routes.ts';

/**
 * Connections and the gateway in one call for main.ts: services, gateway, the in-process
 * invokeOperation for agent tools, and the route modules.
 */
export interface ConnectionsFeatureOptions {
  readonly store: RecordStore;
  readonly clock: Clock;
  readonly random: Random;
  readonly logger: Logger;
  readonly masterKeys: MasterKeyRing;
  readonly registry: ConnectorRegistry;
  readonly publicUrl: () => string;
  /** The identity provider base URL; Behalf's own by default. */
  readonly authority?: () => string;
  /**
   * Behalf Connections' appId and client secret (the gateway's own app registration); the secret is
   * read only when a token request needs it (see `createGatewayAppSecret`).
   */
  readonly behalfConnections: { readonly clientId: string; readonly secret: () => Promise<string> };
  /** Behalf's local CA (PEM), so the gateway trusts Behalf's own IdP and demo APIs over HTTPS. */
  readonly caCertificatePem?: string | undefined;
  readonly isAdministrator: (tenantId: string, objectId: string) => Promise<boolean>;
  /** Connector apps' exposed delegated scopes, for SSO consent links (from Behalf's directory). */
  readonly exposedScopes?: (tenantId: string, appId: string) => Promise<readonly string[]>;
}

export interface ConnectionsFeature {
  /** The connector registry the gateway reads (also served by the connector management API). */
  readonly registry: ConnectorRegistry;
  readonly services: ConnectionServices;
  readonly gateway: Gateway;
  readonly invokeOperation: InvokeOperation;
  readonly http: OutboundHttp;
  readonly routes: readonly RouteModule[];
  close(): Promise<void>;
}

export function createConnectionsFeature(options: ConnectionsFeatureOptions): ConnectionsFeature {
  const { store, clock, random, logger, publicUrl } = options;
  const http = createOutboundHttp(options.caCertificatePem ? { ca: options.caCertificatePem } : {});
  // Loaded connectors are kept while their stored version holds (checked at most once a second).
  const connectors = versionCheckedConnectorSource(
    registryConnectorSource(options.registry, clock, 0),
    store,
  );
  const behalf = options.behalfConnections;
  const services = createConnectionServices({
    store,
    clock,
    random,
    logger,
    envelope: createEnvelope(options.masterKeys),
    http,
    connectors,
    publicUrl,
    authority: options.authority ?? publicUrl,
    behalfConnections: () => ({ kind: 'secret', clientId: behalf.clientId, secret: behalf.secret }),
    ticketKey: options.masterKeys.deriveKey('consent link tickets'),
    ...(options.exposedScopes ? { exposedScopes: options.exposedScopes } : {}),
  });
  const gateway = createGateway({
    connectors,
    connections: services.connections,
    sharing: services.sharing,
    credentials: services.credentials,
    http,
    audit: services.audit,
    random,
    clock,
    logger,
    publicUrl,
    consentCard: (caller, connector) => services.consent.card(caller, connector, 'interactive'),
  });
  const routes: RouteModule[] = [
    gatewayRoutes({
      gateway,
      verifier: services.verifier,
      consent: services.consent,
      issuer: services.issuer,
      logger,
    }),
    connectionRoutes({
      verifier: services.verifier,
      connections: services.connections,
      connectors,
      sharing: services.sharing,
      audit: services.audit,
      vault: services.vault,
      refresher: services.refresher,
      isAdministrator: options.isAdministrator,
      logger,
    }),
  ];
  return {
    registry: options.registry,
    services,
    gateway,
    invokeOperation: createInvokeOperation(gateway, services.verifier),
    http,
    routes,
    // The audit queue is written before the store closes (main.ts closes the store after this).
    close: async () => {
      await services.audit.close();
      await http.close();
    },
  };
}
