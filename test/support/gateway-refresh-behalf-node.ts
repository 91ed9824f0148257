/**
 * One whole Behalf process (`startBehalf` from src/main.ts: its own HTTPS server, token service,
 * gateway and refresher) for the multi-process refresh e2e, started by gateway-refresh-behalf-cluster.ts
 * and driven over Node's IPC channel. Configuration comes in BEHALF_NODE_CONFIG (JSON: dataDir,
 * masterKey, databaseUrl), never from BEHALF_* variables, so nodes of one test agree exactly. It loads
 * its modules at once but starts Behalf only when told (`start`), so the parent can load several
 * processes in parallel and still start them one after the other on a fresh store.
 *
 * Its clock is the system clock plus an offset the parent can move forward (`advanceClock`): the
 * refresh lease of startBehalf is 30 s, and the SIGKILL test makes time pass for the survivor instead
 * of sleeping through it.
 */
import { randomUUID } from 'node:crypto';
import { loadConfig } from '../../src/core/config.ts';
import type { Clock } from '../../src/core/clock.ts';
import { DuplicateKeyError } from '../../src/core/errors.ts';
import { createJsonLogger } from '../../src/core/logger.ts';
import type { PackageFiles } from '../../src/connectors/package.ts';
import { LEASE_KIND } from '../../src/connections/refresh-lease.ts';
import { tokenHash } from '../../src/connections/vault.ts';
import type { Behalf } from '../../src/main.ts';
import { startBehalf } from '../../src/main.ts';
import { prepareDemoTenant } from './gateway-demo.ts';

type Message = Record<string, unknown> & { type: string; id: number };

const settings = JSON.parse(process.env['BEHALF_NODE_CONFIG'] ?? '{}') as {
  dataDir: string;
  masterKey: string;
  databaseUrl?: string;
};
let offsetMs = 0;
const clock: Clock = { now: () => Date.now() + offsetMs };
const logger = createJsonLogger({ level: 'info', now: () => clock.now() });
let started: Behalf | undefined;
const behalfOf = () => {
  if (!started) throw new Error('Behalf has not started');
  return started;
};
// What the parent waits on: gateway calls received, and attempts to take a connection's refresh lease
// in the shared store (acquired, or refused because another process holds it).
const stats = { apimRequests: 0, leaseAcquired: 0, leaseRefused: 0 };

/**
 * A connector for the provider's API: `identityProvider: oauth2` with its own authorization and token
 * URLs (connector-format.md §1.3.2), one GET operation.
 */
function rotatingMailPackage(providerUrl: string, clientId: string): PackageFiles {
  const api = new URL(providerUrl);
  const definition = {
    swagger: '2.0',
    info: { title: 'Rotating Mail', description: 'Mail behind rotating refresh tokens', version: '1.0' },
    host: api.host,
    basePath: '/',
    schemes: ['http'],
    produces: ['application/json'],
    paths: {
      '/v1.0/me/messages': {
        get: {
          operationId: 'GetEmails',
          summary: 'Get emails',
          description: 'Lists the signed-in user’s messages.',
          parameters: [{ name: '$top', in: 'query', required: false, type: 'integer' }],
          responses: { '200': { description: 'OK' } },
        },
      },
    },
    securityDefinitions: {
      oauth2_auth: {
        type: 'oauth2',
        flow: 'accessCode',
        authorizationUrl: `${providerUrl}/authorize`,
        tokenUrl: `${providerUrl}/token`,
        scopes: { 'Mail.Read': 'Read mail' },
      },
    },
    security: [{ oauth2_auth: ['Mail.Read'] }],
  };
  const properties = {
    properties: {
      connectionParameters: {
        token: {
          type: 'oauthSetting',
          oAuthSettings: {
            identityProvider: 'oauth2',
            clientId,
            scopes: ['Mail.Read'],
            redirectMode: 'GlobalPerConnector',
            properties: { IsFirstParty: 'False' },
            customParameters: {
              authorizationUrl: { value: `${providerUrl}/authorize` },
              tokenUrl: { value: `${providerUrl}/token` },
              refreshUrl: { value: `${providerUrl}/token` },
            },
          },
        },
      },
      iconBrandColor: '#0f6cbd',
      capabilities: [],
      publisher: 'Behalf tests',
      stackOwner: 'Behalf tests',
    },
  };
  return {
    apiDefinition: { name: 'apiDefinition.swagger.json', text: JSON.stringify(definition) },
    apiProperties: { name: 'apiProperties.json', text: JSON.stringify(properties) },
  };
}

