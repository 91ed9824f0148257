import type { Application } from '../../directory/model.ts';
import { interactiveError } from './authorize-errors.ts';

/**
 * The parameters of `/authorize` (v2: ED:v2-oauth2-auth-code-flow.md, ED:v2-protocols-oidc.md; v1:
 * AZ1:v1-protocols-oauth-code.md), checked as a short list of named rules. Rules that run before the
 * redirect URI is verified throw page-only errors; every later rule's error goes to the client.
 */
export type ResponseType = 'code' | 'id_token' | 'code id_token';
export type ResponseMode = 'query' | 'fragment' | 'form_post';
export type Prompt = 'login' | 'none' | 'consent' | 'select_account' | 'admin_consent';
export type RedirectKind = 'web' | 'spa' | 'publicClient';

export interface AuthorizeRequest {
  readonly version: 'v1' | 'v2';
  readonly clientId: string;
  readonly redirectUri: string;
  readonly redirectKind: RedirectKind;
  readonly responseType: ResponseType;
  readonly responseMode: ResponseMode;
  /** v2: the requested scopes verbatim; v1: empty (v1 ignores `scope` beyond openid). */
  readonly scopes: readonly string[];
  /** v1 only: the target API's App ID URI or appId. */
  readonly resource?: string;
  readonly state?: string;
  readonly nonce?: string;
  readonly prompt?: Prompt;
  readonly loginHint?: string;
  readonly domainHint?: string;
  readonly maxAge?: number;
  readonly codeChallenge?: string;
  readonly codeChallengeMethod?: 'S256' | 'plain';
  /**
   * How the flow ends once the user is signed in and has consented: a code (absent, /authorize), the
   * admin consent endpoint's redirect, or approving a device code (no redirect at all).
   */
  readonly completion?: { readonly kind: 'admin-consent' } | { readonly kind: 'device'; readonly id: string };
}

export type RawParameters = Readonly<Record<string, string | undefined>>;

const RESPONSE_TYPES: Record<string, ResponseType> = {
  code: 'code',
  id_token: 'id_token',
  'code id_token': 'code id_token',
  'id_token code': 'code id_token',
};
const PROMPTS: Record<'v1' | 'v2', readonly Prompt[]> = {
  v2: ['login', 'none', 'consent', 'select_account'],
  v1: ['login', 'none', 'consent', 'select_account', 'admin_consent'],
};
const MAX_PARAMETER_LENGTH = 4096;

/** Exact matching over all three platforms; which one matched decides the client type. */
export function matchRedirectUri(
  app: Application,
  requested: string | undefined,
): { redirectUri: string; redirectKind: RedirectKind } {
  const registered: [string, RedirectKind][] = [
    ...app.web.redirectUris.map((u): [string, RedirectKind] => [u, 'web']),
    ...app.spa.redirectUris.map((u): [string, RedirectKind] => [u, 'spa']),
    ...app.publicClient.redirectUris.map((u): [string, RedirectKind] => [u, 'publicClient']),
  ];
  if (registered.length === 0) throw interactiveError(500113);
  if (requested === undefined || requested === '') {
    // "If absent, one of the registered redirect URIs is picked" (ED:v2-protocols-oidc.md) — only
    // unambiguous when there is exactly one.
    if (registered.length === 1) return { redirectUri: registered[0]![0], redirectKind: registered[0]![1] };
    throw interactiveError(900971);
  }
  // Byte-for-byte: no case folding, no trailing-slash or port leniency (RFC 9700 §4.1.3).
  const match = registered.find(([uri]) => uri === requested);
  if (!match) throw interactiveError(50011, { redirectUri: requested, appId: app.appId });
  return { redirectUri: match[0], redirectKind: match[1] };
}

