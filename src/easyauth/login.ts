import { createHash, randomBytes } from 'node:crypto';
import type { Clock } from '../core/clock.ts';
import type { Authority } from './authority.ts';
import type { EdgeRequest, EdgeResponse } from './edge.ts';
import { header, jsonResponse, redirect, safeReturnPath } from './edge.ts';
import type { FetchLike } from './http-client.ts';
import type { Principal } from './principal.ts';
import { principalFromClaims } from './principal.ts';
import type { Sealer } from './session.ts';
import { createSealer, parseCookies, setCookie } from './session.ts';
import type { SessionTokens, TokenStore } from './token-store.ts';
import type { TokenValidator } from './validator.ts';

/**
 * App Service's browser sign-in (`/.auth/login/aad`, `/callback`, `/.auth/me`, `/.auth/refresh`,
 * `/.auth/logout`): authorization code + PKCE (RFC 7636) against the authority, an encrypted session
 * cookie that holds only a session id, and the tokens in the token store.
 */
export interface LoginOptions {
  /** The app registration Easy Auth signs users in with (usually the API's own). */
  readonly clientId: string;
  readonly clientSecret?: string;
  /** Scopes beyond `openid profile offline_access`, e.g. `api://…/user_impersonation` to get an access token. */
  readonly scopes?: readonly string[];
  /** Base URL browsers use (`https://app.example`); by default taken from the Host header. */
  readonly publicUrl?: string;
  /** At least 32 bytes; sessions survive restarts only if this does. */
  readonly sessionKey: string | Uint8Array;
  readonly tokenStore: TokenStore;
  readonly sessionLifetimeSeconds?: number;
}

const FLOW_COOKIE = 'BehalfAuthFlow';
const SESSION_COOKIE = 'BehalfAuthSession';

export interface LoginEndpoints {
  handle(request: EdgeRequest): Promise<EdgeResponse | undefined>;
  /** The signed-in browser user, from the session cookie. */
  sessionPrincipal(
    request: EdgeRequest,
  ): Promise<{ principal: Principal; tokens: SessionTokens } | undefined>;
}

