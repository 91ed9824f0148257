import type { Clock } from '../core/clock.ts';
import { systemClock } from '../core/clock.ts';
import { isWireError } from '../core/errors.ts';
import { identityHeaders, isSpoofableHeader } from './client-principal.ts';
import { createCors } from './cors.ts';
import type { CorsOptions } from './cors.ts';
import type { EdgeRequest, EdgeResponse } from './edge.ts';
import { header, jsonResponse, redirect } from './edge.ts';
import { BearerError, missingToken } from './errors.ts';
import { fetchTrusting } from './http-client.ts';
import { createLoginEndpoints } from './login.ts';
import type { LoginEndpoints, LoginOptions } from './login.ts';
import type { Principal } from './principal.ts';
import type { Requirement } from './requirement.ts';
import { enforce } from './requirement.ts';
import { memoryTokenStore } from './token-store.ts';
import type { TokenStore } from './token-store.ts';
import { createTokenValidator } from './validator.ts';
import type { TokenValidator, ValidatorOptions } from './validator.ts';

/** What happens to a request without credentials (App Service's "unauthenticated requests" setting). */
export type UnauthenticatedAction = '401' | '302' | '403' | '404' | 'allow';

export interface EasyAuthOptions extends ValidatorOptions {
  readonly unauthenticatedAction?: UnauthenticatedAction;
  /** Browser sign-in (`/.auth/*`); without it only bearer tokens are accepted. */
  readonly login?: Omit<LoginOptions, 'tokenStore'> & { readonly tokenStore?: TokenStore };
  readonly cors?: CorsOptions;
  /** Pass the caller's token to the app in `X-MS-TOKEN-AAD-ACCESS-TOKEN` (opt-in: the app then holds it). */
  readonly forwardAccessToken?: boolean;
  /** Paths (exact, or prefixes ending in `/*`) that skip authentication, e.g. a health probe. */
  readonly excludedPaths?: readonly string[];
  /** The API's own error envelope (e.g. Graph's `{error:{code,message}}`); status and challenge are kept. */
  readonly formatError?: (error: BearerError) => unknown;
}

/** Either answer now (challenge, redirect, preflight, /.auth page) or let the app run with this identity. */
export type Decision =
  | { readonly action: 'respond'; readonly response: EdgeResponse }
  | {
      readonly action: 'continue';
      readonly principal: Principal | undefined;
      /** Set these request headers (identity) after removing every incoming `x-ms-*` header. */
      readonly requestHeaders: Readonly<Record<string, string>>;
      /** Add these to the app's response (CORS). */
      readonly responseHeaders: Readonly<Record<string, string>>;
    };

export interface EasyAuth {
  decide(request: EdgeRequest, requirement?: Requirement): Promise<Decision>;
  readonly validator: TokenValidator;
  readonly login: LoginEndpoints | undefined;
}

const NONE: Readonly<Record<string, string>> = Object.freeze({});

