import assert from 'node:assert/strict';
import { setTimeout as sleep } from 'node:timers/promises';
import { after, before, describe, it } from 'node:test';
import { ConfidentialClientApplication, InteractionRequiredAuthError } from '@azure/msal-node';
import type { Configuration } from '@azure/msal-node';
import * as jose from 'jose';
import { caTrustingNetworkClient } from '../support/token-network.ts';
import { startTokenFixture } from '../support/token-fixture.ts';
import type { TokenFixture } from '../support/token-fixture.ts';

/**
 * Unmodified @azure/msal-node against Behalf over HTTPS: only the authority differs from Entra.
 * Every token is verified with jose against the JWKS Behalf publishes.
 */
describe('msal-node ConfidentialClientApplication against Behalf', () => {
  let f: TokenFixture;
  let network: ReturnType<typeof caTrustingNetworkClient>;
  let host: string;

  before(async () => {
    f = await startTokenFixture();
    network = caTrustingNetworkClient(f.caPem);
    host = new URL(f.url).host;
  });
  after(async () => {
    await network.close();
    await f.close();
  });

  function msal(clientId: string, credential: Partial<Configuration['auth']>): ConfidentialClientApplication {
    return new ConfidentialClientApplication({
      auth: { clientId, authority: `${f.url}/${f.tenantId}`, knownAuthorities: [host], ...credential },
      system: { networkClient: network },
    });
  }

  async function verify(token: string, version: 1 | 2, audience: string) {
    const keysPath = version === 2 ? 'discovery/v2.0/keys' : 'discovery/keys';
    const jwks = (await f.get(`/${f.tenantId}/${keysPath}`)).body as unknown as jose.JSONWebKeySet;
    const issuer = version === 2 ? `${f.url}/${f.tenantId}/v2.0` : `${f.url}/${f.tenantId}/`;
    const { payload } = await jose.jwtVerify(token, jose.createLocalJWKSet(jwks), {
      issuer,
      audience,
      algorithms: ['RS256'],
    });
    return payload;
  }

  async function ropc() {
    return msal(f.client.app.appId, { clientSecret: f.client.secret }).acquireTokenByUsernamePassword({
      scopes: ['api://middle/access_as_user'],
      username: f.alice.userPrincipalName,
      password: f.alicePassword,
    });
  }

  it('client credentials with a secret: an app-only v1 token with roles, never scp', async () => {
    const result = await msal(f.client.app.appId, {
      clientSecret: f.client.secret,
    }).acquireTokenByClientCredential({
      scopes: ['api://downstream/.default'],
    });
    assert.ok(result);
    const claims = await verify(result.accessToken, 1, 'api://downstream');
    assert.deepEqual(claims['roles'], ['Data.Read.All']);
    assert.equal(claims['scp'], undefined);
    assert.equal(claims['appid'], f.client.app.appId);
    assert.equal(claims['appidacr'], '1');
    assert.equal(claims['idtyp'], 'app');
    assert.equal(claims['oid'], f.client.sp.id);
    assert.equal(claims['sub'], f.client.sp.id);
    assert.equal(claims['tid'], f.tenantId);
  });

  it('client credentials with a certificate: PS256 + x5t#S256 and RS256 + x5t both authenticate', async () => {
    for (const clientCertificate of [
      { thumbprintSha256: f.certificate.thumbprintSha256, privateKey: f.certificate.privateKeyPem },
      { thumbprint: f.certificate.thumbprintSha1, privateKey: f.certificate.privateKeyPem },
    ]) {
      const result = await msal(f.middle.app.appId, { clientCertificate }).acquireTokenByClientCredential({
        scopes: ['api://unconsented/.default'],
      });
      assert.ok(result);
      const claims = await verify(result.accessToken, 2, f.unconsented.app.appId);
      assert.equal(claims['azp'], f.middle.app.appId);
      assert.equal(claims['azpacr'], '2');
      assert.equal(claims['idtyp'], 'app');
      assert.equal(claims['roles'], undefined);
    }
  });

  it('username/password: a v2 user token for the middle tier, an ID token and the account MSAL builds', async () => {
    const result = await ropc();
    assert.ok(result);
    const claims = await verify(result.accessToken, 2, f.middle.app.appId);
    assert.equal(claims['scp'], 'access_as_user');
    assert.equal(claims['oid'], f.alice.id);
    assert.equal(claims['preferred_username'], f.alice.userPrincipalName);
    assert.equal(claims['azp'], f.client.app.appId);
    assert.equal(claims['ver'], '2.0');
    const idClaims = await verify(result.idToken, 2, f.client.app.appId);
    assert.equal(idClaims['oid'], f.alice.id);
    assert.notEqual(idClaims['sub'], claims['sub'], 'sub is pairwise per recipient');
    assert.equal(result.account?.homeAccountId, `${f.alice.id}.${f.tenantId}`);
    assert.equal(result.account?.username, f.alice.userPrincipalName);
  });

  it('on-behalf-of: the middle tier exchanges the user token for a downstream token with the same user', async () => {
    const user = await ropc();
    assert.ok(user);
    const result = await msal(f.middle.app.appId, { clientSecret: f.middle.secret }).acquireTokenOnBehalfOf({
      oboAssertion: user.accessToken,
      scopes: ['api://downstream/read'],
    });
    assert.ok(result);
    const claims = await verify(result.accessToken, 1, 'api://downstream');
    assert.equal(claims['scp'], 'read');
    assert.equal(claims['oid'], f.alice.id);
    assert.equal(claims['upn'], f.alice.userPrincipalName);
    assert.equal(claims['appid'], f.middle.app.appId);
    assert.equal(
      claims['roles'],
      undefined,
      "the middle tier's application roles never leak into OBO tokens",
    );
  });

  it('on-behalf-of with a certificate-authenticated middle tier', async () => {
    const user = await ropc();
    assert.ok(user);
    const result = await msal(f.middle.app.appId, {
      clientCertificate: {
        thumbprintSha256: f.certificate.thumbprintSha256,
        privateKey: f.certificate.privateKeyPem,
      },
    }).acquireTokenOnBehalfOf({ oboAssertion: user.accessToken, scopes: ['api://downstream/.default'] });
    assert.ok(result);
    const claims = await verify(result.accessToken, 1, 'api://downstream');
    assert.equal(claims['scp'], 'read');
    assert.equal(claims['appidacr'], '2');
  });

  it('a second OBO to an API with no grant fails with consent_required', async () => {
    const user = await ropc();
    assert.ok(user);
    await assert.rejects(
      msal(f.middle.app.appId, { clientSecret: f.middle.secret }).acquireTokenOnBehalfOf({
        oboAssertion: user.accessToken,
        scopes: ['api://unconsented/use'],
      }),
      (error: unknown) => {
        assert.ok(error instanceof InteractionRequiredAuthError, String(error));
        assert.equal(error.errorCode, 'invalid_grant');
        assert.equal(error.subError, 'consent_required');
        assert.match(error.errorMessage, /^AADSTS65001: /);
        return true;
      },
    );
  });

  it('refresh works, rotates, and a replayed refresh token is refused (and revokes the family)', async () => {
    const app = msal(f.client.app.appId, { clientSecret: f.client.secret });
    const first = await f.post(`/${f.tenantId}/oauth2/v2.0/token`, {
      grant_type: 'password',
      client_id: f.client.app.appId,
      client_secret: f.client.secret,
      username: f.alice.userPrincipalName,
      password: f.alicePassword,
      scope: 'api://middle/access_as_user openid profile offline_access',
    });
    const original = String(first.body['refresh_token']);
    assert.ok(original.length > 40);
    const refreshed = await app.acquireTokenByRefreshToken({
      refreshToken: original,
      scopes: ['api://middle/access_as_user'],
    });
    assert.ok(refreshed);
    const claims = await verify(refreshed.accessToken, 2, f.middle.app.appId);
    assert.equal(claims['oid'], f.alice.id);

    // Within the grace window (1 s in this fixture) a racing client may still use the old token.
    const racing = await f.post(`/${f.tenantId}/oauth2/v2.0/token`, {
      grant_type: 'refresh_token',
      client_id: f.client.app.appId,
      client_secret: f.client.secret,
      refresh_token: original,
      scope: 'api://middle/access_as_user offline_access',
    });
    assert.equal(racing.status, 200);
    const successor = String(racing.body['refresh_token']);
    assert.notEqual(successor, original, 'refresh tokens rotate');

    await sleep(1300);
    await assert.rejects(
      app.acquireTokenByRefreshToken({ refreshToken: original, scopes: ['api://middle/access_as_user'] }),
      (error: { errorCode?: string; errorMessage?: string }) => {
        assert.equal(error.errorCode, 'invalid_grant');
        assert.match(String(error.errorMessage), /AADSTS50173: /);
        return true;
      },
    );
    const afterReuse = await f.post(`/${f.tenantId}/oauth2/v2.0/token`, {
      grant_type: 'refresh_token',
      client_id: f.client.app.appId,
      client_secret: f.client.secret,
      refresh_token: successor,
    });
    assert.equal(afterReuse.status, 400);
    assert.deepEqual(afterReuse.body['error_codes'], [50173], 'the whole family is revoked');
  });

  it('a federated-credential client gets a token with no secret at all', async () => {
    assert.equal(f.workload.app.passwordCredentials.length, 0);
    assert.equal(f.workload.app.keyCredentials.length, 0);
    const app = msal(f.workload.app.appId, {
      clientAssertion: async () =>
        f.issuer.sign({ sub: 'repo:contoso/app:ref:refs/heads/main', aud: 'api://AzureADTokenExchange' }),
    });
    const result = await app.acquireTokenByClientCredential({ scopes: ['api://downstream/.default'] });
    assert.ok(result);
    const claims = await verify(result.accessToken, 1, 'api://downstream');
    assert.equal(claims['appid'], f.workload.app.appId);
    assert.equal(claims['appidacr'], '2');
    // A second request is served from the cached discovery + JWKS of the issuer.
    const before = { ...f.issuer.hits };
    await msal(f.workload.app.appId, {
      clientAssertion: async () =>
        f.issuer.sign({ sub: 'repo:contoso/app:ref:refs/heads/main', aud: 'api://AzureADTokenExchange' }),
    }).acquireTokenByClientCredential({ scopes: ['api://downstream/.default'] });
    assert.deepEqual(f.issuer.hits, before);
  });
});
