import assert from 'node:assert/strict';
import { after, before, it } from 'node:test';
import { startFakeIdp } from '../../test/support/gateway-fake-idp.ts';
import type { FakeIdp } from '../../test/support/gateway-fake-idp.ts';
import { manualClock } from '../core/clock.ts';
import { createCallerVerifier } from './caller-verifier.ts';
import { ConnectionError } from './errors.ts';
import { createOutboundHttp } from './outbound-http.ts';

const BEHALF = '0f1e2d3c-4b5a-4697-8879-6a5b4c3d2e1f';
const alice = { oid: '11111111-1111-4111-8111-111111111111', upn: 'alice@contoso.test' };
const bob = { oid: '22222222-2222-4222-8222-222222222222', upn: 'bob@contoso.test' };

let idp: FakeIdp;
const http = createOutboundHttp({ timeoutMs: 2_000 });
before(async () => {
  idp = await startFakeIdp({
    behalfClientId: BEHALF,
    behalfSecret: 'behalf-secret',
    connectorClientId: 'connector',
    connectorSecret: 'connector-secret',
    apiAudience: 'api://mail',
  });
});
after(async () => {
  await http.close();
  await idp.close();
});

const verifierAt = (clock: ReturnType<typeof manualClock>) =>
  createCallerVerifier({ http, clock, authority: () => idp.url, audiences: () => [BEHALF] });

const refused = (error: unknown) => error instanceof ConnectionError && error.status === 401;

it('caches a verified caller by its token: the same token is served from the cache, another caller never', async () => {
  const verifier = verifierAt(manualClock(Date.now()));
  const aliceToken = await idp.userToken(alice);
  const first = await verifier.verify(`Bearer ${aliceToken}`);
  const again = await verifier.verify(`Bearer ${aliceToken}`);
  assert.equal(again, first, 'a second call with the same token is a cache hit');
  const bobCaller = await verifier.verify(`Bearer ${await idp.userToken(bob)}`);
  assert.equal(bobCaller.objectId, bob.oid);
  assert.equal(first.objectId, alice.oid);
  // A token that differs from a cached one in its signature alone is verified, and refused.
  // The signature's first character carries six bits of it (the last one only two, the rest padding).
  const at = aliceToken.lastIndexOf('.') + 1;
  const flipped = aliceToken[at] === 'A' ? 'B' : 'A';
  const tampered = `${aliceToken.slice(0, at)}${flipped}${aliceToken.slice(at + 1)}`;
  await assert.rejects(verifier.verify(`Bearer ${tampered}`), refused);
  // Nor is a token for another audience accepted because the same user's token is cached.
  await assert.rejects(verifier.verify(`Bearer ${await idp.userToken(alice, 'api://other')}`), refused);
});

it('a cached caller is not served once its token has expired', async () => {
  const clock = manualClock(Date.now());
  const verifier = verifierAt(clock);
  const token = `Bearer ${await idp.userToken(alice)}`;
  assert.equal((await verifier.verify(token)).objectId, alice.oid);
  // The fake IdP's tokens live an hour; past exp and the five-minute clock tolerance it is refused.
  clock.advance(3600_000 + 301_000);
  await assert.rejects(verifier.verify(token), (error: unknown) => {
    assert.ok(refused(error));
    assert.match((error as Error).message, /expired/);
    return true;
  });
});
