import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { manualClock } from '../../core/clock.ts';
import { cryptoRandom } from '../../core/ids.ts';
import { createMemoryStore } from '../../storage/adapters/memory.ts';
import { createCsrf } from './csrf.ts';
import { createLockout } from './lockout.ts';
import { createSealer } from './seal.ts';
import { createSsoSessions } from './sso-session.ts';

const key = Buffer.alloc(32, 7);

describe('csrf', () => {
  const csrf = createCsrf(key, cryptoRandom);
  it('accepts the token minted for the cookie and nothing else', () => {
    const cookie = csrf.newCookieValue();
    assert.equal(csrf.verify(cookie, csrf.tokenFor(cookie)), true);
    assert.equal(csrf.verify(cookie, csrf.tokenFor(csrf.newCookieValue())), false);
    assert.equal(csrf.verify(undefined, csrf.tokenFor(cookie)), false);
    assert.equal(csrf.verify(cookie, undefined), false);
    assert.equal(createCsrf(Buffer.alloc(32, 8), cryptoRandom).verify(cookie, csrf.tokenFor(cookie)), false);
  });
});

describe('sealed cookies', () => {
  const sealer = createSealer(key);
  it('opens only in the context it was sealed for', () => {
    const sealed = sealer.seal('a b', 'sso:tenant-a');
    assert.equal(sealer.open(sealed, 'sso:tenant-a'), 'a b');
    assert.equal(sealer.open(sealed, 'sso:tenant-b'), undefined);
    assert.equal(sealer.open(sealed.slice(0, -2) + 'AA', 'sso:tenant-a'), undefined);
    assert.equal(sealer.open('garbage', 'sso:tenant-a'), undefined);
  });
});

describe('sso sessions', () => {
  it('lists sessions from the cookie, per tenant, and ends them', async () => {
    const store = createMemoryStore({ clock: manualClock() });
    const sessions = createSsoSessions({
      store,
      clock: manualClock(),
      random: cryptoRandom,
      sealer: createSealer(key),
    });
    const empty = await sessions.read('t1', undefined);
    const alice = await sessions.create('t1', 'alice', empty);
    const cookie = alice.setCookie.split(';')[0]!;
    assert.match(alice.setCookie, /^__Host-behalf-sso-t1=.*; Path=\/; Secure; HttpOnly; SameSite=Lax/);
    const one = await sessions.read('t1', cookie);
    assert.deepEqual(
      one.sessions.map((s) => s.userId),
      ['alice'],
    );
    const bob = await sessions.create('t1', 'bob', one);
    const two = await sessions.read('t1', bob.setCookie.split(';')[0]);
    assert.deepEqual(
      two.sessions.map((s) => s.userId),
      ['bob', 'alice'],
    );
    // The same value presented as another tenant's cookie is worthless.
    const value = cookie.slice(cookie.indexOf('=') + 1);
    assert.equal((await sessions.read('t2', `__Host-behalf-sso-t2=${value}`)).sessions.length, 0);
    await sessions.end('t1', two);
    assert.equal((await sessions.read('t1', bob.setCookie.split(';')[0])).sessions.length, 0);
  });
});

describe('lockout', () => {
  it('locks after the threshold, backs off exponentially and resets on success', async () => {
    const clock = manualClock();
    const store = createMemoryStore({ clock });
    const lockout = createLockout({
      store,
      clock,
      policy: { threshold: 3, baseLockMs: 1000, maxLockMs: 3000 },
    });
    assert.equal(await lockout.recordFailure('t', 'Alice@x'), false);
    assert.equal(await lockout.recordFailure('t', 'alice@x'), false);
    assert.equal(await lockout.isLocked('t', 'alice@x'), false);
    assert.equal(await lockout.recordFailure('t', 'ALICE@x'), true);
    assert.equal(await lockout.isLocked('t', 'alice@x'), true);
    assert.equal(await lockout.isLocked('other', 'alice@x'), false);
    clock.advance(1001);
    assert.equal(await lockout.isLocked('t', 'alice@x'), false);
    for (let i = 0; i < 3; i++) await lockout.recordFailure('t', 'alice@x');
    clock.advance(1500); // the second lockout lasts 2 s
    assert.equal(await lockout.isLocked('t', 'alice@x'), true);
    clock.advance(600);
    await lockout.recordSuccess('t', 'alice@x');
    assert.equal(await lockout.recordFailure('t', 'alice@x'), false);
  });
});
