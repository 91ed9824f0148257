import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { manualClock } from '../core/clock.ts';
import { startTestIssuer } from '../../test/support/easyauth-test-issuer.ts';
import type { TestIssuer } from '../../test/support/easyauth-test-issuer.ts';
import { BearerError } from './errors.ts';
import { createTokenValidator } from './validator.ts';
import type { ValidatorOptions } from './validator.ts';

const API = randomUUID();
const alice = { oid: randomUUID(), upn: 'alice@contoso.test', name: 'Alice Anders' };

async function rejects(promise: Promise<unknown>, pattern: RegExp): Promise<BearerError> {
  const error = await promise.then(
    () => assert.fail('expected a rejection'),
    (e: unknown) => e,
  );
  assert.ok(error instanceof BearerError, `not a BearerError: ${String(error)}`);
  assert.equal(error.status, 401);
  assert.equal(error.code, 'invalid_token');
  assert.match(error.description, pattern);
  return error;
}

describe('token validator', () => {
  let issuer: TestIssuer;
  const validator = (extra: Partial<ValidatorOptions> = {}) =>
    createTokenValidator({ authority: issuer.authority, audiences: [API, 'api://contoso-mail'], ...extra });

  before(async () => {
    issuer = await startTestIssuer();
  });
  after(() => issuer.close());

  it('accepts a v2 delegated token and builds the principal', async () => {
    const token = await issuer.accessToken({
      aud: API,
      user: alice,
      scp: 'Mail.Read Mail.Send',
      roles: ['Admin'],
    });
    const p = await validator().validate(token);
    assert.equal(p.oid, alice.oid);
    assert.equal(p.tid, issuer.tenantId);
    assert.equal(p.upn, alice.upn);
    assert.equal(p.name, alice.name);
    assert.deepEqual(p.scopes, ['Mail.Read', 'Mail.Send']);
    assert.deepEqual(p.roles, ['Admin']);
    assert.equal(p.isAppOnly, false);
    assert.equal(p.version, '2.0');
  });

  it('accepts a v1 token against the v1 issuer, and the identifier URI ± trailing slash when configured', async () => {
    const token = await issuer.accessToken({
      version: '1.0',
      aud: 'https://management.contoso.test',
      user: alice,
      scp: 'user_impersonation',
    });
    const exact = createTokenValidator({
      authority: issuer.authority,
      audiences: ['https://management.contoso.test/'],
    });
    await rejects(exact.validate(token), /audience 'https:\/\/management.contoso.test' is not accepted/);
    const either = createTokenValidator({
      authority: issuer.authority,
      audiences: ['https://management.contoso.test/'],
      audienceTrailingSlash: 'either',
    });
    const p = await either.validate(token);
    assert.equal(p.version, '1.0');
    assert.equal(p.upn, alice.upn);
    assert.equal(p.appId !== undefined, true);
  });

  it('rejects another audience, another tenant, and versions not accepted', async () => {
    const v = validator();
    await rejects(
      v.validate(await issuer.accessToken({ aud: randomUUID(), user: alice, scp: 'Mail.Read' })),
      /audience/,
    );
    const other = randomUUID();
    await rejects(
      v.validate(await issuer.accessToken({ aud: API, user: alice, scp: 'Mail.Read', tid: other })),
      new RegExp(`issuer '.*${other}/v2.0' is not accepted`),
    );
    const v1 = await issuer.accessToken({ version: '1.0', aud: API, user: alice, scp: 'Mail.Read' });
    await rejects(validator({ versions: ['2.0'] }).validate(v1), /Version 1.0/);
  });

  it('multi-tenant: substitutes tid into the {tenantid} template and enforces the allowed tenants', async () => {
    const other = randomUUID();
    const common = `${issuer.url}/common`;
    const token = await issuer.accessToken({ aud: API, user: alice, scp: 'Mail.Read', tid: other });
    assert.equal(
      (await createTokenValidator({ authority: common, audiences: [API] }).validate(token)).tid,
      other,
    );
    const only = createTokenValidator({
      authority: common,
      audiences: [API],
      allowedTenants: [issuer.tenantId],
    });
    await rejects(only.validate(token), new RegExp(`Tenant '${other}' is not allowed`));
    assert.equal(
      (await only.validate(await issuer.accessToken({ aud: API, user: alice, scp: 'x' }))).tid,
      issuer.tenantId,
    );
    // A forged iss whose tenant differs from tid does not pass the template check.
    const forged = await issuer.sign({
      aud: API,
      iss: `${issuer.url}/${other}/v2.0`,
      tid: issuer.tenantId,
      exp: 9e9,
      ver: '2.0',
    });
    await rejects(createTokenValidator({ authority: common, audiences: [API] }).validate(forged), /issuer/);
  });

  it('applies exp and nbf with the configured skew, on the injected clock', async () => {
    const clock = manualClock(Date.UTC(2026, 0, 1));
    const iat = Math.floor(clock.now() / 1000);
    const token = await issuer.accessToken({
      aud: API,
      user: alice,
      scp: 'Mail.Read',
      issuedAt: iat,
      lifetimeSeconds: 600,
    });
    const v = validator({ clock, clockSkewSeconds: 60 });
    clock.advance(650_000); // 50 s past exp, inside the skew
    await v.validate(token);
    clock.advance(20_000);
    await rejects(v.validate(token), /expired at 2026-01-01T00:10:00.000Z/);
    const future = await issuer.accessToken({
      aud: API,
      user: alice,
      scp: 'x',
      issuedAt: iat,
      notBefore: iat + 3600,
    });
    clock.set(Date.UTC(2026, 0, 1));
    await rejects(v.validate(future), /not valid before/);
    assert.throws(() => validator({ clockSkewSeconds: 3600 }), /clockSkewSeconds/);
  });

  it('remembers a verified token for a bounded time, never past its expiry', async () => {
    const clock = manualClock(Date.now());
    const iat = Math.floor(clock.now() / 1000);
    const token = await issuer.accessToken({
      aud: API,
      user: alice,
      scp: 'x',
      issuedAt: iat,
      lifetimeSeconds: 90,
    });
    const v = validator({ clock, clockSkewSeconds: 0, tokenCacheSeconds: 60 });
    const first = await v.validate(token);
    assert.equal(await v.validate(token), first, 'served from the cache');
    clock.advance(61_000);
    const again = await v.validate(token);
    assert.notEqual(again, first, 'verified afresh after the cache lifetime');
    clock.advance(30_000);
    await rejects(v.validate(token), /expired/);
  });

  it('refuses alg none, HS256 and algorithms outside the allowlist', async () => {
    const v = validator();
    const payload = Buffer.from(
      JSON.stringify({
        aud: API,
        iss: `${issuer.authority}/v2.0`,
        tid: issuer.tenantId,
        exp: 9e9,
        ver: '2.0',
        scp: 'Mail.Read',
      }),
    ).toString('base64url');
    const none = `${Buffer.from('{"alg":"none","typ":"JWT"}').toString('base64url')}.${payload}.`;
    await rejects(v.validate(none), /algorithm 'none' is not accepted/);
    const hs = `${Buffer.from('{"alg":"HS256","typ":"JWT","kid":"x"}').toString('base64url')}.${payload}.c2ln`;
    await rejects(v.validate(hs), /algorithm 'HS256' is not accepted/);
    assert.throws(() => validator({ algorithms: ['RS256', 'HS256'] }), /HS256 cannot be allowed/);
    await rejects(v.validate('not-a-jwt'), /not a signed JWT/);
    const rs = Buffer.from('{"alg":"RS256","kid":"k"}').toString('base64url');
    await rejects(v.validate(`${rs}.!!!.c2ln`), /payload is not valid/);
  });

  it('rejects a token signed by an unknown key and a tampered signature, refetching the JWKS at most once per cooldown', async () => {
    const v = validator({ keyRefreshCooldownMs: 60_000 });
    await v.validate(await issuer.accessToken({ aud: API, user: alice, scp: 'x' }));
    const before = issuer.counters.jwks;
    const foreign = await issuer.sign(
      { aud: API, iss: `${issuer.authority}/v2.0`, tid: issuer.tenantId, exp: 9e9, ver: '2.0' },
      { foreignKey: true },
    );
    await rejects(v.validate(foreign), /unknown key/);
    await rejects(v.validate(foreign), /unknown key/);
    assert.equal(issuer.counters.jwks, before, 'inside the cooldown: no refetch');
    const good = await issuer.accessToken({ aud: API, user: alice, scp: 'x' });
    const [h, p, s] = good.split('.');
    const claims = JSON.parse(Buffer.from(p!, 'base64url').toString()) as Record<string, unknown>;
    const tampered = `${h}.${Buffer.from(JSON.stringify({ ...claims, scp: 'Mail.ReadWrite' })).toString('base64url')}.${s}`;
    await rejects(v.validate(tampered), /signature is invalid/);
  });

  it('picks up a rotated key without a restart', async () => {
    const clock = manualClock(Date.now());
    const v = validator({ clock, keyRefreshCooldownMs: 10_000 });
    await v.validate(await issuer.accessToken({ aud: API, user: alice, scp: 'x' }));
    await issuer.rotate({ retireOld: true });
    const token = await issuer.accessToken({ aud: API, user: alice, scp: 'x' });
    await rejects(v.validate(token), /unknown key/); // fetched moments ago: the cooldown holds
    clock.advance(10_001);
    assert.equal((await v.validate(token)).oid, alice.oid);
  });

  it('tells app-only callers from delegated ones', async () => {
    const sp = randomUUID();
    const v = validator();
    const app = await v.validate(
      await issuer.accessToken({
        aud: API,
        appOnly: { appId: randomUUID(), oid: sp },
        roles: ['Mail.Read.All'],
      }),
    );
    assert.equal(app.isAppOnly, true);
    assert.deepEqual(app.scopes, []);
    // Without idtyp: no scp and oid == sub is app-only (Entra's documented heuristic).
    const noIdtyp = await issuer.sign({
      aud: API,
      iss: `${issuer.authority}/v2.0`,
      tid: issuer.tenantId,
      exp: 9e9,
      ver: '2.0',
      oid: sp,
      sub: sp,
      roles: ['Mail.Read.All'],
    });
    assert.equal((await v.validate(noIdtyp)).isAppOnly, true);
  });
});
