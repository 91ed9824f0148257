import { createHash, generateKeyPairSync, randomUUID } from 'node:crypto';
import type { KeyObject } from 'node:crypto';
import { createServer } from 'node:http';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { systemClock } from '../../src/core/clock.ts';
import type { Jwk } from '../../src/crypto/jwt.ts';
import { decodeJwt, keySetResolver, signJwt, verifyJwt } from '../../src/crypto/jwt.ts';

/**
 * A loopback Entra-shaped identity provider and a mail API for gateway tests, until Behalf's own IdP
 * serves these grants: discovery + JWKS, on-behalf-of in two hops (with a switch for the
 * pre-authorization of Behalf Connections), client credentials, authorization code + PKCE (an
 * auto-approving /authorize that records consent), rotating refresh tokens; and an API that verifies
 * the tokens it gets and answers as the user they name.
 */
export interface FakeUser {
  readonly oid: string;
  readonly upn: string;
}

export interface FakeIdpOptions {
  readonly behalfClientId: string;
  readonly behalfSecret: string;
  readonly connectorClientId: string;
  /** Undefined: the connector app has no secret and must present a federated assertion. */
  readonly connectorSecret?: string;
  /** The workload-identity issuer's JWKS and the subject the connector app trusts. */
  readonly federated?: { issuer: string; subject: string; jwks: () => Promise<{ keys: Jwk[] }> };
  readonly apiAudience: string;
}

export interface FakeIdp {
  readonly url: string;
  readonly tenantId: string;
  readonly apiUrl: string;
  /** Behalf Connections pre-authorized by connector app X (hop 1 needs no user consent). */
  preauthorized: boolean;
  /** Users who may read mail (others get 403 from the API). */
  readonly mailboxOwners: Set<string>;
  userToken(user: FakeUser, audience?: string): Promise<string>;
  signInAs(user: FakeUser): void;
  readonly counts: Record<string, number>;
  /** Every token this IdP issued (to grep the database and logs for). */
  readonly issued: string[];
  /** The API answers the next calls with this status (then returns to normal). */
  failNext(status: number, times?: number, headers?: Record<string, string>): void;
  close(): Promise<void>;
}