/** The rules after the redirect URI is known good: each failure is redirected to the client. */
export function parseAuthorizeRequest(
  version: 'v1' | 'v2',
  raw: RawParameters,
  redirect: { redirectUri: string; redirectKind: RedirectKind },
  app: Application,
): AuthorizeRequest {
  for (const [name, value] of Object.entries(raw))
    if (value !== undefined && value.length > MAX_PARAMETER_LENGTH)
      throw interactiveError(90023, { name, value: value.slice(0, 40) + '…' });

  const rawType = raw.response_type?.trim().replace(/\s+/g, ' ');
  if (!rawType) throw interactiveError(900144, { name: 'response_type' });
  const responseType = RESPONSE_TYPES[rawType];
  if (!responseType) throw interactiveError(900561, { responseType: rawType });
  const wantsIdToken = responseType !== 'code';
  // An ID token from the front channel needs "ID tokens" ticked in the registration (ED:v2-protocols-oidc.md).
  if (wantsIdToken && !app.web.implicitGrantSettings.enableIdTokenIssuance)
    throw interactiveError(700054, { responseType: rawType });

  const responseMode = (raw.response_mode ?? (wantsIdToken ? 'fragment' : 'query')) as ResponseMode;
  if (
    !['query', 'fragment', 'form_post'].includes(responseMode) ||
    (wantsIdToken && responseMode === 'query')
  )
    throw interactiveError(900562, { responseMode, responseType: rawType });

  const scopes = (raw.scope ?? '').split(' ').filter((s) => s.length > 0);
  if (version === 'v2') {
    if (raw.resource !== undefined) throw interactiveError(901002);
    if (scopes.length === 0) throw interactiveError(900144, { name: 'scope' });
  }
  if (wantsIdToken && !raw.nonce) throw interactiveError(900144, { name: 'nonce' });
  if (wantsIdToken && version === 'v2' && !scopes.includes('openid'))
    throw interactiveError(70011, { scope: scopes.join(' ') });

  const prompt = raw.prompt as Prompt | undefined;
  if (prompt !== undefined && !PROMPTS[version].includes(prompt))
    throw interactiveError(90023, { name: 'prompt', value: prompt });

  let maxAge: number | undefined;
  if (raw.max_age !== undefined) {
    if (!/^\d{1,9}$/.test(raw.max_age))
      throw interactiveError(90023, { name: 'max_age', value: raw.max_age });
    maxAge = Number(raw.max_age);
  }

  const pkce = checkPkce(raw, redirect.redirectKind, app);

  return {
    version,
    clientId: app.appId,
    ...redirect,
    responseType,
    responseMode,
    scopes: version === 'v2' ? scopes : scopes.filter((s) => s === 'openid'),
    ...(version === 'v1' && raw.resource ? { resource: raw.resource } : {}),
    ...(raw.state !== undefined ? { state: raw.state } : {}),
    ...(raw.nonce ? { nonce: raw.nonce } : {}),
    ...(prompt ? { prompt } : {}),
    ...(raw.login_hint ? { loginHint: raw.login_hint } : {}),
    ...(raw.domain_hint ? { domainHint: raw.domain_hint } : {}),
    ...(maxAge !== undefined ? { maxAge } : {}),
    ...pkce,
  };
}

const CHALLENGE = /^[A-Za-z0-9\-._~]{43,128}$/;

/**
 * RFC 7636 §4.3: a missing method means `plain`. Public and SPA clients cannot keep a secret, so for
 * them PKCE is what binds the code to the client that asked for it: required, and only S256
 * (RFC 9700 §2.1.1).
 */
function checkPkce(
  raw: RawParameters,
  kind: RedirectKind,
  app: Application,
): { codeChallenge?: string; codeChallengeMethod?: 'S256' | 'plain' } {
  const isPublic = kind !== 'web' || app.isFallbackPublicClient;
  const challenge = raw.code_challenge;
  const method = raw.code_challenge_method ?? (challenge ? 'plain' : undefined);
  if (!challenge) {
    if (isPublic) throw interactiveError(9002325);
    if (method !== undefined) throw interactiveError(900144, { name: 'code_challenge' });
    return {};
  }
  if (method !== 'S256' && method !== 'plain')
    throw interactiveError(90023, { name: 'code_challenge_method', value: method ?? '' });
  if (isPublic && method !== 'S256') throw interactiveError(9002325);
  if (!CHALLENGE.test(challenge)) throw interactiveError(90023, { name: 'code_challenge', value: challenge });
  return { codeChallenge: challenge, codeChallengeMethod: method };
}
