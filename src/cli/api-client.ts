import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { Agent, request } from 'undici';
import type { Dispatcher } from 'undici';

/**
 * The management-API client of the `behalf` directory commands: after `behalf login`, the signed-in
 * administrator's own token (`<dataDir>/login.json`, refreshed when expired); otherwise client credentials
 * of the built-in admin app (from `<dataDir>/admin-credential.json`, flags or BEHALF_* variables) at the
 * ordinary token endpoint. Graph-shaped calls go over HTTPS trusting the local CA in `<dataDir>/tls/ca.pem`.
 */
export interface ConnectionFlags {
  dataDir?: string;
  authority?: string;
  clientId?: string;
  clientSecret?: string;
  tenant?: string;
  json?: boolean;
}

/** A mistake in how the command was called or configured: exit code 2. */
export class UsageError extends Error {}

/** The API refused: exit code 1, Graph's code and message shown. */
export class ApiError extends Error {
  readonly status: number;
  readonly code: string;
  constructor(status: number, code: string, message: string) {
    super(message);
    this.status = status;
    this.code = code;
  }
}

interface Credential {
  origin: string;
  tenant: string;
  clientId: string;
  clientSecret: string;
}

function readCredential(flags: ConnectionFlags, env: NodeJS.ProcessEnv): Credential {
  const dataDir = resolve(flags.dataDir ?? env.BEHALF_DATA_DIR ?? './.behalf');
  const file = join(dataDir, 'admin-credential.json');
  let stored: Partial<Record<'authority' | 'tenantId' | 'clientId' | 'clientSecret', string>> = {};
  if (existsSync(file)) {
    try {
      stored = JSON.parse(readFileSync(file, 'utf8')) as typeof stored;
    } catch {
      throw new UsageError(`${file} is not valid JSON.`);
    }
  }
  const authority = flags.authority ?? env.BEHALF_AUTHORITY ?? stored.authority;
  const clientId = flags.clientId ?? env.BEHALF_CLIENT_ID ?? stored.clientId;
  const clientSecret = flags.clientSecret ?? env.BEHALF_CLIENT_SECRET ?? stored.clientSecret;
  if (!authority || !clientId || !clientSecret)
    throw new UsageError(
      `No administrator credential: start Behalf once (it writes ${file}), or pass --authority, --client-id and --client-secret (or BEHALF_AUTHORITY, BEHALF_CLIENT_ID, BEHALF_CLIENT_SECRET).`,
    );
  let url: URL;
  try {
    url = new URL(authority);
  } catch {
    throw new UsageError(`--authority '${authority}' is not a URL.`);
  }
  // Authority = https://host/{tenant} (an optional /v2.0 suffix is tolerated, as MSAL writes it).
  const [tenantSegment] = url.pathname.split('/').filter((s) => s !== '' && s !== 'v2.0');
  const tenant = flags.tenant ?? env.BEHALF_TENANT ?? tenantSegment ?? stored.tenantId;
  if (!tenant) throw new UsageError(`--authority '${authority}' names no tenant.`);
  return { origin: url.origin, tenant, clientId, clientSecret };
}

function dispatcherFor(flags: ConnectionFlags, env: NodeJS.ProcessEnv): Dispatcher | undefined {
  const dataDir = resolve(flags.dataDir ?? env.BEHALF_DATA_DIR ?? './.behalf');
  const caFile = join(dataDir, 'tls', 'ca.pem');
  return existsSync(caFile) ? new Agent({ connect: { ca: readFileSync(caFile, 'utf8') } }) : undefined;
}

export interface GraphClient {
  readonly tenant: string;
  call<T = Record<string, unknown>>(method: string, path: string, body?: unknown): Promise<T>;
  /** Follows @odata.nextLink to the end. */
  list<T = Record<string, unknown>>(path: string): Promise<T[]>;
  close(): Promise<void>;
}

interface SignedIn {
  file: string;
  authority: string;
  tenantId: string;
  clientId: string;
  accessToken: string;
  refreshToken?: string;
  /** Epoch seconds. */
  expiresOn: number;
}

/**
 * The sign-in `behalf login` stored, when it applies: not when flags or variables name another client
 * or another tenant (those ask for the administrator app explicitly).
 */
function readSignedIn(flags: ConnectionFlags, env: NodeJS.ProcessEnv): SignedIn | undefined {
  if (flags.clientId ?? env.BEHALF_CLIENT_ID) return undefined;
  const file = join(resolve(flags.dataDir ?? env.BEHALF_DATA_DIR ?? './.behalf'), 'login.json');
  if (!existsSync(file)) return undefined;
  let stored: Partial<SignedIn>;
  try {
    stored = JSON.parse(readFileSync(file, 'utf8')) as Partial<SignedIn>;
  } catch {
    throw new UsageError(`${file} is not valid JSON: run \`behalf login\` again.`);
  }
  const { authority, tenantId, clientId, accessToken, expiresOn } = stored;
  if (!authority || !tenantId || !clientId || !accessToken || typeof expiresOn !== 'number') return undefined;
  const tenant = flags.tenant ?? env.BEHALF_TENANT;
  if (tenant !== undefined && tenant !== tenantId) return undefined;
  return { ...stored, file, authority, tenantId, clientId, accessToken, expiresOn };
}

