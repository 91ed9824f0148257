import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { manualClock } from '../../core/clock.ts';
import { cryptoRandom } from '../../core/ids.ts';
import { createMemoryStore } from '../../storage/adapters/memory.ts';
import { createRefreshTokenStore } from './refresh-tokens.ts';
import { tokenDigest } from './hash.ts';

const grant = {
  tenantId: 't',
  clientId: 'c',
  userId: 'u',
  scopes: 'openid offline_access',
  authTime: 1,
  authMethods: ['pwd'],
};

function setup(grace = 10) {
  const clock = manualClock();
  const store = createMemoryStore({ clock });
  const tokens = createRefreshTokenStore({
    store,
    clock,
    random: cryptoRandom,
    lifetimeSeconds: 3600,
    reuseGraceSeconds: grace,
  });
  return { clock, store, tokens };
}

describe('refresh token rotation and reuse detection', () => {
  it('stores only the digest of the token', async () => {
    const { store, tokens } = setup();
    const { token } = await tokens.issue(grant);
    assert.ok(await store.get('idp.refresh_token', tokenDigest(token)));
    assert.equal(await store.get('idp.refresh_token', token), undefined);
  });

  it('accepts a rotated token again inside the grace window, and revokes the family after it', async () => {
    const { clock, tokens } = setup(10);
    const first = await tokens.issue(grant);
    assert.equal((await tokens.use(first.token)).outcome, 'ok');
    const second = await tokens.issue(grant, { id: first.familyId, isNew: false });
    clock.advance(5_000);
    assert.equal((await tokens.use(first.token)).outcome, 'ok', 'a racing client within the grace window');
    clock.advance(6_000);
    assert.equal((await tokens.use(first.token)).outcome, 'reused');
    assert.equal((await tokens.use(second.token)).outcome, 'revoked', 'the whole family goes');
  });

  it('reports expiry and unknown tokens distinctly', async () => {
    const { clock, tokens } = setup();
    const { token } = await tokens.issue(grant);
    clock.advance(3601_000);
    assert.equal((await tokens.use(token)).outcome, 'expired');
    assert.equal((await tokens.use('nope')).outcome, 'unknown');
  });
});
