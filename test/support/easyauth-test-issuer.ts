import { createHash, randomUUID } from 'node:crypto';
import { createServer } from 'node:http';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { SignJWT, exportJWK, generateKeyPair } from 'jose';
import type { JWK, JWTPayload } from 'jose';

/**
 * A small Entra-shaped issuer for Easy Auth's tests: v1 and v2 discovery, JWKS (v2 keys carry
 * `issuer`), key rotation, and an auto-approving /authorize + /token (code with PKCE, refresh) so the
 * browser sign-in endpoints can be exercised without Behalf's identity provider. Plain HTTP on 127.0.0.1.
 */
export interface TestUser {
  readonly oid: string;
  readonly upn: string;
  readonly name: string;
}

export interface TokenRequest {
  readonly version?: '1.0' | '2.0';
  readonly aud: string;
  readonly tid?: string;
  readonly user?: TestUser;
  /** App-only token for this client (oid = sub = the client's service principal). */
  readonly appOnly?: { readonly appId: string; readonly oid: string };
  readonly scp?: string;
  readonly roles?: readonly string[];
  readonly appId?: string;
  readonly lifetimeSeconds?: number;
  readonly notBefore?: number;
  readonly issuedAt?: number;
  readonly extra?: Record<string, unknown>;
}

interface SigningKey {
  readonly kid: string;
  readonly privateKey: CryptoKey;
  readonly jwk: JWK;
}

export interface TestIssuer {
  readonly url: string;
  readonly tenantId: string;
  /** `${url}/${tenantId}`: what an API configures as its authority. */
  readonly authority: string;
  readonly counters: { jwks: number; discovery: number; token: number };
  accessToken(request: TokenRequest): Promise<string>;
  /** Signs arbitrary claims with the current key, or a foreign key unknown to the JWKS. */
  sign(
    claims: JWTPayload,
    options?: { foreignKey?: boolean; header?: Record<string, unknown> },
  ): Promise<string>;
  /** Publishes a new key and signs with it from now on; the old key stays published unless `retireOld`. */
  rotate(options?: { retireOld?: boolean }): Promise<string>;
  /** The user /authorize signs in (auto-approve); the scope requested for the access token is echoed in `scp`. */
  signInAs(user: TestUser): void;
  close(): Promise<void>;
}

async function newKey(): Promise<SigningKey> {
  const { privateKey, publicKey } = await generateKeyPair('RS256', { extractable: true });
  const jwk = await exportJWK(publicKey);
  const kid = createHash('sha1').update(JSON.stringify(jwk)).digest('base64url');
  return { kid, privateKey, jwk: { ...jwk, kid, use: 'sig', kty: 'RSA' } };
}

