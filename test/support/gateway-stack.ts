import { randomBytes } from 'node:crypto';
import { systemClock } from '../../src/core/clock.ts';
import { cryptoRandom } from '../../src/core/ids.ts';
import type { Logger } from '../../src/core/logger.ts';
import { silentLogger } from '../../src/core/logger.ts';
import { createEnvelope } from '../../src/crypto/envelope.ts';
import { createMasterKeyRing } from '../../src/crypto/master-key.ts';
import { createMemoryStore } from '../../src/storage/adapters/memory.ts';
import type { RecordStore } from '../../src/storage/record-store.ts';
import type { ConnectorSource, LoadedConnector } from '../../src/connections/connector-source.ts';
import { createOutboundHttp } from '../../src/connections/outbound-http.ts';
import type { OutboundHttp } from '../../src/connections/outbound-http.ts';
import { createConnectionServices } from '../../src/connections/services.ts';
import type { ConnectionServices } from '../../src/connections/services.ts';
import { importPackage } from '../../src/connectors/index.ts';
import { createGateway } from '../../src/gateway/invoke.ts';
import type { Gateway } from '../../src/gateway/invoke.ts';
import type { FakeIdp } from './gateway-fake-idp.ts';

/**
 * The connections part and the gateway over a memory store, pointed at the loopback fake IdP and its
 * mail API, with connector packages built from a small Graph-shaped definition.
 */
export const BEHALF_CLIENT_ID = 'be4a1f00-c044-4a00-8000-000000000002';
export const BEHALF_SECRET = 'behalf-connections-secret-value';
export const CONNECTOR_CLIENT_ID = '9b8c7d6e-5f40-4a3b-8c2d-1e0f9a8b7c6d';
export const API_AUDIENCE = 'api://contoso-mail';

export interface TestConnector {
  readonly id: string;
  readonly sso: boolean;
  readonly secret?: string;
}

export function mailPackage(apiUrl: string, idpUrl: string, sso: boolean) {
  const api = new URL(apiUrl);
  const definition = {
    swagger: '2.0',
    info: { title: 'Contoso Mail', description: 'Mail', version: '1.0' },
    host: api.host,
    basePath: '/',
    schemes: [api.protocol.replace(':', '')],
    paths: {
      '/v1.0/me/mailFolders/{folder}/messages': {
        get: {
          operationId: 'GetEmails',
          summary: 'Get emails',
          parameters: [
            { name: 'folder', in: 'path', required: true, type: 'string', default: 'inbox' },
            { name: '$filter', in: 'query', required: false, type: 'string' },
            { name: '$top', in: 'query', required: false, type: 'integer' },
          ],
          responses: { '200': { description: 'OK' } },
        },
      },
      '/v1.0/users/{userId}/messages': {
        get: {
          operationId: 'GetUserEmails',
          summary: 'Get emails of a user',
          parameters: [{ name: 'userId', in: 'path', required: true, type: 'string' }],
          responses: { '200': { description: 'OK' } },
        },
      },
    },
    securityDefinitions: {
      oauth2_auth: {
        type: 'oauth2',
        flow: 'accessCode',
        authorizationUrl: 'https://x/authorize',
        tokenUrl: 'https://x/token',
        scopes: {},
      },
    },
  };
  const properties = {
    properties: {
      connectionParameters: {
        token: {
          type: 'oauthSetting',
          oAuthSettings: {
            identityProvider: 'aad',
            clientId: CONNECTOR_CLIENT_ID,
            scopes: [],
            redirectMode: 'GlobalPerConnector',
            properties: {
              IsFirstParty: 'False',
              AzureActiveDirectoryResourceId: API_AUDIENCE,
              IsOnbehalfofLoginSupported: sso,
            },
            customParameters: {
              loginUri: { value: idpUrl },
              tenantId: { value: 'common' },
              resourceUri: { value: API_AUDIENCE },
              enableOnbehalfOfLogin: { value: sso ? 'true' : 'false' },
            },
          },
        },
      },
      policyTemplateInstances: [
        {
          templateId: 'updatenextlink',
          title: 'next link',
          parameters: {
            'x-ms-apimTemplate-operationName': ['GetEmails'],
            'x-ms-apimTemplateParameter.nextLinkPropertyName': '@odata.nextLink',
          },
        },
      ],
    },
  };
  return { definition, properties };
}

export function fakeConnectorSource(
  tenantId: string,
  connectors: readonly TestConnector[],
  build: (connector: TestConnector) => { definition: unknown; properties: unknown },
): ConnectorSource {
  const loaded = new Map<string, LoadedConnector>();
  for (const connector of connectors) {
    const files = build(connector);
    const imported = importPackage({
      apiDefinition: { name: 'apiDefinition.swagger.json', text: JSON.stringify(files.definition) },
      apiProperties: { name: 'apiProperties.json', text: JSON.stringify(files.properties) },
    });
    if (!imported.model) throw new Error(JSON.stringify(imported.diagnostics));
    loaded.set(connector.id, {
      id: connector.id,
      tenantId,
      version: 1,
      model: imported.model,
      securityDefinitions: (files.definition as { securityDefinitions: Record<string, unknown> })
        .securityDefinitions,
    });
  }
  const find = (connectorId: string) => {
    const found = loaded.get(connectorId);
    if (!found) throw Object.assign(new Error('no connector'), { status: 404 });
    return found;
  };
  return {
    load: async (_tenantId, connectorId) => find(connectorId),
    clientSecret: async (_tenantId, connectorId) => connectors.find((c) => c.id === connectorId)?.secret,
    workloadSubject: async (tid, connectorId) => `connector:${tid}:${connectorId}`,
  };
}

export interface GatewayStack {
  readonly services: ConnectionServices;
  readonly gateway: Gateway;
  readonly store: RecordStore;
  readonly http: OutboundHttp;
  close(): Promise<void>;
}

export function gatewayStack(options: {
  idp: FakeIdp;
  connectors: ConnectorSource;
  publicUrl?: string;
  store?: RecordStore;
  logger?: Logger;
}): GatewayStack {
  const store = options.store ?? createMemoryStore();
  const http = createOutboundHttp({ retry: { baseDelayMs: 5, maxDelayMs: 20 }, timeoutMs: 2_000 });
  const publicUrl = () => options.publicUrl ?? 'https://behalf.test';
  const logger = options.logger ?? silentLogger;
  const services = createConnectionServices({
    store,
    clock: systemClock,
    random: cryptoRandom,
    logger,
    envelope: createEnvelope(createMasterKeyRing([{ version: 1, key: randomBytes(32) }])),
    http,
    connectors: options.connectors,
    publicUrl,
    authority: () => options.idp.url,
    behalfConnections: () => ({
      kind: 'secret',
      clientId: BEHALF_CLIENT_ID,
      secret: async () => BEHALF_SECRET,
    }),
    ticketKey: randomBytes(32),
  });
  const gateway = createGateway({
    connectors: options.connectors,
    connections: services.connections,
    sharing: services.sharing,
    credentials: services.credentials,
    http,
    audit: services.audit,
    random: cryptoRandom,
    logger,
    publicUrl,
    consentCard: (caller, connector) => services.consent.card(caller, connector, 'interactive'),
  });
  return { services, gateway, store, http, close: () => http.close() };
}
