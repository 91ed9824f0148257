import assert from 'node:assert/strict';
import { it } from 'node:test';
import { DEFAULT_REFRESH_LEASE_MS, DEFAULT_REFRESH_TIMEOUT_MS } from '../src/connections/services.ts';
import { manualClock } from '../src/core/clock.ts';
import { loadConfig } from '../src/core/config.ts';
import { cryptoRandom } from '../src/core/ids.ts';
import { createRefreshTokenStore } from '../src/idp/stores/refresh-tokens.ts';
import { createMemoryStore } from '../src/storage/adapters/memory.ts';

/**
 * A gateway node holding a connection's refresh lease sends the refresh token to Behalf's identity
 * provider, which rotates it, and dies (SIGKILL) before storing the new one. Another node takes the
 * lease over once it has expired (at most lease + refresh timeout later) and redeems the same token:
 * with the shipped defaults that is still inside the provider's reuse grace, so the connection is not
 * lost (needs-reauth) and the token family is not revoked.
 */
it("the identity provider's default reuse grace outlasts a refresh lease takeover", async () => {
  const grace = loadConfig({ dataDir: '/nonexistent' }, {}).refreshTokenReuseGrace;
  const clock = manualClock();
  const tokens = createRefreshTokenStore({
    store: createMemoryStore({ clock }),
    clock,
    random: cryptoRandom,
    lifetimeSeconds: 86_400,
    reuseGraceSeconds: grace,
  });
  const grant = {
    tenantId: 't',
    clientId: 'connector-app',
    userId: 'alice',
    scopes: 'openid offline_access',
    authTime: 1,
    authMethods: ['pwd'],
  };
  const sent = await tokens.issue(grant);
  // The doomed node's refresh: the provider rotates the token; the answer never reaches a store.
  assert.equal((await tokens.use(sent.token)).outcome, 'ok');
  const lost = await tokens.issue(grant, { id: sent.familyId, isNew: false });
  // The survivor, as late as the lease lets it be.
  clock.advance(DEFAULT_REFRESH_LEASE_MS + DEFAULT_REFRESH_TIMEOUT_MS + 1_000);
  assert.equal(
    (await tokens.use(sent.token)).outcome,
    'ok',
    'the takeover redeems the token the dead node sent',
  );
  assert.equal((await tokens.use(lost.token)).outcome, 'ok', 'nor is the family revoked');
});