export function createLoginEndpoints(deps: {
  options: LoginOptions;
  authority: Authority;
  idTokenValidator: TokenValidator;
  fetch: FetchLike;
  clock: Clock;
}): LoginEndpoints {
  const { options, authority, clock } = deps;
  const flowSealer: Sealer = createSealer(options.sessionKey, 'flow');
  const sessionSealer: Sealer = createSealer(options.sessionKey, 'session');
  const lifetime = options.sessionLifetimeSeconds ?? 8 * 3600;

  const baseUrl = (req: EdgeRequest) =>
    options.publicUrl?.replace(/\/$/, '') ??
    `${req.secure ? 'https' : 'http'}://${header(req.headers, 'host') ?? 'localhost'}`;
  const callbackUrl = (req: EdgeRequest) => `${baseUrl(req)}/.auth/login/aad/callback`;

  async function redeem(body: Record<string, string>): Promise<Record<string, unknown>> {
    const { tokenEndpoint } = await authority.metadata('2.0');
    const form = new URLSearchParams({ client_id: options.clientId, ...body });
    if (options.clientSecret) form.set('client_secret', options.clientSecret);
    const response = await deps.fetch(tokenEndpoint ?? '', {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: form.toString(),
    });
    const json = (await response.json()) as Record<string, unknown>;
    if (!response.ok || (typeof json['id_token'] !== 'string' && body['grant_type'] === 'authorization_code'))
      throw new LoginFailed(
        typeof json['error'] === 'string' ? json['error'] : `token endpoint answered ${response.status}`,
      );
    return json;
  }

  async function session(req: EdgeRequest) {
    const sealed = parseCookies(header(req.headers, 'cookie')).get(SESSION_COOKIE);
    const sid = sealed ? sessionSealer.open<string>(sealed, clock.now()) : undefined;
    const tokens = sid ? await options.tokenStore.get(sid) : undefined;
    return sid && tokens ? { sid, tokens } : undefined;
  }

  const routes: Record<string, (req: EdgeRequest, url: URL) => Promise<EdgeResponse>> = {
    async '/.auth/login/aad'(req, url) {
      const { authorizationEndpoint } = await authority.metadata('2.0');
      const verifier = randomBytes(32).toString('base64url');
      const state = randomBytes(16).toString('base64url');
      const nonce = randomBytes(16).toString('base64url');
      const returnTo = safeReturnPath(url.searchParams.get('post_login_redirect_uri'));
      const target = new URL(authorizationEndpoint ?? '');
      target.search = new URLSearchParams({
        client_id: options.clientId,
        response_type: 'code',
        redirect_uri: callbackUrl(req),
        response_mode: 'query',
        scope: ['openid', 'profile', 'offline_access', ...(options.scopes ?? [])].join(' '),
        state,
        nonce,
        code_challenge: createHash('sha256').update(verifier).digest('base64url'),
        code_challenge_method: 'S256',
      }).toString();
      const flow = flowSealer.seal({ state, verifier, nonce, returnTo }, clock.now() + 600_000);
      return redirect(target.toString(), {
        'set-cookie': setCookie(FLOW_COOKIE, flow, {
          path: '/.auth',
          maxAgeSeconds: 600,
          secure: req.secure,
        }),
      });
    },

    async '/.auth/login/aad/callback'(req, url) {
      const sealed = parseCookies(header(req.headers, 'cookie')).get(FLOW_COOKIE);
      const flow = sealed
        ? flowSealer.open<{ state: string; verifier: string; nonce: string; returnTo: string }>(
            sealed,
            clock.now(),
          )
        : undefined;
      const error = url.searchParams.get('error');
      if (error)
        return jsonResponse(401, {
          error,
          error_description: url.searchParams.get('error_description') ?? '',
        });
      // The state ties the callback to the browser that started the flow (RFC 6749 §10.12, CSRF).
      if (!flow || url.searchParams.get('state') !== flow.state)
        return jsonResponse(400, {
          error: 'invalid_request',
          error_description:
            'The sign-in state is missing or does not match; start again at /.auth/login/aad.',
        });
      const code = url.searchParams.get('code');
      if (!code)
        return jsonResponse(400, {
          error: 'invalid_request',
          error_description: 'The callback has no authorization code.',
        });
      let tokens: SessionTokens;
      try {
        const json = await redeem({
          grant_type: 'authorization_code',
          code,
          redirect_uri: callbackUrl(req),
          code_verifier: flow.verifier,
        });
        tokens = await toSessionTokens(json, flow.nonce);
      } catch (e) {
        if (!(e instanceof LoginFailed)) throw e;
        return jsonResponse(401, { error: 'login_failed', error_description: e.message });
      }
      const sid = randomBytes(24).toString('base64url');
      const expiresAt = clock.now() + lifetime * 1000;
      await options.tokenStore.set(sid, tokens, expiresAt);
      return redirect(flow.returnTo, {
        'set-cookie': [
          setCookie(SESSION_COOKIE, sessionSealer.seal(sid, expiresAt), {
            path: '/',
            maxAgeSeconds: lifetime,
            secure: req.secure,
          }),
          setCookie(FLOW_COOKIE, '', { path: '/.auth', maxAgeSeconds: 0, secure: req.secure }),
        ],
      });
    },

    async '/.auth/me'(req) {
      const s = await session(req);
      if (!s) return jsonResponse(401, { error: 'unauthorized', error_description: 'No signed-in session.' });
      const p = principalFromClaims(s.tokens.idTokenClaims);
      // The shape App Service returns: an array with one entry per provider.
      return jsonResponse(200, [
        {
          provider_name: 'aad',
          user_id: p.upn ?? p.oid,
          user_claims: Object.entries(s.tokens.idTokenClaims).flatMap(([typ, v]) =>
            (Array.isArray(v) ? v : [v]).map((val) => ({ typ, val: String(val) })),
          ),
          id_token: s.tokens.idToken,
          ...(s.tokens.accessToken ? { access_token: s.tokens.accessToken } : {}),
          expires_on: new Date(s.tokens.accessTokenExpiresAt).toISOString(),
        },
      ]);
    },

    async '/.auth/refresh'(req) {
      const s = await session(req);
      if (!s?.tokens.refreshToken)
        return jsonResponse(401, { error: 'unauthorized', error_description: 'No session to refresh.' });
      try {
        const json = await redeem({ grant_type: 'refresh_token', refresh_token: s.tokens.refreshToken });
        const refreshed =
          typeof json['id_token'] === 'string'
            ? await toSessionTokens(json, undefined)
            : { ...s.tokens, ...accessPart(json) };
        await options.tokenStore.set(
          s.sid,
          { ...refreshed, refreshToken: refreshed.refreshToken ?? s.tokens.refreshToken },
          clock.now() + lifetime * 1000,
        );
      } catch (e) {
        if (!(e instanceof LoginFailed)) throw e;
        return jsonResponse(401, { error: 'refresh_failed', error_description: e.message });
      }
      return { status: 204, headers: {}, body: '' };
    },

    async '/.auth/logout'(req, url) {
      const s = await session(req);
      if (s) await options.tokenStore.delete(s.sid);
      return redirect(safeReturnPath(url.searchParams.get('post_logout_redirect_uri')), {
        'set-cookie': setCookie(SESSION_COOKIE, '', { path: '/', maxAgeSeconds: 0, secure: req.secure }),
      });
    },
  };

  function accessPart(json: Record<string, unknown>) {
    const expiresIn =
      typeof json['expires_in'] === 'number' ? json['expires_in'] : Number(json['expires_in'] ?? 3600);
    return {
      accessToken: typeof json['access_token'] === 'string' ? json['access_token'] : undefined,
      refreshToken: typeof json['refresh_token'] === 'string' ? json['refresh_token'] : undefined,
      accessTokenExpiresAt: clock.now() + expiresIn * 1000,
    };
  }

  async function toSessionTokens(
    json: Record<string, unknown>,
    nonce: string | undefined,
  ): Promise<SessionTokens> {
    const idToken = json['id_token'] as string;
    let claims: Record<string, unknown>;
    try {
      claims = (await deps.idTokenValidator.validate(idToken)).claims as Record<string, unknown>;
    } catch (e) {
      throw new LoginFailed(`The ID token was rejected: ${(e as Error).message}`);
    }
    // OIDC Core §3.1.3.7: the nonce binds the ID token to this browser's request (replay defence).
    if (nonce !== undefined && claims['nonce'] !== nonce)
      throw new LoginFailed('The ID token nonce does not match.');
    return { idToken, idTokenClaims: claims, ...accessPart(json) };
  }

  return {
    async handle(req) {
      const url = new URL(req.url, 'http://x');
      const route = routes[url.pathname.replace(/\/$/, '')];
      if (!route || (req.method !== 'GET' && req.method !== 'POST')) return undefined;
      return route(req, url);
    },
    async sessionPrincipal(req) {
      const s = await session(req);
      if (!s) return undefined;
      // The app sees the ID token's claims (as App Service does) and the access token's delegated scopes.
      const scp = s.tokens.accessToken ? scopesOf(s.tokens.accessToken) : undefined;
      return {
        principal: principalFromClaims({ ...s.tokens.idTokenClaims, ...(scp ? { scp } : {}) }),
        tokens: s.tokens,
      };
    },
  };
}

class LoginFailed extends Error {}

/** The access token came straight from the token endpoint over TLS, so its `scp` is read, not re-verified. */
function scopesOf(jwt: string): string | undefined {
  try {
    const claims = JSON.parse(Buffer.from(jwt.split('.')[1] ?? '', 'base64url').toString('utf8')) as Record<
      string,
      unknown
    >;
    return typeof claims['scp'] === 'string' ? claims['scp'] : undefined;
  } catch {
    return undefined;
  }
}
