import { EntraError, entraError } from '../errors/entra-error.ts';
import { resolveScopes } from '../scopes.ts';
import { DEVICE_CODE_INTERVAL_SECONDS, DEVICE_CODE_LIFETIME_SECONDS } from '../session/device-codes.ts';
import { isMultiTenantSegment } from '../urls.ts';
import type { InteractiveDeps } from './authorize-deps.ts';
import { DEVICE_LOGIN_PATH } from './device-verification.ts';

/**
 * `POST /{tenant}/oauth2/v2.0/devicecode` and `/{tenant}/oauth2/devicecode` (entra-protocol.md §1.8;
 * RFC 8628 §3.1-3.2): `client_id` + `scope` (v2) or `resource` (v1) → `device_code`, `user_code`,
 * `verification_uri`, `expires_in`, `interval`, `message`. Like Entra, no `verification_uri_complete`;
 * the v1 endpoint names the page `verification_url` (what ADAL reads). Errors are token-endpoint
 * shaped (JSON, AADSTS code and trace trailer), because the same clients parse them.
 */
export interface JsonAnswer {
  readonly status: number;
  readonly headers: Record<string, string>;
  readonly body: Record<string, unknown>;
}

const HEADERS = { 'cache-control': 'no-store, no-cache', pragma: 'no-cache' };

export async function deviceAuthorization(
  deps: InteractiveDeps,
  endpoint: 1 | 2,
  segment: string,
  form: Readonly<Record<string, string | undefined>>,
  ids: { traceId: string; correlationId: string },
  baseUrl: string,
): Promise<JsonAnswer> {
  try {
    // The user code is typed into one tenant's sign-in: /common and /organizations cannot say which.
    if (isMultiTenantSegment(segment)) throw entraError(9001023);
    const tenant = await deps.directory.getTenant(segment);
    if (!tenant) throw entraError(90002, { tenant: segment });
    const clientId = form.client_id;
    if (!clientId) throw entraError(900144, { name: 'client_id' });
    const app = /^[0-9a-f-]{36}$/i.test(clientId)
      ? await deps.directory.getApplicationByAppId(clientId)
      : undefined;
    if (!app || (app.tenantId !== tenant.id && app.signInAudience === 'AzureADMyOrg'))
      throw entraError(700016, { appId: clientId, tenant: segment });
    let scope: string;
    if (endpoint === 2) {
      if (form.resource !== undefined) throw entraError(901002);
      scope = form.scope?.trim() ?? '';
      if (scope === '') throw entraError(900144, { name: 'scope' });
    } else {
      const resource = form.resource;
      if (!resource) throw entraError(900144, { name: 'resource' });
      scope = `${resource}/.default offline_access openid`;
    }
    // Unknown resources and scopes fail now, not after the user has signed in.
    await resolveScopes(deps.directory, tenant.id, scope, { clientAppId: app.appId });
    const { deviceCode, userCode } = await deps.deviceCodes.start({
      tenantId: tenant.id,
      clientId: app.appId,
      endpoint,
      scope,
    });
    const page = `${baseUrl}${DEVICE_LOGIN_PATH}`;
    const message = `To sign in, use a web browser to open the page ${page} and enter the code ${userCode} to authenticate.`;
    return {
      status: 200,
      headers: HEADERS,
      body: {
        user_code: userCode,
        device_code: deviceCode,
        [endpoint === 2 ? 'verification_uri' : 'verification_url']: page,
        expires_in: DEVICE_CODE_LIFETIME_SECONDS,
        interval: DEVICE_CODE_INTERVAL_SECONDS,
        message,
      },
    };
  } catch (error) {
    if (!(error instanceof EntraError)) throw error;
    error.withContext({ ...ids, now: deps.clock.now() });
    return { status: error.status, headers: { ...HEADERS, ...error.headers() }, body: error.body() };
  }
}
