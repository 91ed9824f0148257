import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import { manualClock } from '../core/clock.ts';
import { cryptoRandom } from '../core/ids.ts';
import { createEnvelope } from '../crypto/envelope.ts';
import { createMasterKeyRing } from '../crypto/master-key.ts';
import { createMemoryStore } from '../storage/adapters/memory.ts';
import {
  CONNECTOR_KIND,
  CONNECTOR_VERSION_KIND,
  ConnectorNotFoundError,
  createConnectorRegistry,
  InvalidConnectorPackageError,
} from './connector-registry.ts';

const ROOT = new URL('../../../shared/fixtures/power-platform-connectors/', import.meta.url).pathname;
const read = (p: string) => readFileSync(ROOT + p, 'utf8');
const threeE = {
  apiDefinition: { name: 'apiDefinition.swagger.json', text: read('3E Events/apiDefinition.swagger.json') },
  apiProperties: { name: 'apiProperties.json', text: read('3E Events/apiProperties.json') },
};

function setup() {
  const store = createMemoryStore();
  const envelope = createEnvelope(createMasterKeyRing([{ version: 1, key: randomBytes(32) }]));
  const registry = createConnectorRegistry({
    store,
    clock: manualClock(1_700_000_000_000),
    random: cryptoRandom,
    publicUrl: () => 'https://behalf.test:7443',
    envelope,
  });
  return { store, registry };
}

describe('connector registry', () => {
  it('creates with a stable id, per-connector redirect URL and workload identity; secret write-only and encrypted', async () => {
    const { store, registry } = setup();
    const { connector } = await registry.create('tenant-a', threeE, 'my-client-secret');
    assert.equal(connector.redirectUrl, `https://behalf.test:7443/redirect/${connector.id}`);
    assert.deepEqual(connector.workloadIdentity, {
      issuer: 'https://behalf.test:7443/workload-identity',
      subject: `connector:tenant-a:${connector.id}`,
      audience: 'api://AzureADTokenExchange',
    });
    assert.equal(connector.hasClientSecret, true);
    assert.equal(connector.displayName, '3E Events');
    assert.deepEqual(connector.identityProviders, ['oauth2generic']);
    const raw = JSON.stringify(await store.get(CONNECTOR_KIND, connector.id));
    assert.doesNotMatch(raw, /my-client-secret/);
    // The placeholder secret in the file ("clientSecret": "[[DUMMY]]") is not stored in clear either.
    const stored = (await store.get<{ package: { apiProperties: string } }>(CONNECTOR_KIND, connector.id))!;
    assert.doesNotMatch(stored.data.package.apiProperties, /"clientSecret"/);
    assert.match(stored.data.package.apiProperties, /"clientId": "\[\[DUMMY\]\]"/);
    assert.doesNotMatch(JSON.stringify(connector), /my-client-secret/);
    assert.equal(await registry.clientSecret('tenant-a', connector.id), 'my-client-secret');
  });

  it('downloads what was uploaded, without secrets', async () => {
    const { registry } = setup();
    const { connector } = await registry.create('tenant-a', threeE);
    const pkg = await registry.download('tenant-a', connector.id);
    assert.equal(pkg.apiDefinition.text, threeE.apiDefinition.text);
    const expected = JSON.parse(threeE.apiProperties.text) as {
      properties: {
        connectionParameterSets: {
          values: { parameters: { token: { oAuthSettings: Record<string, unknown> } } }[];
        };
      };
    };
    for (const set of expected.properties.connectionParameterSets.values)
      delete set.parameters.token.oAuthSettings.clientSecret;
    assert.deepEqual(JSON.parse(pkg.apiProperties!.text), expected);
  });

  it('keeps versions, isolates tenants, refuses invalid packages with diagnostics, deletes', async () => {
    const { store, registry } = setup();
    const { connector } = await registry.create('tenant-a', threeE);
    const { connector: v2 } = await registry.update('tenant-a', connector.id, threeE);
    assert.equal(v2.version, 2);
    assert.equal(v2.id, connector.id);
    assert.equal(v2.redirectUrl, connector.redirectUrl);
    assert.equal((await store.findByIndex(CONNECTOR_VERSION_KIND, `connector:${connector.id}`)).length, 2);
    await assert.rejects(registry.get('tenant-b', connector.id), ConnectorNotFoundError);
    assert.deepEqual(await registry.list('tenant-b'), []);
    assert.equal((await registry.list('tenant-a')).length, 1);
    await assert.rejects(
      registry.create('tenant-a', {
        apiDefinition: { name: 'apiDefinition.swagger.json', text: '{"swagger": "2.0",' },
      }),
      (e: unknown) =>
        e instanceof InvalidConnectorPackageError &&
        e.status === 422 &&
        e.diagnostics.some((d) => d.rule === 'json.syntax'),
    );
    await registry.delete('tenant-a', connector.id);
    await assert.rejects(registry.get('tenant-a', connector.id), ConnectorNotFoundError);
    assert.equal((await store.findByIndex(CONNECTOR_VERSION_KIND, `connector:${connector.id}`)).length, 0);
  });

  it('refuses to keep a secret without an envelope', async () => {
    const registry = createConnectorRegistry({
      store: createMemoryStore(),
      clock: manualClock(0),
      random: cryptoRandom,
      publicUrl: () => 'https://x',
    });
    await assert.rejects(
      registry.create('t', threeE, 's'),
      (e: unknown) => (e as { status?: number }).status === 503,
    );
  });
});