const handlers: Record<string, (m: Message) => Promise<Record<string, unknown>>> = {
  /** Modules are loaded before this (the slow part), so the parent can start processes in order. */
  async start() {
    started = await startBehalf({
      config: loadConfig(
        {
          dataDir: settings.dataDir,
          masterKey: settings.masterKey,
          ...(settings.databaseUrl ? { databaseUrl: settings.databaseUrl } : {}),
          host: '127.0.0.1',
          port: 0,
        },
        {},
      ),
      logger,
      clock,
    });
    started.http.server.on('request', (req: { url?: string }) => {
      if (req.url?.startsWith('/apim/')) stats.apimRequests++;
    });
    // The lease is a record the refresher inserts (refresh-lease.ts): count the outcomes as they settle.
    const store = started.store;
    const insert = store.insert.bind(store);
    store.insert = async (record) => {
      if (record.kind !== LEASE_KIND) return insert(record);
      try {
        const taken = await insert(record);
        stats.leaseAcquired++;
        return taken;
      } catch (error) {
        if (error instanceof DuplicateKeyError) stats.leaseRefused++;
        throw error;
      }
    };
    return { url: started.url, caCertificatePath: started.caCertificatePath };
  },
  /** First node only: the demo tenant, the connector, and Alice's connection whose token just expired. */
  async setup(m) {
    const behalf = behalfOf();
    const demo = await prepareDemoTenant(behalf, settings.dataDir, logger);
    const alice = demo.users.find((u) => u.username.startsWith('alice@'))!;
    const { connector } = await behalf.connections.registry.create(
      demo.tenantId,
      rotatingMailPackage(m['providerUrl'] as string, m['clientId'] as string),
      m['clientSecret'] as string,
    );
    const { connections, vault } = behalf.connections.services;
    const id = randomUUID();
    const created = await connections.create({
      id,
      tenantId: demo.tenantId,
      connectorId: connector.id,
      displayName: 'Alice’s rotating mail',
      mode: 'per-user',
      owner: { tenantId: demo.tenantId, userObjectId: alice.objectId },
      createdBy: alice.objectId,
    });
    const refreshToken = m['refreshToken'] as string;
    // What a sign-in stored an hour ago: the access token expired a second ago, the refresh token is live.
    const seeded = await connections.replaceCredential(created, {
      accessToken: await vault.seal(id, 'accessToken', m['expiredAccessToken'] as string),
      accessTokenExpiresAt: clock.now() - 1000,
      refreshToken: await vault.seal(id, 'refreshToken', refreshToken),
      refreshTokenHash: tokenHash(refreshToken),
    });
    if (!seeded) throw new Error('could not seed the connection');
    const chat = demo.apps['Behalf Chat']!;
    return {
      tenantId: demo.tenantId,
      connectorId: connector.id,
      connectionId: id,
      chat: { appId: chat.appId, secret: chat.clientSecret },
      alice: { username: alice.username, password: alice.password },
    };
  },
  async stats() {
    return { ...stats };
  },
  async advanceClock(m) {
    offsetMs += m['ms'] as number;
    return { offsetMs };
  },
};

process.on('message', (raw) => {
  const message = raw as Message;
  if (message.type === 'close') {
    void (started?.close() ?? Promise.resolve()).finally(() => process.exit(0));
    return;
  }
  const handler = handlers[message.type];
  Promise.resolve()
    .then(() => {
      if (!handler) throw new Error(`unknown request ${message.type}`);
      return handler(message);
    })
    .then(
      (reply) => process.send!({ ...reply, id: message.id }),
      (error: unknown) => process.send!({ id: message.id, error: String((error as Error).stack ?? error) }),
    );
});
process.send!({ id: -1, pid: process.pid });