export async function startFakeIdp(options: FakeIdpOptions): Promise<FakeIdp> {
  const tenantId = randomUUID();
  const { privateKey, publicKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
  const kid = 'fake-key-1';
  const jwk = { ...(publicKey.export({ format: 'jwk' }) as Jwk), kid, use: 'sig', alg: 'RS256' };
  const consents = new Set<string>();
  const codes = new Map<
    string,
    { user: FakeUser; challenge: string; redirectUri: string; clientId: string; scope: string }
  >();
  const refreshTokens = new Map<string, { user: FakeUser; clientId: string; scope: string }>();
  const counts: Record<string, number> = {};
  const issued: string[] = [];
  let signedIn: FakeUser | undefined;
  let failures: { status: number; times: number; headers: Record<string, string> } | undefined;
  let url = '';
  const state = { preauthorized: true };
  const issuer = () => `${url}/${tenantId}/v2.0`;
  const count = (name: string) => (counts[name] = (counts[name] ?? 0) + 1);

  const sign = async (claims: Record<string, unknown>, key: KeyObject = privateKey) => {
    const now = Math.floor(Date.now() / 1000);
    const token = await signJwt(
      {
        iss: issuer(),
        tid: tenantId,
        iat: now,
        nbf: now,
        exp: now + 3600,
        ver: '2.0',
        uti: randomUUID(),
        ...claims,
      },
      { privateKey: key, algorithm: 'RS256', header: { kid } },
    );
    issued.push(token);
    return token;
  };
  const verify = (token: string, audience: string) =>
    verifyJwt(token, {
      key: keySetResolver({ keys: [jwk] }),
      algorithms: ['RS256'],
      clock: systemClock,
      issuer: issuer(),
      audience,
    });

  const body = (req: IncomingMessage) =>
    new Promise<string>((resolve) => {
      let text = '';
      req.on('data', (c: Buffer) => (text += c.toString()));
      req.on('end', () => resolve(text));
    });
  const json = (res: ServerResponse, status: number, value: unknown, headers: Record<string, string> = {}) =>
    res.writeHead(status, { 'content-type': 'application/json', ...headers }).end(JSON.stringify(value));
  const aadsts = (res: ServerResponse, code: number, error: string, text: string) =>
    json(res, 400, { error, error_description: `AADSTS${code}: ${text}`, error_codes: [code] });

  const clientOk = async (form: URLSearchParams, clientId: string): Promise<boolean> => {
    if (clientId === options.behalfClientId) return form.get('client_secret') === options.behalfSecret;
    if (clientId !== options.connectorClientId) return false;
    if (options.connectorSecret !== undefined) return form.get('client_secret') === options.connectorSecret;
    const assertion = form.get('client_assertion');
    if (!assertion || !options.federated) return false;
    try {
      const { payload } = await verifyJwt(assertion, {
        key: keySetResolver(await options.federated.jwks()),
        algorithms: ['RS256'],
        clock: systemClock,
        issuer: options.federated.issuer,
        audience: 'api://AzureADTokenExchange',
      });
      return payload['sub'] === options.federated.subject;
    } catch {
      return false;
    }
  };

  const userTokenFor = (user: FakeUser, audience: string, clientId: string, scp: string) =>
    sign({ aud: audience, oid: user.oid, sub: user.oid, preferred_username: user.upn, azp: clientId, scp });

  async function token(req: IncomingMessage, res: ServerResponse) {
    const form = new URLSearchParams(await body(req));
    const grant = form.get('grant_type') ?? '';
    const clientId = form.get('client_id') ?? '';
    count(grant);
    if (!(await clientOk(form, clientId)))
      return json(res, 401, {
        error: 'invalid_client',
        error_description: 'AADSTS7000215: Invalid client secret.',
        error_codes: [7000215],
      });
    if (grant === 'urn:ietf:params:oauth:grant-type:jwt-bearer') {
      const scope = form.get('scope') ?? '';
      const hop1 = clientId === options.behalfClientId;
      let user: FakeUser;
      try {
        const { payload } = await verify(
          form.get('assertion') ?? '',
          hop1 ? options.behalfClientId : options.connectorClientId,
        );
        user = { oid: String(payload['oid']), upn: String(payload['preferred_username']) };
      } catch {
        return aadsts(res, 50013, 'invalid_grant', 'Assertion failed signature validation.');
      }
      if (hop1) {
        if (scope !== `${options.connectorClientId}/.default`)
          return aadsts(res, 500011, 'invalid_resource', 'not found');
        if (!state.preauthorized && !consents.has(`${user.oid}|${options.behalfClientId}`))
          return aadsts(
            res,
            65001,
            'invalid_grant',
            'The user or administrator has not consented to use the application.',
          );
        return json(res, 200, {
          token_type: 'Bearer',
          expires_in: 3600,
          access_token: await userTokenFor(user, options.connectorClientId, clientId, 'user_impersonation'),
        });
      }
      if (scope !== `${options.apiAudience}/.default`)
        return aadsts(res, 500011, 'invalid_resource', 'not found');
      return json(res, 200, {
        token_type: 'Bearer',
        expires_in: 3600,
        access_token: await userTokenFor(user, options.apiAudience, clientId, 'Mail.Read'),
      });
    }
    if (grant === 'client_credentials') {
      if (form.get('scope') !== `${options.apiAudience}/.default`)
        return aadsts(res, 500011, 'invalid_resource', 'not found');
      const access = await sign({
        aud: options.apiAudience,
        oid: 'sp-' + clientId,
        sub: 'sp-' + clientId,
        azp: clientId,
        roles: ['Mail.Read.All'],
        idtyp: 'app',
      });
      return json(res, 200, { token_type: 'Bearer', expires_in: 3600, access_token: access });
    }
    if (grant === 'authorization_code') {
      const entry = codes.get(form.get('code') ?? '');
      codes.delete(form.get('code') ?? '');
      const verifier = form.get('code_verifier') ?? '';
      if (
        !entry ||
        entry.clientId !== clientId ||
        entry.redirectUri !== form.get('redirect_uri') ||
        createHash('sha256').update(verifier).digest('base64url') !== entry.challenge
      )
        return aadsts(res, 70008, 'invalid_grant', 'The code is invalid.');
      return json(res, 200, await issue(entry.user, clientId, entry.scope));
    }
    if (grant === 'refresh_token') {
      const entry = refreshTokens.get(form.get('refresh_token') ?? '');
      refreshTokens.delete(form.get('refresh_token') ?? '');
      if (!entry)
        return aadsts(res, 70008, 'invalid_grant', 'The refresh token has expired or was already used.');
      return json(res, 200, await issue(entry.user, entry.clientId, entry.scope));
    }
    return json(res, 400, { error: 'unsupported_grant_type' });
  }

  async function issue(user: FakeUser, clientId: string, scope: string) {
    const refresh = `fake-refresh-${randomUUID()}`;
    issued.push(refresh);
    refreshTokens.set(refresh, { user, clientId, scope });
    const toApi = scope.includes(options.apiAudience + '/') || clientId === options.connectorClientId;
    return {
      token_type: 'Bearer',
      expires_in: 3600,
      scope,
      access_token: await userTokenFor(user, toApi ? options.apiAudience : clientId, clientId, 'Mail.Read'),
      refresh_token: refresh,
      id_token: await sign({ aud: clientId, oid: user.oid, sub: user.oid, preferred_username: user.upn }),
    };
  }

  const idp = createServer((req, res) => {
    const u = new URL(req.url ?? '/', 'http://x');
    void (async (): Promise<unknown> => {
      if (u.pathname === `/${tenantId}/v2.0/.well-known/openid-configuration`) {
        count('discovery');
        return json(res, 200, {
          issuer: issuer(),
          jwks_uri: `${url}/${tenantId}/discovery/v2.0/keys`,
          authorization_endpoint: `${url}/${tenantId}/oauth2/v2.0/authorize`,
          token_endpoint: `${url}/${tenantId}/oauth2/v2.0/token`,
        });
      }
      if (u.pathname === `/${tenantId}/discovery/v2.0/keys`)
        return (count('jwks'), json(res, 200, { keys: [jwk] }));
      if (u.pathname === `/${tenantId}/oauth2/v2.0/authorize`) {
        if (!signedIn) return json(res, 400, { error: 'login_required' });
        const p = u.searchParams;
        const clientId = p.get('client_id') ?? '';
        consents.add(`${signedIn.oid}|${clientId}`);
        const code = randomUUID();
        codes.set(code, {
          user: signedIn,
          challenge: p.get('code_challenge') ?? '',
          redirectUri: p.get('redirect_uri') ?? '',
          clientId,
          scope: p.get('scope') ?? '',
        });
        const back = new URL(p.get('redirect_uri') ?? '');
        back.searchParams.set('code', code);
        back.searchParams.set('state', p.get('state') ?? '');
        return res.writeHead(302, { location: back.toString() }).end();
      }
      if (u.pathname === `/${tenantId}/oauth2/v2.0/token` && req.method === 'POST') return token(req, res);
      return json(res, 404, { error: 'not_found' });
    })().catch((error: unknown) => res.writeHead(500).end(String(error)));
  });

  const api = createServer((req, res) => {
    const u = new URL(req.url ?? '/', 'http://x');
    void (async (): Promise<unknown> => {
      count('api');
      if (failures && failures.times > 0) {
        failures.times--;
        const { status, headers } = failures;
        if (failures.times === 0) failures = undefined;
        return json(res, status, { error: { code: 'Failure', message: `Simulated ${status}` } }, headers);
      }
      const match = /^\/v1\.0\/me\/mailFolders\/([^/]+)\/messages$/.exec(u.pathname);
      const users = /^\/v1\.0\/users\/([^/]+)\/messages$/.exec(u.pathname);
      if (!match && !users)
        return json(res, 404, { error: { code: 'NotFound', message: 'No such resource.' } });
      let payload;
      try {
        ({ payload } = await verify(
          (req.headers.authorization ?? '').replace(/^Bearer /, ''),
          options.apiAudience,
        ));
      } catch {
        return json(res, 401, {
          error: { code: 'InvalidAuthenticationToken', message: 'Access token is invalid.' },
        });
      }
      const oid = users ? decodeURIComponent(users[1]!) : String(payload['oid']);
      if (users && !(Array.isArray(payload['roles']) && payload['roles'].includes('Mail.Read.All')))
        return json(res, 403, { error: { code: 'ErrorAccessDenied', message: 'Access is denied.' } });
      if (!users && !mailboxOwners.has(oid))
        return json(res, 403, {
          error: { code: 'ErrorAccessDenied', message: 'Access is denied. Check credentials and try again.' },
        });
      const unreadOnly = u.searchParams.get('$filter') === 'isRead eq false';
      const messages = [
        { id: `${oid}-1`, subject: `Unread for ${oid}`, isRead: false },
        { id: `${oid}-2`, subject: `Read for ${oid}`, isRead: true },
      ].filter((m) => !unreadOnly || !m.isRead);
      // A next page, unless `$top` is 10 or more: more than this mailbox ever holds, so one page.
      const top = Number(u.searchParams.get('$top') ?? 1);
      return json(res, 200, {
        value: messages,
        ...(top < 10 ? { '@odata.nextLink': `${apiUrl}/v1.0/me/mailFolders/inbox/messages?$skip=2` } : {}),
      });
    })().catch((error: unknown) => res.writeHead(500).end(String(error)));
  });

  const listen = (server: ReturnType<typeof createServer>) =>
    new Promise<string>((resolve) =>
      server.listen(0, '127.0.0.1', () =>
        resolve(`http://127.0.0.1:${(server.address() as AddressInfo).port}`),
      ),
    );
  url = await listen(idp);
  const apiUrl = await listen(api);
  const mailboxOwners = new Set<string>();
  const close = (server: ReturnType<typeof createServer>) =>
    new Promise<void>((resolve) => {
      server.closeAllConnections();
      server.close(() => resolve());
    });
  return {
    url,
    tenantId,
    apiUrl,
    get preauthorized() {
      return state.preauthorized;
    },
    set preauthorized(value: boolean) {
      state.preauthorized = value;
    },
    mailboxOwners,
    counts,
    issued,
    userToken: (user, audience = options.behalfClientId) =>
      userTokenFor(user, audience, 'chat-client', 'user_impersonation'),
    signInAs: (user) => void (signedIn = user),
    failNext: (status, times = 1, headers = {}) => void (failures = { status, times, headers }),
    close: async () => {
      await close(idp);
      await close(api);
    },
  };
}

/** Reads a token's claims (for assertions about what was sent), without verifying. */
export const claimsOf = (token: string) => decodeJwt(token).payload;
