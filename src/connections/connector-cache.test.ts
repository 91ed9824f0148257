import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { it } from 'node:test';
import { contosoMailPackage } from '../../test/support/gateway-demo.ts';
import { systemClock } from '../core/clock.ts';
import { cryptoRandom } from '../core/ids.ts';
import { createEnvelope } from '../crypto/envelope.ts';
import { createMasterKeyRing } from '../crypto/master-key.ts';
import { createMemoryStore } from '../storage/adapters/memory.ts';
import { versionCheckedConnectorSource } from './connector-cache.ts';
import { ConnectorNotFoundError, createConnectorRegistry } from './connector-registry.ts';
import type { ConnectorSource } from './connector-source.ts';
import { registryConnectorSource } from './connector-source.ts';

const TENANT = 'contoso';

function setup() {
  const store = createMemoryStore();
  const envelope = createEnvelope(createMasterKeyRing([{ version: 1, key: randomBytes(32) }]));
  const registryOn = () =>
    createConnectorRegistry({
      store,
      clock: systemClock,
      random: cryptoRandom,
      publicUrl: () => 'https://behalf.test',
      envelope,
    });
  // The gateway's registry, and another process's (the CLI, another node) on the same store.
  const registry = registryOn();
  const elsewhere = registryOn();
  const loads = { model: 0, secret: 0 };
  const plain = registryConnectorSource(registry, systemClock, 0);
  const counting: ConnectorSource = {
    load: (tenantId, id) => (loads.model++, plain.load(tenantId, id)),
    clientSecret: (tenantId, id) => (loads.secret++, plain.clientSecret(tenantId, id)),
    workloadSubject: (tenantId, id) => plain.workloadSubject(tenantId, id),
  };
  let now = 0;
  const source = versionCheckedConnectorSource(counting, store, { checkMs: 1000, now: () => now });
  return { registry, elsewhere, source, loads, tick: (ms: number) => (now += ms) };
}

const mail = (title = 'Contoso Mail') => {
  const files = contosoMailPackage('https://behalf.test', 'https://mail.contoso.test');
  const definition = JSON.parse(files.apiDefinition!.text) as { info: { title: string } };
  definition.info.title = title;
  return { ...files, apiDefinition: { ...files.apiDefinition!, text: JSON.stringify(definition) } };
};

it('imports a connector once while its version holds, and reads the secret once', async () => {
  const { registry, source, loads, tick } = setup();
  const { connector } = await registry.create(TENANT, mail(), 'secret-1');
  for (let i = 0; i < 5; i++) {
    assert.equal((await source.load(TENANT, connector.id)).model.title, 'Contoso Mail');
    assert.equal(await source.clientSecret(TENANT, connector.id), 'secret-1');
    tick(700); // past checkMs several times: the version is checked again, nothing is reloaded
  }
  assert.deepEqual(loads, { model: 1, secret: 1 });
});

it('an update or a deletion made anywhere is seen within checkMs, not later', async () => {
  const { registry, elsewhere, source, tick } = setup();
  const { connector } = await registry.create(TENANT, mail(), 'secret-1');
  assert.equal((await source.load(TENANT, connector.id)).version, 1);
  await elsewhere.update(TENANT, connector.id, mail('Contoso Mail v2'), 'secret-2');
  tick(999);
  assert.equal((await source.load(TENANT, connector.id)).version, 1, 'within the bound');
  tick(2);
  const updated = await source.load(TENANT, connector.id);
  assert.equal(updated.version, 2);
  assert.equal(await source.clientSecret(TENANT, connector.id), 'secret-2');
  await elsewhere.delete(TENANT, connector.id);
  tick(1001);
  await assert.rejects(source.load(TENANT, connector.id), ConnectorNotFoundError);
  await assert.rejects(source.clientSecret(TENANT, connector.id), ConnectorNotFoundError);
});

it('another tenant’s connector reads as absent even when this one is cached', async () => {
  const { registry, source } = setup();
  const { connector } = await registry.create(TENANT, mail(), 'secret-1');
  await source.load(TENANT, connector.id);
  await assert.rejects(source.load('fabrikam', connector.id), ConnectorNotFoundError);
  await assert.rejects(source.clientSecret('fabrikam', connector.id), ConnectorNotFoundError);
});

it('a failed load is not kept', async () => {
  const store = createMemoryStore();
  const registry = createConnectorRegistry({
    store,
    clock: systemClock,
    random: cryptoRandom,
    publicUrl: () => 'https://behalf.test',
    envelope: createEnvelope(createMasterKeyRing([{ version: 1, key: randomBytes(32) }])),
  });
  const { connector } = await registry.create(TENANT, mail(), 'secret-1');
  const plain = registryConnectorSource(registry, systemClock, 0);
  let fail = true;
  const flaky: ConnectorSource = {
    ...plain,
    load: (tenantId, id) => (fail ? Promise.reject(new Error('store hiccup')) : plain.load(tenantId, id)),
  };
  const source = versionCheckedConnectorSource(flaky, store, { now: () => 0 });
  await assert.rejects(source.load(TENANT, connector.id), /store hiccup/);
  fail = false;
  assert.equal((await source.load(TENANT, connector.id)).id, connector.id);
});