export function connect(flags: ConnectionFlags, env: NodeJS.ProcessEnv = process.env): GraphClient {
  const signedIn = readSignedIn(flags, env);
  const credential: Credential = signedIn
    ? {
        origin: new URL(signedIn.authority).origin,
        tenant: signedIn.tenantId,
        clientId: signedIn.clientId,
        clientSecret: '',
      }
    : readCredential(flags, env);
  const dispatcher = dispatcherFor(flags, env);
  let token: string | undefined;
  // A token this close to expiry is refreshed first, so it cannot lapse between here and the API.
  const EXPIRY_MARGIN_SECONDS = 60;

  async function send(method: string, url: string, headers: Record<string, string>, body?: string) {
    try {
      const response = await request(url, {
        method: method as 'GET',
        headers,
        ...(body !== undefined ? { body } : {}),
        ...(dispatcher ? { dispatcher } : {}),
      });
      const text = await response.body.text();
      return { status: response.statusCode, text };
    } catch (error) {
      throw new ApiError(
        0,
        'ConnectionFailed',
        `Cannot reach ${new URL(url).origin}: ${(error as Error).message}`,
      );
    }
  }

  async function accessToken(): Promise<string> {
    if (token) return token;
    if (signedIn && signedIn.expiresOn - EXPIRY_MARGIN_SECONDS > Date.now() / 1000)
      return (token = signedIn.accessToken);
    if (signedIn && !signedIn.refreshToken)
      throw new UsageError('Your sign-in has expired: run `behalf login` again.');
    const form = new URLSearchParams(
      signedIn
        ? {
            grant_type: 'refresh_token',
            client_id: signedIn.clientId,
            refresh_token: signedIn.refreshToken ?? '',
          }
        : {
            grant_type: 'client_credentials',
            client_id: credential.clientId,
            client_secret: credential.clientSecret,
            scope: 'https://graph.microsoft.com/.default',
          },
    );
    const { status, text } = await send(
      'POST',
      `${credential.origin}/${encodeURIComponent(credential.tenant)}/oauth2/v2.0/token`,
      { 'content-type': 'application/x-www-form-urlencoded' },
      form.toString(),
    );
    const parsed = safeJson(text) as { access_token?: string; error?: string; error_description?: string };
    if (status !== 200 || !parsed.access_token)
      throw new ApiError(
        status,
        parsed.error ?? 'token_error',
        (parsed.error_description ?? text).split('\r\n')[0]!,
      );
    token = parsed.access_token;
    if (signedIn)
      rememberRefreshed(
        signedIn,
        parsed as { access_token: string; refresh_token?: string; expires_in?: number | string },
      );
    return token;
  }

  async function call<T>(method: string, path: string, body?: unknown): Promise<T> {
    const url = path.startsWith('https://') ? path : `${credential.origin}/v1.0${path}`;
    const headers: Record<string, string> = { authorization: `Bearer ${await accessToken()}` };
    if (body !== undefined) headers['content-type'] = 'application/json';
    const { status, text } = await send(
      method,
      url,
      headers,
      body === undefined ? undefined : JSON.stringify(body),
    );
    const parsed = text === '' ? {} : safeJson(text);
    if (status >= 400) {
      const error = (parsed as { error?: { code?: string; message?: string } }).error;
      throw new ApiError(status, error?.code ?? String(status), error?.message ?? text.slice(0, 200));
    }
    return parsed as T;
  }

  async function list<T>(path: string): Promise<T[]> {
    const out: T[] = [];
    let next: string | undefined = path;
    while (next) {
      const page: { value?: T[]; '@odata.nextLink'?: string } = await call('GET', next);
      out.push(...(page.value ?? []));
      next = page['@odata.nextLink'];
    }
    return out;
  }

  return { tenant: credential.tenant, call, list, close: async () => dispatcher?.close() };
}

function safeJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return { error: { code: 'InvalidResponse', message: text.slice(0, 200) } };
  }
}

/** Refresh tokens rotate: the new pair replaces the old one at once, or the next command would be refused. */
function rememberRefreshed(
  signedIn: SignedIn,
  response: { access_token: string; refresh_token?: string; expires_in?: number | string },
): void {
  const { file, ...stored } = signedIn;
  const updated = {
    ...stored,
    accessToken: response.access_token,
    ...(response.refresh_token ? { refreshToken: response.refresh_token } : {}),
    expiresOn: Math.floor(Date.now() / 1000) + Number(response.expires_in ?? 3600),
  };
  writeFileSync(file, JSON.stringify(updated, null, 2) + '\n', { mode: 0o600 });
}
