import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { it } from 'node:test';
import { manualClock } from '../core/clock.ts';
import { cryptoRandom } from '../core/ids.ts';
import { createMemoryStore } from '../storage/adapters/memory.ts';
import { testVaultCipher } from '../../test/support/gateway-cipher.ts';
import { createConnectionRepository } from './connection-repository.ts';
import { ConnectionError } from './errors.ts';
import { viewOf } from './model.ts';
import { createVault, envelopeCipher } from './vault.ts';
import { createEnvelope } from '../crypto/envelope.ts';
import { createMasterKeyRing } from '../crypto/master-key.ts';

const alice = { tenantId: 'contoso', userObjectId: 'alice-oid' };
const bob = { tenantId: 'contoso', userObjectId: 'bob-oid' };

function setup() {
  const clock = manualClock();
  const store = createMemoryStore({ clock });
  const connections = createConnectionRepository({ store, clock, random: cryptoRandom });
  return { store, connections, clock };
}

it('a per-user connection is found only for its owner; Bob reads Alice’s as not found', async () => {
  const { connections } = setup();
  const mine = await connections.create({
    tenantId: 'contoso',
    connectorId: 'mail',
    mode: 'per-user',
    owner: alice,
    createdBy: alice.userObjectId,
  });
  assert.equal((await connections.getForCaller(mine.id, alice)).id, mine.id);
  await assert.rejects(
    connections.getForCaller(mine.id, bob),
    (e: unknown) => e instanceof ConnectionError && e.status === 404,
  );
  await assert.rejects(
    connections.getForCaller(mine.id, { tenantId: 'fabrikam', userObjectId: 'alice-oid' }),
    ConnectionError,
  );
  assert.deepEqual(
    (await connections.listByOwner(alice)).map((r) => r.id),
    [mine.id],
  );
  assert.deepEqual(await connections.listByOwner(bob), []);
});

it('a shared connection is usable by anyone in its tenant and can never become per-user', async () => {
  const { connections } = setup();
  const shared = await connections.create({
    tenantId: 'contoso',
    connectorId: 'mail',
    mode: 'shared',
    createdBy: alice.userObjectId,
    state: 'connected',
  });
  assert.equal((await connections.getForCaller(shared.id, bob)).id, shared.id);
  await assert.rejects(
    connections.changeMode(shared, 'per-user'),
    (e: unknown) => e instanceof ConnectionError && e.code === 'ConnectionModeImmutable',
  );
  await assert.rejects(
    connections.update(shared, (d) => ({ ...d, mode: 'per-user', owner: alice })),
    (e: unknown) => e instanceof ConnectionError && e.code === 'ConnectionModeImmutable',
  );
  await assert.rejects(
    connections.create({
      tenantId: 'contoso',
      connectorId: 'mail',
      mode: 'shared',
      owner: alice,
      createdBy: 'x',
    }),
    ConnectionError,
  );
  await assert.rejects(
    connections.create({ tenantId: 'contoso', connectorId: 'mail', mode: 'per-user', createdBy: 'x' }),
    ConnectionError,
  );
});

it('updates are compare-and-swap, and a credential change bumps the generation', async () => {
  const { connections } = setup();
  const created = await connections.create({
    tenantId: 'contoso',
    connectorId: 'mail',
    mode: 'per-user',
    owner: alice,
    createdBy: 'a',
  });
  const first = await connections.replaceCredential(created, { scope: 'Mail.Read' });
  assert.equal(first?.data.generation, 1);
  assert.equal(first?.data.state, 'connected');
  assert.equal(
    await connections.setState(created, 'error', 'stale'),
    undefined,
    'a stale version writes nothing',
  );
  const marked = await connections.setState(first!, 'needs-reauth', 'refresh token revoked');
  assert.equal(marked?.data.stateReason, 'refresh token revoked');
  assert.equal(marked?.data.generation, 1);
});

it('the vault binds each ciphertext to its connection and field, views never carry it, rotation re-wraps online', async () => {
  const { connections } = setup();
  const cipher = testVaultCipher();
  const vault = createVault(cipher);
  const a = await connections.create({
    tenantId: 'contoso',
    connectorId: 'mail',
    mode: 'per-user',
    owner: alice,
    createdBy: 'a',
  });
  const b = await connections.create({
    tenantId: 'contoso',
    connectorId: 'mail',
    mode: 'per-user',
    owner: bob,
    createdBy: 'b',
  });
  const sealed = await vault.seal(a.id, 'refreshToken', 'alice-refresh-token');
  assert.ok(!sealed.includes('alice-refresh-token'));
  assert.equal(await vault.open(a.id, 'refreshToken', sealed), 'alice-refresh-token');
  await assert.rejects(
    async () => vault.open(b.id, 'refreshToken', sealed),
    'a ciphertext moved to another connection does not open',
  );
  await assert.rejects(async () => vault.open(a.id, 'accessToken', sealed), 'nor under another field');

  const apiKey = await vault.seal(a.id, 'param:api_key', 'key-123');
  const withSecrets = await connections.update(a, (d) => ({
    ...d,
    secureParameters: { api_key: apiKey },
    credential: { refreshToken: sealed },
  }));
  const view = JSON.stringify(viewOf(withSecrets!.data));
  assert.ok(
    !view.includes(sealed) && !view.includes(apiKey) && view.includes('"secureParametersSet":["api_key"]'),
  );

  cipher.addKey();
  const result = await vault.rotate(connections);
  assert.deepEqual(result, { connections: 2, values: 2 });
  const rotated = (await connections.get(a.id))!.data;
  assert.notEqual(rotated.credential.refreshToken, sealed);
  assert.ok(rotated.credential.refreshToken!.startsWith(`v${cipher.currentVersion()}.`));
  assert.equal(
    await vault.open(a.id, 'refreshToken', rotated.credential.refreshToken!),
    'alice-refresh-token',
  );
  assert.equal(await vault.open(a.id, 'param:api_key', rotated.secureParameters['api_key']!), 'key-123');
});

it('with the crypto envelope, a rotation to a new master key version keeps every value readable', async () => {
  const { connections } = setup();
  const v1 = { version: 1, key: randomBytes(32) };
  const before = createVault(envelopeCipher(createEnvelope(createMasterKeyRing([v1]))));
  const a = await connections.create({
    tenantId: 'contoso',
    connectorId: 'mail',
    mode: 'per-user',
    owner: alice,
    createdBy: 'a',
  });
  const sealed = await before.seal(a.id, 'refreshToken', 'alice-refresh-token');
  await connections.update(a, (d) => ({ ...d, credential: { refreshToken: sealed } }));
  const after = createVault(
    envelopeCipher(createEnvelope(createMasterKeyRing([v1, { version: 2, key: randomBytes(32) }]))),
  );
  assert.deepEqual(await after.rotate(connections), { connections: 1, values: 1 });
  const rotated = (await connections.get(a.id))!.data.credential.refreshToken!;
  assert.notEqual(rotated, sealed);
  assert.equal(await after.open(a.id, 'refreshToken', rotated), 'alice-refresh-token');
  await assert.rejects(async () => after.open(a.id, 'accessToken', rotated));
});
