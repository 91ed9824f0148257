import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { manualClock } from '../core/clock.ts';
import { cryptoRandom } from '../core/ids.ts';
import { createMemoryStore } from '../storage/adapters/memory.ts';
import { testVaultCipher } from '../../test/support/gateway-cipher.ts';
import { createConnectionRepository } from './connection-repository.ts';
import { ConnectionError } from './errors.ts';
import { viewOf } from './model.ts';
import { createVault } from './vault.ts';

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

it('the vault binds each ciphertext to its connection and field, views never carry it', async () => {
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
});

describe('the recent cache (the gateway’s reads)', () => {
  /** Two repositories on one store: this process and "another process" (CLI, another node). */
  function twoProcesses(cacheMs = 1000) {
    const clock = manualClock();
    const store = createMemoryStore({ clock });
    let now = 0;
    const tick = (ms: number) => (now += ms);
    const here = createConnectionRepository({ store, clock, random: cryptoRandom, cacheMs, now: () => now });
    const elsewhere = createConnectionRepository({ store, clock, random: cryptoRandom, cacheMs });
    const make = (repository: typeof here, owner: typeof alice | undefined) =>
      repository.create({
        tenantId: 'contoso',
        connectorId: 'mail',
        mode: owner ? 'per-user' : 'shared',
        ...(owner ? { owner } : {}),
        createdBy: 'admin',
        state: 'connected',
      });
    return { here, elsewhere, tick, make };
  }

  it('sees this process’s own writes at once: create, state change, delete', async () => {
    const { here, make } = twoProcesses();
    assert.deepEqual(await here.recent.listByOwner(alice), []);
    const mine = await make(here, alice);
    assert.deepEqual(
      (await here.recent.listByOwner(alice)).map((r) => r.id),
      [mine.id],
    );
    assert.equal((await here.recent.getForCaller(mine.id, alice)).data.state, 'connected');
    await here.setState(mine, 'needs-reauth', 'revoked');
    assert.equal((await here.recent.getForCaller(mine.id, alice)).data.state, 'needs-reauth');
    assert.equal((await here.recent.listByOwner(alice))[0]!.data.state, 'needs-reauth');
    await here.delete(mine.id);
    await assert.rejects(here.recent.getForCaller(mine.id, alice), ConnectionError);
    assert.deepEqual(await here.recent.listByOwner(alice), []);
  });

  it('sees another process’s delete and change within cacheMs, not later', async () => {
    const { here, elsewhere, tick, make } = twoProcesses(1000);
    const mine = await make(here, alice);
    const shared = await make(here, undefined);
    assert.equal((await here.recent.getForCaller(mine.id, alice)).id, mine.id);
    assert.equal((await here.recent.listByConnector('contoso', 'mail')).length, 2);
    assert.equal(await elsewhere.delete(mine.id), true);
    await elsewhere.setState((await elsewhere.get(shared.id))!, 'error', 'broken');
    tick(999);
    // Within the bound the cached view may still be served…
    assert.equal((await here.recent.getForCaller(mine.id, alice)).id, mine.id);
    tick(2);
    // …and never after it.
    await assert.rejects(here.recent.getForCaller(mine.id, alice), ConnectionError);
    assert.deepEqual(await here.recent.listByOwner(alice), []);
    const listed = await here.recent.listByConnector('contoso', 'mail');
    assert.deepEqual(
      listed.map((r) => [r.id, r.data.state]),
      [[shared.id, 'error']],
    );
  });

  it('a connection id that is not found is not kept: another process’s new connection works at once', async () => {
    const { here, elsewhere } = twoProcesses();
    const id = here.newId();
    await assert.rejects(here.recent.getForCaller(id, alice), ConnectionError);
    await elsewhere.create({
      id,
      tenantId: 'contoso',
      connectorId: 'mail',
      mode: 'per-user',
      owner: alice,
      createdBy: alice.userObjectId,
    });
    assert.equal((await here.recent.getForCaller(id, alice)).id, id);
  });

  it('is keyed per owner and checks ownership on every read: Bob never gets Alice’s connection', async () => {
    const { here, make } = twoProcesses();
    const hers = await make(here, alice);
    const his = await make(here, bob);
    // Warm the cache with Alice's reads first; Bob's reads must not be served from them.
    assert.equal((await here.recent.getForCaller(hers.id, alice)).id, hers.id);
    assert.deepEqual(
      (await here.recent.listByOwner(alice)).map((r) => r.id),
      [hers.id],
    );
    await assert.rejects(
      here.recent.getForCaller(hers.id, bob),
      (e: unknown) => e instanceof ConnectionError && e.status === 404,
    );
    await assert.rejects(
      here.recent.getForCaller(hers.id, { tenantId: 'fabrikam', userObjectId: alice.userObjectId }),
      ConnectionError,
    );
    assert.deepEqual(
      (await here.recent.listByOwner(bob)).map((r) => r.id),
      [his.id],
    );
  });

  it('a read that started before a write cannot put the old value back', async () => {
    const clock = manualClock();
    const store = createMemoryStore({ clock });
    let release: () => void = () => undefined;
    let gate: Promise<void> | undefined;
    // A store whose reads can be held, as a slow database would hold them.
    const slow = {
      ...store,
      findByIndex: async <T>(...args: Parameters<typeof store.findByIndex>) => {
        const result = await store.findByIndex<T>(...args);
        if (gate) await gate;
        return result;
      },
    };
    const here = createConnectionRepository({ store: slow, clock, random: cryptoRandom, now: () => 0 });
    gate = new Promise((resolve) => (release = resolve));
    const before = here.recent.listByOwner(alice);
    const mine = await here.create({
      tenantId: 'contoso',
      connectorId: 'mail',
      mode: 'per-user',
      owner: alice,
      createdBy: alice.userObjectId,
    });
    release();
    gate = undefined;
    assert.deepEqual(await before, [], 'the read that began first saw the old state');
    assert.deepEqual(
      (await here.recent.listByOwner(alice)).map((r) => r.id),
      [mine.id],
    );
  });

  it('cacheMs 0 turns it off', async () => {
    const { here, elsewhere, make } = twoProcesses(0);
    const mine = await make(here, alice);
    assert.equal((await here.recent.getForCaller(mine.id, alice)).id, mine.id);
    await elsewhere.delete(mine.id);
    await assert.rejects(here.recent.getForCaller(mine.id, alice), ConnectionError);
  });
});