export function createEasyAuth(options: EasyAuthOptions): EasyAuth {
  const clock: Clock = options.clock ?? systemClock;
  const fetch = options.fetch ?? fetchTrusting(options.ca);
  // The identity headers (base64 JSON of every claim) cost more than the rest of the decision: built
  // once per principal, so a token served from the verified-token cache reuses them (frozen: every
  // decision for that principal shares the one record).
  const identities = new WeakMap<Principal, Readonly<Record<string, string>>>();
  const identityOf = (principal: Principal): Readonly<Record<string, string>> => {
    let headers = identities.get(principal);
    if (!headers) {
      headers = Object.freeze(identityHeaders(principal));
      identities.set(principal, headers);
    }
    return headers;
  };
  const validator = createTokenValidator({ ...options, fetch, clock });
  const action = options.unauthenticatedAction ?? '401';
  const cors = createCors(options.cors);
  const realm = options.audiences[0] ?? '';
  // Entra-protected resources point clients at where to sign in (the Azure SDKs' challenge discovery).
  const authorizationUri = `${options.authority.replace(/\/+$/, '').replace(/\/v2\.0$/, '')}/oauth2/authorize`;
  const login = options.login
    ? createLoginEndpoints({
        options: { ...options.login, tokenStore: options.login.tokenStore ?? memoryTokenStore(clock) },
        authority: validator.authority,
        // ID tokens are v2-shaped and addressed to the client (OIDC Core §2).
        idTokenValidator: createTokenValidator({
          ...options,
          audiences: [options.login.clientId],
          versions: ['2.0'],
          fetch,
          clock,
        }),
        fetch,
        clock,
      })
    : undefined;
  const excluded = (path: string) =>
    (options.excludedPaths ?? []).some((p) =>
      p.endsWith('/*') ? path.startsWith(p.slice(0, -1)) : path === p,
    );

  function errorResponse(error: BearerError, extra: Readonly<Record<string, string>>): EdgeResponse {
    error.challenge = { realm, authorizationUri, resourceId: realm };
    const body = options.formatError ? options.formatError(error) : error.body();
    return jsonResponse(error.status, body, { ...error.headers(), ...extra });
  }

  function proceed(
    principal: Principal | undefined,
    token: string | undefined,
    responseHeaders: Readonly<Record<string, string>>,
  ): Decision {
    return {
      action: 'continue',
      principal,
      requestHeaders: principal
        ? options.forwardAccessToken && token
          ? { ...identityOf(principal), 'x-ms-token-aad-access-token': token }
          : identityOf(principal)
        : NONE,
      responseHeaders,
    };
  }

  async function decide(request: EdgeRequest, requirement?: Requirement): Promise<Decision> {
    const preflight = cors.preflight(request);
    if (preflight) return { action: 'respond', response: preflight };
    const corsHeaders = cors.responseHeaders(request);
    const query = request.url.indexOf('?');
    const path = query < 0 ? request.url : request.url.slice(0, query);
    if (path.startsWith('/.auth/')) {
      const page = login ? await login.handle(request) : undefined;
      return {
        action: 'respond',
        response:
          page ?? jsonResponse(404, { error: 'not_found', error_description: `${path} is not enabled.` }),
      };
    }
    if (excluded(path)) return proceed(undefined, undefined, corsHeaders);

    try {
      const authorization = header(request.headers, 'authorization');
      let principal: Principal | undefined;
      let token: string | undefined;
      if (authorization !== undefined) {
        const match = /^Bearer +(\S+)$/i.exec(authorization);
        // RFC 6750 §3.1: a malformed request is invalid_request, answered with 400.
        if (!match)
          throw new BearerError(400, 'invalid_request', 'The Authorization header is not a Bearer token.');
        token = match[1]!;
        principal = await validator.validate(token);
      } else if (login) {
        const session = await login.sessionPrincipal(request);
        principal = session?.principal;
        token = session?.tokens.accessToken;
      }
      if (!principal) {
        if (action === 'allow' && !requirement) return proceed(undefined, undefined, corsHeaders);
        return { action: 'respond', response: unauthenticated(request, corsHeaders) };
      }
      enforce(principal, requirement);
      return proceed(principal, token, corsHeaders);
    } catch (error) {
      if (error instanceof BearerError)
        return { action: 'respond', response: errorResponse(error, corsHeaders) };
      if (isWireError(error))
        return { action: 'respond', response: jsonResponse(error.status, error.body(), corsHeaders) };
      throw error;
    }
  }

  function unauthenticated(request: EdgeRequest, extra: Readonly<Record<string, string>>): EdgeResponse {
    switch (action) {
      case '302': {
        // Browsers are sent to sign in; API clients (no text/html) still get the challenge they can act on.
        if (
          login &&
          request.method === 'GET' &&
          (header(request.headers, 'accept') ?? '').includes('text/html')
        )
          return redirect(
            `/.auth/login/aad?post_login_redirect_uri=${encodeURIComponent(request.url)}`,
            extra,
          );
        return errorResponse(missingToken(), extra);
      }
      case '403':
        return jsonResponse(
          403,
          {
            error: 'forbidden',
            error_description: 'You do not have permission to view this directory or page.',
          },
          extra,
        );
      case '404':
        return jsonResponse(
          404,
          {
            error: 'not_found',
            error_description:
              'The resource you are looking for has been removed, had its name changed, or is temporarily unavailable.',
          },
          extra,
        );
      default:
        return errorResponse(missingToken(), extra);
    }
  }

  return { decide, validator, login };
}

/** Applies a `continue` decision to a mutable header record (node:http's `req.headers`). */
export function applyIdentity(
  headers: Record<string, unknown>,
  requestHeaders: Readonly<Record<string, string>>,
): void {
  for (const name of Object.keys(headers)) if (isSpoofableHeader(name)) delete headers[name];
  Object.assign(headers, requestHeaders);
}
