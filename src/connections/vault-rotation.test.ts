import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { systemClock } from '../core/clock.ts';
import { cryptoRandom } from '../core/ids.ts';
import { createEnvelope } from '../crypto/envelope.ts';
import { createMasterKeyRing, DERIVATION_ROOT_KIND } from '../crypto/master-key.ts';
import { openPostgresStore } from '../storage/adapters/postgres.ts';
import { openSqliteStore } from '../storage/adapters/sqlite.ts';
import type { ListableRecordStore } from '../storage/record-store.ts';
import { testDatabaseUrl, uniqueSchema } from '../../test/support/postgres.ts';
import { writeVaultValues } from '../../test/support/vault-values.ts';
import { CONNECTION_KIND, createConnectionRepository } from './connection-repository.ts';
import { CONNECTOR_KIND } from './connector-registry.ts';
import { GATEWAY_SECRET_KIND } from './gateway-app-secret.ts';
import { createVault, envelopeCipher } from './vault.ts';
import { rewrapValues, rotateVault } from './vault-rotation.ts';

const v1 = { version: 1, key: randomBytes(32) };
const v2 = { version: 2, key: randomBytes(32) };
const before = createMasterKeyRing([v1]);
const both = createMasterKeyRing([v1, v2]);
const onlyNew = createMasterKeyRing([v2]);

/** Every record's data as JSON text: what a look at the database would find. */
async function everything(store: ListableRecordStore): Promise<string> {
  const texts: string[] = [];
  for (const kind of await store.kinds())
    for (const record of await store.list(kind, { limit: 1000 })) texts.push(JSON.stringify(record.data));
  return texts.join('\n');
}

const dir = mkdtempSync(join(tmpdir(), 'behalf-vault-rotation-'));
let n = 0;
const adapters: Record<string, () => Promise<ListableRecordStore>> = {
  sqlite: async () => openSqliteStore({ filename: join(dir, `store-${n++}.db`), clock: systemClock }),
  postgres: () =>
    openPostgresStore({
      connectionString: testDatabaseUrl(),
      schema: uniqueSchema('vault'),
      clock: systemClock,
      poolSize: 4,
    }),
};
const opened: ListableRecordStore[] = [];
after(async () => {
  for (const store of opened) await store.close();
});

