import type { Clock } from '../core/clock.ts';
import type { OutboundHttp } from './outbound-http.ts';

/**
 * A client of any OAuth 2.0 token endpoint (RFC 6749 §3.2): Behalf's own identity provider, Entra ID,
 * or any standards-compliant server. Connections reach an identity provider only through this, over
 * HTTP, never in process (ARCHITECTURE.md: "only through its public OAuth endpoints").
 */
export interface TokenSet {
  readonly accessToken: string;
  /** Milliseconds since the epoch. */
  readonly expiresAt: number;
  readonly refreshToken?: string;
  readonly scope?: string;
  /** OIDC Core §3.1.3.3: who signed in (authorization code redemption with `openid`). */
  readonly idToken?: string;
}

/** An error response of a token endpoint (RFC 6749 §5.2), with Entra's extra fields when present. */
export class OAuthError extends Error {
  readonly error: string;
  readonly description: string;
  /** Entra's AADSTS numbers (`error_codes`), e.g. 65001 for consent_required. */
  readonly codes: readonly number[];
  readonly suberror?: string;
  readonly status: number;
  readonly host: string;
  constructor(fields: {
    error: string;
    description: string;
    codes: readonly number[];
    suberror?: string;
    status: number;
    host: string;
  }) {
    super(`${fields.error}: ${firstLine(fields.description)}`);
    this.name = 'OAuthError';
    this.error = fields.error;
    this.description = fields.description;
    this.codes = fields.codes;
    if (fields.suberror !== undefined) this.suberror = fields.suberror;
    this.status = fields.status;
    this.host = fields.host;
  }
}

function firstLine(text: string): string {
  return text.split(/\r?\n/)[0] ?? '';
}

export interface TokenRequest {
  readonly tokenUrl: string;
  readonly form: Readonly<Record<string, string>>;
  /** Extra headers, e.g. Basic client authentication for oauth2generic providers. */
  readonly headers?: Readonly<Record<string, string>>;
  readonly timeoutMs?: number;
}

export async function requestToken(
  http: OutboundHttp,
  clock: Clock,
  request: TokenRequest,
): Promise<TokenSet> {
  const url = new URL(request.tokenUrl);
  const response = await http.request({
    method: 'POST',
    url,
    headers: {
      'content-type': 'application/x-www-form-urlencoded',
      accept: 'application/json',
      ...request.headers,
    },
    body: new URLSearchParams(request.form).toString(),
    ...(request.timeoutMs !== undefined ? { timeoutMs: request.timeoutMs } : {}),
    maxResponseBytes: 256 * 1024,
  });
  let json: Record<string, unknown>;
  try {
    json = JSON.parse(response.body.toString('utf8')) as Record<string, unknown>;
  } catch {
    throw new OAuthError({
      error: 'invalid_response',
      description: `The token endpoint at ${url.host} answered ${response.status} without a JSON body.`,
      codes: [],
      status: response.status,
      host: url.host,
    });
  }
  if (response.status !== 200 || typeof json['access_token'] !== 'string') {
    throw new OAuthError({
      error: typeof json['error'] === 'string' ? json['error'] : 'invalid_response',
      description: typeof json['error_description'] === 'string' ? json['error_description'] : '',
      codes: Array.isArray(json['error_codes'])
        ? json['error_codes'].filter((c): c is number => typeof c === 'number')
        : [],
      ...(typeof json['suberror'] === 'string' ? { suberror: json['suberror'] } : {}),
      status: response.status,
      host: url.host,
    });
  }
  // Entra v1 sends expires_in as a string; RFC 6749 §5.1 says number. Accept both; default one hour.
  const expiresIn = Number(json['expires_in'] ?? 3600);
  return {
    accessToken: json['access_token'],
    expiresAt: clock.now() + (Number.isFinite(expiresIn) && expiresIn > 0 ? expiresIn : 3600) * 1000,
    ...(typeof json['refresh_token'] === 'string' ? { refreshToken: json['refresh_token'] } : {}),
    ...(typeof json['scope'] === 'string' ? { scope: json['scope'] } : {}),
    ...(typeof json['id_token'] === 'string' ? { idToken: json['id_token'] } : {}),
  };
}
