import { readFileSync } from 'node:fs';
import { systemClock } from '../../src/core/clock.ts';
import { cryptoRandom } from '../../src/core/ids.ts';
import { createEnvelope } from '../../src/crypto/envelope.ts';
import type { MasterKeyRing } from '../../src/crypto/master-key.ts';
import { pinKeyDerivation } from '../../src/crypto/master-key.ts';
import { createSigningKeyRing } from '../../src/crypto/signing-keys.ts';
import { createWorkloadIdentityIssuer } from '../../src/connections/acquisition/workload-identity.ts';
import { createConnectionRepository } from '../../src/connections/connection-repository.ts';
import { createConnectorRegistry } from '../../src/connections/connector-registry.ts';
import { createGatewayAppSecret } from '../../src/connections/gateway-app-secret.ts';
import { createVault, envelopeCipher } from '../../src/connections/vault.ts';
import { recordStoreKeyPersistence } from '../../src/idp/signing-key-store.ts';
import type { RecordStore } from '../../src/storage/record-store.ts';

/**
 * One value of every kind Behalf keeps envelope-encrypted in its store, each written by the part that
 * owns it, and a way to read them all back through those same parts: for vault rotation tests.
 *
 * - a per-user connection's access and refresh tokens (connection vault);
 * - an MCP connector's shared connection with a secure parameter (sealed as mcp-connectors-wire does);
 * - a connector's client secret (connector registry);
 * - the token-signing key ring (idp persistence, private keys sealed by the ring's cipher);
 * - the workload identity key; Behalf's own app secret (gateway app secret);
 * - the key-derivation root (pinKeyDerivation).
 */
export interface VaultValues {
  /** What each value is, in clear (keys, secrets as text; a derived subkey as hex). */
  readonly expected: Readonly<Record<string, string>>;
  /** Every value read back through its owner with `ring`. */
  read(ring: MasterKeyRing): Promise<Record<string, string>>;
  /** The connection holding tokens (for concurrent-writer tests). */
  readonly connectionId: string;
}

const FIXTURES = new URL('../../../shared/fixtures/power-platform-connectors/', import.meta.url).pathname;
const TENANT = 'tenant-vault';
const GATEWAY_APP = 'be4a1f00-c044-4a00-8000-000000000002';
const TOKEN_LIFETIME = 3600;

export async function writeVaultValues(store: RecordStore, ring: MasterKeyRing): Promise<VaultValues> {
  const parts = (ring_: MasterKeyRing) => {
    const envelope = createEnvelope(ring_);
    return {
      envelope,
      vault: createVault(envelopeCipher(envelope)),
      connections: createConnectionRepository({
        store,
        clock: systemClock,
        random: cryptoRandom,
        cacheMs: 0,
      }),
      registry: createConnectorRegistry({
        store,
        clock: systemClock,
        random: cryptoRandom,
        publicUrl: () => 'https://behalf.test',
        envelope,
      }),
      signingKeys: createSigningKeyRing({
        persistence: recordStoreKeyPersistence(store),
        cipher: envelope,
        clock: systemClock,
        tokenLifetimeSeconds: TOKEN_LIFETIME,
      }),
      workload: createWorkloadIdentityIssuer({
        store,
        envelope,
        clock: systemClock,
        random: cryptoRandom,
        publicUrl: () => 'https://behalf.test',
      }),
      // The directory accepts `valid` only; a kept secret that did not match would be replaced by `issued`.
      gateway: (valid: string, issued: string) =>
        createGatewayAppSecret({
          appId: GATEWAY_APP,
          store,
          envelope,
          directory: {
            issueSecret: async () => issued,
            isValid: async (_app, text) => text === valid,
          },
        }),
    };
  };
  const now = parts(ring);
  const expected: Record<string, string> = {};

  const connectionId = now.connections.newId();
  const created = await now.connections.create({
    id: connectionId,
    tenantId: TENANT,
    connectorId: 'c1',
    mode: 'per-user',
    owner: { tenantId: TENANT, userObjectId: 'alice' },
    createdBy: 'alice',
  });
  expected['access token'] = `at-${cryptoRandom.bytes(24).toString('base64url')}`;
  expected['refresh token'] = `rt-${cryptoRandom.bytes(24).toString('base64url')}`;
  await now.connections.replaceCredential(created, {
    accessToken: await now.vault.seal(connectionId, 'accessToken', expected['access token']),
    refreshToken: await now.vault.seal(connectionId, 'refreshToken', expected['refresh token']),
  });

  const mcpConnectionId = now.connections.newId();
  expected['MCP secure parameter'] = `api-key-${cryptoRandom.bytes(16).toString('hex')}`;
  await now.connections.create({
    id: mcpConnectionId,
    tenantId: TENANT,
    connectorId: 'mcp1',
    mode: 'shared',
    createdBy: 'maker',
    secureParameters: {
      apiKey: await now.vault.seal(mcpConnectionId, 'param:apiKey', expected['MCP secure parameter']),
    },
    state: 'connected',
  });

  expected['connector client secret'] = `cs-${cryptoRandom.bytes(20).toString('base64url')}`;
  const read = (path: string) => readFileSync(FIXTURES + path, 'utf8');
  const { connector } = await now.registry.create(
    TENANT,
    {
      apiDefinition: {
        name: 'apiDefinition.swagger.json',
        text: read('3E Events/apiDefinition.swagger.json'),
      },
      apiProperties: { name: 'apiProperties.json', text: read('3E Events/apiProperties.json') },
    },
    expected['connector client secret'],
  );

  await now.signingKeys.ensure();
  expected['signing key'] = pem(now.signingKeys.signingKey().privateKey);
  expected['workload identity key'] = JSON.stringify((await now.workload.jwks()).keys);
  expected['gateway secret'] = `gw-${cryptoRandom.bytes(20).toString('base64url')}`;
  await now.gateway(expected['gateway secret'], expected['gateway secret']).get();
  expected['derivation root'] = (await pinKeyDerivation(ring, store)).deriveKey('test').toString('hex');

  return {
    expected,
    connectionId,
    async read(ring_) {
      const later = parts(ring_);
      const connection = (await later.connections.get(connectionId))!;
      const mcp = (await later.connections.get(mcpConnectionId))!;
      await later.signingKeys.load();
      return {
        'access token': await later.vault.open(
          connectionId,
          'accessToken',
          connection.data.credential.accessToken!,
        ),
        'refresh token': await later.vault.open(
          connectionId,
          'refreshToken',
          connection.data.credential.refreshToken!,
        ),
        'MCP secure parameter': await later.vault.open(
          mcpConnectionId,
          'param:apiKey',
          mcp.data.secureParameters['apiKey']!,
        ),
        'connector client secret': (await later.registry.clientSecret(TENANT, connector.id))!,
        'signing key': pem(later.signingKeys.signingKey().privateKey),
        'workload identity key': JSON.stringify((await later.workload.jwks()).keys),
        'gateway secret': await later.gateway(expected['gateway secret']!, 'replaced').get(),
        'derivation root': (await pinKeyDerivation(ring_, store)).deriveKey('test').toString('hex'),
      };
    },
  };
}

const pem = (key: { export(options: { format: 'pem'; type: 'pkcs8' }): string | Buffer }) =>
  key.export({ format: 'pem', type: 'pkcs8' }).toString();