for (const [name, open] of Object.entries(adapters)) {
  const fresh = async () => {
    const store = await open();
    opened.push(store);
    return store;
  };

  describe(`vault rotation (${name})`, () => {
    it('re-wraps every envelope value of every kind; the old version can then go', async () => {
      const store = await fresh();
      const values = await writeVaultValues(store, before);
      assert.match(await everything(store), /"env1\.1\./);

      const result = await rotateVault({ store, envelope: createEnvelope(both) });

      const text = await everything(store);
      assert.doesNotMatch(text, /env1\.1\./, 'no value is left under version 1');
      assert.deepEqual(
        await values.read(onlyNew),
        values.expected,
        'each part opens its value with v2 alone',
      );
      assert.equal(result.remaining, 0);
      assert.deepEqual(Object.keys(result.kinds), [
        GATEWAY_SECRET_KIND,
        CONNECTION_KIND,
        CONNECTOR_KIND,
        'idp.signing_keys',
        DERIVATION_ROOT_KIND,
        'workload-identity-key',
      ]);
      assert.deepEqual(result.kinds[CONNECTION_KIND], { records: 2, values: 3, remaining: 0 });
      assert.deepEqual(
        result.kinds['idp.signing_keys'],
        { records: 1, values: 2, remaining: 0 },
        'active+next',
      );
      assert.equal(result.connections, 2);
      assert.equal(result.gatewaySecrets, 1);
      assert.equal(result.values, 3 + 1 + 1 + 2 + 1 + 1);

      const again = await rotateVault({ store, envelope: createEnvelope(both) });
      assert.deepEqual([again.values, again.records, again.remaining], [0, 0, 0], 'nothing left to do');
    });

    it('a writer that wins the compare-and-swap is re-read and re-wrapped, never overwritten', async () => {
      const inner = await fresh();
      const values = await writeVaultValues(inner, before);
      // A running Behalf that has not yet read version 2 refreshes the token while the pass runs.
      const running = createVault(envelopeCipher(createEnvelope(before)));
      const connections = createConnectionRepository({
        store: inner,
        clock: systemClock,
        random: cryptoRandom,
        cacheMs: 0,
      });
      let refreshes = 0;
      const store: ListableRecordStore = {
        ...inner,
        async update(kind, id, version, data, keys) {
          if (kind === CONNECTION_KIND && id === values.connectionId && refreshes === 0) {
            refreshes++;
            const current = (await connections.get(id))!;
            await connections.replaceCredential(current, {
              ...current.data.credential,
              refreshToken: await running.seal(id, 'refreshToken', 'rt-from-the-refresh'),
            });
          }
          return inner.update(kind, id, version, data, keys);
        },
      };
      // One pass: the conflict is resolved by re-reading within it, not left to a later pass.
      const result = await rotateVault({ store, envelope: createEnvelope(both), maxPasses: 1 });
      assert.equal(refreshes, 1);
      assert.equal(result.remaining, 0);
      const record = (await connections.get(values.connectionId))!;
      assert.equal(
        record.data.generation,
        2,
        "the refresh's write stands (created 0, two credential writes)",
      );
      const vault = createVault(envelopeCipher(createEnvelope(onlyNew)));
      assert.equal(
        await vault.open(values.connectionId, 'refreshToken', record.data.credential.refreshToken!),
        'rt-from-the-refresh',
        "the refresh's token, re-wrapped under version 2",
      );
      assert.doesNotMatch(await everything(inner), /env1\.1\./);
    });

    it('counts what it cannot re-wrap (a version the ring lacks, an envelope inside a string) and goes on', async () => {
      const store = await fresh();
      const v3 = createEnvelope(createMasterKeyRing([{ version: 3, key: randomBytes(32) }]));
      const lost = v3.encrypt('gone', 'x');
      const ok = createEnvelope(before).encrypt('fine', 'y');
      await store.insert({ kind: 'k1', id: 'a', partition: '', data: { deep: [{ value: lost }, ok] } });
      await store.insert({ kind: 'k2', id: 'b', partition: '', data: { text: `{"sealed":"${ok}"}` } });
      await store.insert({ kind: 'k3', id: 'c', partition: '', data: { label: 'env1.not-an-envelope' } });
      const result = await rotateVault({ store, envelope: createEnvelope(both) });
      assert.deepEqual(result.kinds, {
        k1: { records: 1, values: 1, remaining: 1 },
        k2: { records: 0, values: 0, remaining: 1 },
        k3: { records: 0, values: 0, remaining: 1 },
      });
      assert.equal(result.remaining, 3);
      const k1 = (await store.get<{ deep: [{ value: string }, string] }>('k1', 'a'))!;
      assert.equal(k1.data.deep[0].value, lost, 'left as it was');
      assert.equal(createEnvelope(onlyNew).decryptText(k1.data.deep[1], 'y'), 'fine');
    });

    it('purges expired records first, so none keeps an old-version value', async () => {
      const store = await fresh();
      const sealed = createEnvelope(before).encrypt('s', 'a');
      await store.insert({
        kind: 'ticket',
        id: 't',
        partition: '',
        data: { sealed },
        expiresAt: systemClock.now() - 1,
      });
      await rotateVault({ store, envelope: createEnvelope(both) });
      assert.deepEqual(await store.kinds(), []);
      assert.equal(await store.purgeExpired(), 0, 'already purged');
    });
  });
}

describe('rewrapValues', () => {
  it('copies the data, re-wrapping envelopes at any depth and leaving everything else', () => {
    const envelope = createEnvelope(both);
    const a = createEnvelope(before).encrypt('a', 'aad-a');
    const current = envelope.encrypt('b', 'aad-b');
    const data = { n: 1, flag: true, none: null, list: [a, { x: current }], nested: { a } };
    const result = rewrapValues(data, envelope);
    assert.equal(result.values, 2);
    assert.equal(result.remaining, 0);
    const copy = result.data as typeof data;
    assert.equal(data.list[0], a, 'the input is not changed');
    assert.equal(copy.n, 1);
    assert.equal(copy.none, null);
    assert.deepEqual(copy.list[1], { x: current }, 'a value under the current version is kept as is');
    assert.match(copy.nested.a, /^env1\.2\./);
    assert.equal(envelope.decryptText(copy.list[0] as string, 'aad-a'), 'a');
  });
});