export async function startTestIssuer(options: { tenantId?: string } = {}): Promise<TestIssuer> {
  const tenantId = options.tenantId ?? randomUUID();
  let keys: SigningKey[] = [await newKey()];
  const foreign = await newKey();
  const counters = { jwks: 0, discovery: 0, token: 0 };
  const codes = new Map<
    string,
    { challenge: string; clientId: string; scope: string; nonce: string | undefined; redirectUri: string }
  >();
  const refreshTokens = new Map<string, { clientId: string; scope: string; user: TestUser }>();
  let signedIn: TestUser | undefined;
  let url = '';

  const current = () => keys[keys.length - 1]!;
  const v2Issuer = (tid: string) => `${url}/${tid}/v2.0`;
  const v1Issuer = (tid: string) => `${url}/${tid}/`;

  async function sign(
    claims: JWTPayload,
    opts: { foreignKey?: boolean; header?: Record<string, unknown> } = {},
  ) {
    const key = opts.foreignKey ? foreign : current();
    return new SignJWT(claims)
      .setProtectedHeader({ typ: 'JWT', alg: 'RS256', kid: key.kid, ...opts.header })
      .sign(key.privateKey);
  }

  async function accessToken(request: TokenRequest): Promise<string> {
    const version = request.version ?? '2.0';
    const tid = request.tid ?? tenantId;
    const now = request.issuedAt ?? Math.floor(Date.now() / 1000);
    const claims: Record<string, unknown> = {
      aud: request.aud,
      iss: version === '2.0' ? v2Issuer(tid) : v1Issuer(tid),
      iat: now,
      nbf: request.notBefore ?? now,
      exp: now + (request.lifetimeSeconds ?? 3600),
      tid,
      ver: version,
      uti: randomUUID().replace(/-/g, '').slice(0, 22),
    };
    const appId = request.appOnly?.appId ?? request.appId ?? randomUUID();
    claims[version === '2.0' ? 'azp' : 'appid'] = appId;
    if (request.appOnly) {
      Object.assign(claims, { oid: request.appOnly.oid, sub: request.appOnly.oid, idtyp: 'app' });
    } else if (request.user) {
      Object.assign(claims, {
        oid: request.user.oid,
        sub: `pairwise-${request.user.oid.slice(0, 8)}`,
        name: request.user.name,
      });
      if (version === '2.0') claims['preferred_username'] = request.user.upn;
      else Object.assign(claims, { upn: request.user.upn, unique_name: request.user.upn });
    }
    if (request.scp !== undefined) claims['scp'] = request.scp;
    if (request.roles) claims['roles'] = [...request.roles];
    Object.assign(claims, request.extra);
    return sign(claims as JWTPayload);
  }

  function metadata(tenant: string, version: '1.0' | '2.0') {
    const issuerTid = tenant === 'common' || tenant === 'organizations' ? '{tenantid}' : tenant;
    const v2 = version === '2.0';
    return {
      issuer: v2 ? v2Issuer(issuerTid) : v1Issuer(issuerTid),
      jwks_uri: `${url}/${tenant}/discovery/${v2 ? 'v2.0/' : ''}keys`,
      authorization_endpoint: `${url}/${tenant}/oauth2/${v2 ? 'v2.0/' : ''}authorize`,
      token_endpoint: `${url}/${tenant}/oauth2/${v2 ? 'v2.0/' : ''}token`,
      end_session_endpoint: `${url}/${tenant}/oauth2/${v2 ? 'v2.0/' : ''}logout`,
      id_token_signing_alg_values_supported: ['RS256'],
    };
  }

  async function handle(req: IncomingMessage, res: ServerResponse) {
    const u = new URL(req.url ?? '/', url);
    const json = (status: number, body: unknown) => {
      res.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify(body));
    };
    let m = /^\/([^/]+)\/(v2\.0\/)?\.well-known\/openid-configuration$/.exec(u.pathname);
    if (m) {
      counters.discovery++;
      return json(200, metadata(m[1]!, m[2] ? '2.0' : '1.0'));
    }
    m = /^\/([^/]+)\/discovery\/(v2\.0\/)?keys$/.exec(u.pathname);
    if (m) {
      counters.jwks++;
      const issuerTid = m[1] === 'common' || m[1] === 'organizations' ? '{tenantid}' : m[1]!;
      return json(200, {
        keys: keys.map((k) => (m![2] ? { ...k.jwk, issuer: v2Issuer(issuerTid) } : k.jwk)),
      });
    }
    if (u.pathname.endsWith('/oauth2/v2.0/authorize')) {
      const p = u.searchParams;
      if (!signedIn) return json(400, { error: 'interaction_required' });
      if (p.get('code_challenge_method') !== 'S256')
        return json(400, { error: 'invalid_request', error_description: 'PKCE S256 required' });
      const code = randomUUID();
      codes.set(code, {
        challenge: p.get('code_challenge') ?? '',
        clientId: p.get('client_id') ?? '',
        scope: p.get('scope') ?? '',
        nonce: p.get('nonce') ?? undefined,
        redirectUri: p.get('redirect_uri') ?? '',
      });
      const back = new URL(p.get('redirect_uri') ?? '');
      back.searchParams.set('code', code);
      back.searchParams.set('state', p.get('state') ?? '');
      res.writeHead(302, { location: back.toString() }).end();
      return;
    }
    if (u.pathname.endsWith('/oauth2/v2.0/token') && req.method === 'POST') {
      counters.token++;
      const body = new URLSearchParams(await readBody(req));
      if (body.get('grant_type') === 'authorization_code') {
        const entry = codes.get(body.get('code') ?? '');
        codes.delete(body.get('code') ?? '');
        const verifier = body.get('code_verifier') ?? '';
        if (
          !entry ||
          !signedIn ||
          createHash('sha256').update(verifier).digest('base64url') !== entry.challenge ||
          entry.redirectUri !== body.get('redirect_uri')
        )
          return json(400, { error: 'invalid_grant' });
        return json(200, await tokenResponse(entry.clientId, entry.scope, signedIn, entry.nonce));
      }
      if (body.get('grant_type') === 'refresh_token') {
        const entry = refreshTokens.get(body.get('refresh_token') ?? '');
        if (!entry) return json(400, { error: 'invalid_grant' });
        return json(200, await tokenResponse(entry.clientId, entry.scope, entry.user, undefined));
      }
      return json(400, { error: 'unsupported_grant_type' });
    }
    json(404, { error: 'not_found' });
  }

  async function tokenResponse(clientId: string, scope: string, user: TestUser, nonce: string | undefined) {
    const apiScopes = scope.split(' ').filter((s) => s.includes('/'));
    const aud = apiScopes[0]?.replace(/\/[^/]*$/, '') ?? clientId;
    const scp = apiScopes.map((s) => s.slice(s.lastIndexOf('/') + 1)).join(' ') || 'User.Read';
    const now = Math.floor(Date.now() / 1000);
    const refresh = randomUUID();
    refreshTokens.set(refresh, { clientId, scope, user });
    return {
      token_type: 'Bearer',
      expires_in: 3600,
      scope,
      access_token: await accessToken({ aud, user, scp, appId: clientId }),
      refresh_token: refresh,
      id_token: await sign({
        aud: clientId,
        iss: v2Issuer(tenantId),
        iat: now,
        nbf: now,
        exp: now + 3600,
        tid: tenantId,
        oid: user.oid,
        sub: `pairwise-${user.oid.slice(0, 8)}`,
        name: user.name,
        preferred_username: user.upn,
        ver: '2.0',
        ...(nonce ? { nonce } : {}),
      }),
    };
  }

  const server = createServer((req, res) => {
    handle(req, res).catch((error: unknown) => {
      res.writeHead(500).end(String(error));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;

  return {
    url,
    tenantId,
    authority: `${url}/${tenantId}`,
    counters,
    accessToken,
    sign,
    async rotate(opts = {}) {
      const key = await newKey();
      keys = opts.retireOld ? [key] : [...keys, key];
      return key.kid;
    },
    signInAs(user) {
      signedIn = user;
    },
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

function readBody(req: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    req.on('error', reject);
  });
}
