import { randomBytes } from 'node:crypto';
import { createServer } from 'node:http';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

/**
 * An OAuth 2.0 provider and the API it protects, on loopback over real HTTP, for the refresh e2e with
 * whole Behalf processes:
 *
 * - `POST /token` answers `refresh_token` grants (RFC 6749 §6) with rotation: every refresh token works
 *   once, a replayed one gets `invalid_grant` (AADSTS70008, as Entra words it). The connector app must
 *   authenticate with its client secret (§2.3.1, in the body).
 * - `GET /v1.0/me/messages` accepts only an access token this provider issued and has not revoked.
 *
 * `hold()` parks the next refresh request: the test sees it arrive, then either lets it go (it is
 * answered normally) or kills the process that sent it; a request whose client went away before being
 * let go is dropped unprocessed, as a token endpoint that rotates only when it answers would.
 */
export interface HeldRefresh {
  /** The refresh request reached the token endpoint. */
  readonly arrived: Promise<void>;
  /** Its client closed the connection before it was answered; it was dropped, nothing rotated. */
  readonly abandoned: Promise<void>;
  /** Answers it now (rotates the refresh token as usual). */
  release(): void;
}

export interface RotatingProvider {
  /** Base URL (`http://127.0.0.1:port`): `/authorize`, `/token`, `/v1.0/me/messages`. */
  readonly url: string;
  readonly clientId: string;
  readonly clientSecret: string;
  /** Mints a refresh token as a sign-in would have (the connection's first credential). */
  signIn(): string;
  /** Successful (rotating) refresh_token grants. */
  refreshes(): number;
  /** refresh_token grants received, including refused, held and dropped ones. */
  received(): number;
  /** Refresh tokens presented that were not valid (replays). */
  refused(): number;
  /** The one refresh token that works now (rotation keeps exactly one alive per sign-in). */
  liveRefreshToken(): string | undefined;
  /** Every token this provider has handed out (the test greps the database file and the logs for them). */
  issued(): readonly string[];
  /** API calls answered 200 / refused 401. */
  apiCalls(): { ok: number; unauthorized: number };
  /** The API stops accepting every access token issued so far (the next call gets 401). */
  revokeAccessTokens(): void;
  hold(): HeldRefresh;
  close(): Promise<void>;
}

const ACCESS_TOKEN_SECONDS = 3600;

export async function startRotatingProvider(): Promise<RotatingProvider> {
  const clientId = `rotating-app-${randomBytes(4).toString('hex')}`;
  const clientSecret = `rotating-secret-${randomBytes(16).toString('hex')}`;
  const liveRefresh = new Set<string>();
  const liveAccess = new Set<string>();
  const issued: string[] = [];
  let refreshes = 0;
  let received = 0;
  let refused = 0;
  let counter = 0;
  const api = { ok: 0, unauthorized: 0 };
  let pendingHold: { arrive(): void; park(answer: () => void, req: IncomingMessage): void } | undefined;

  const mint = (kind: 'at' | 'rt') => {
    const token = `rot-${kind}-${++counter}-${randomBytes(24).toString('base64url')}`;
    issued.push(token);
    return token;
  };

  const json = (
    res: ServerResponse,
    status: number,
    body: unknown,
    extra: Record<string, string> = {},
  ): void => {
    res
      .writeHead(status, { 'content-type': 'application/json', 'cache-control': 'no-store', ...extra })
      .end(JSON.stringify(body));
  };

  const refresh = (form: URLSearchParams, res: ServerResponse): void => {
    const presented = form.get('refresh_token') ?? '';
    if (!liveRefresh.delete(presented)) {
      refused++;
      return json(res, 400, {
        error: 'invalid_grant',
        error_description: 'AADSTS70008: The refresh token has expired or was already used.',
        error_codes: [70008],
      });
    }
    refreshes++;
    const accessToken = mint('at');
    const refreshToken = mint('rt');
    liveAccess.add(accessToken);
    liveRefresh.add(refreshToken);
    json(res, 200, {
      token_type: 'Bearer',
      access_token: accessToken,
      expires_in: ACCESS_TOKEN_SECONDS,
      refresh_token: refreshToken,
      scope: 'Mail.Read',
    });
  };

  const token = (req: IncomingMessage, res: ServerResponse, body: string): void => {
    const form = new URLSearchParams(body);
    if (form.get('grant_type') !== 'refresh_token')
      return json(res, 400, { error: 'unsupported_grant_type' });
    received++;
    if (form.get('client_id') !== clientId || form.get('client_secret') !== clientSecret)
      return json(res, 401, { error: 'invalid_client', error_description: 'client authentication failed' });
    const hold = pendingHold;
    if (!hold) return refresh(form, res);
    pendingHold = undefined;
    hold.park(() => refresh(form, res), req);
    hold.arrive();
  };

  const messages = (req: IncomingMessage, res: ServerResponse): void => {
    const presented = /^Bearer (\S+)$/.exec(req.headers.authorization ?? '')?.[1];
    if (!presented || !liveAccess.has(presented)) {
      api.unauthorized++;
      return json(
        res,
        401,
        { error: { code: 'InvalidAuthenticationToken', message: 'Access token is invalid.' } },
        {
          'www-authenticate': 'Bearer error="invalid_token"',
        },
      );
    }
    api.ok++;
    json(res, 200, { value: [{ id: 'm1', subject: 'Quarterly numbers', isRead: false }] });
  };

  const server = createServer((req, res) => {
    let body = '';
    req.on('data', (chunk: Buffer) => (body += chunk.toString('utf8')));
    req.on('end', (): void => {
      const path = new URL(req.url ?? '/', 'http://x').pathname;
      if (req.method === 'POST' && path === '/token') return token(req, res, body);
      if (req.method === 'GET' && path === '/v1.0/me/messages') return messages(req, res);
      json(res, 404, { error: 'not_found' });
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;

  return {
    url,
    clientId,
    clientSecret,
    signIn() {
      const refreshToken = mint('rt');
      liveRefresh.add(refreshToken);
      return refreshToken;
    },
    refreshes: () => refreshes,
    received: () => received,
    refused: () => refused,
    liveRefreshToken: () => (liveRefresh.size === 1 ? [...liveRefresh][0] : undefined),
    issued: () => issued,
    apiCalls: () => ({ ...api }),
    revokeAccessTokens: () => liveAccess.clear(),
    hold() {
      let arrive!: () => void;
      let abandon!: () => void;
      const arrived = new Promise<void>((resolve) => (arrive = resolve));
      const abandoned = new Promise<void>((resolve) => (abandon = resolve));
      let answer: (() => void) | undefined;
      let released = false;
      pendingHold = {
        arrive,
        park(respond, req) {
          if (released) return respond();
          answer = respond;
          // The sender died (SIGKILL closes its sockets): drop the request, rotate nothing.
          req.socket.once('close', () => {
            if (answer === undefined) return;
            answer = undefined;
            abandon();
          });
        },
      };
      return {
        arrived,
        abandoned,
        release() {
          released = true;
          const respond = answer;
          answer = undefined;
          respond?.();
        },
      };
    },
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
