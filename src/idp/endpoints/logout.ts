import type { Application, Tenant } from '../../directory/model.ts';
import { signedOutPage } from '../pages/account.ts';
import { isMultiTenantSegment } from '../urls.ts';
import type { BrowserContext, InteractiveDeps } from './authorize-deps.ts';
import type { InteractiveResponse } from './authorize-response.ts';

/**
 * `/{tenant}/oauth2/v2.0/logout` and `/{tenant}/oauth2/logout` (entra-protocol.md §1.9; OpenID Connect
 * RP-Initiated Logout 1.0 §2-3): ends every SSO session of this browser in the tenant, then goes back to
 * `post_logout_redirect_uri` only when it exactly matches a redirect URI (or the logout URL) registered
 * on the client named by `client_id` or by the `id_token_hint`'s audience; otherwise a signed-out page.
 * An unregistered URI is never followed: logout would otherwise be an open redirector.
 *
 * No CSRF token is required: relying parties send users here by plain links and redirects (the spec's
 * GET), and the worst a forged request achieves is signing the user out.
 */
function hintClaims(hint: string | undefined): { aud?: unknown; tid?: unknown } {
  const payload = hint?.split('.')[1];
  if (!payload || payload.length > 16_384) return {};
  try {
    const claims: unknown = JSON.parse(Buffer.from(payload, 'base64url').toString('utf8'));
    return claims && typeof claims === 'object' ? (claims as { aud?: unknown; tid?: unknown }) : {};
  } catch {
    return {};
  }
}

function registeredLogoutTargets(app: Application): Set<string> {
  return new Set([
    ...app.web.redirectUris,
    ...app.spa.redirectUris,
    ...app.publicClient.redirectUris,
    ...(app.web.logoutUrl ? [app.web.logoutUrl] : []),
  ]);
}

export async function logout(
  deps: InteractiveDeps,
  segment: string,
  browser: BrowserContext,
): Promise<InteractiveResponse> {
  const params = browser.params;
  // The hint is only used to find the client and tenant; its audience must still have the URI registered.
  const hint = hintClaims(params.id_token_hint);
  let tenant: Tenant | undefined;
  if (!isMultiTenantSegment(segment)) tenant = await deps.directory.getTenant(segment);
  else if (typeof hint.tid === 'string') tenant = await deps.directory.getTenant(hint.tid);

  const setCookies: string[] = [];
  if (tenant) {
    const current = await deps.sessions.read(tenant.id, browser.cookieHeader);
    setCookies.push(await deps.sessions.end(tenant.id, current));
    deps.logger.info('signed out', { tenantId: tenant.id, sessions: current.sessions.length });
  }

  const clientId = params.client_id ?? (typeof hint.aud === 'string' ? hint.aud : undefined);
  const target = params.post_logout_redirect_uri;
  if (tenant && clientId && target && /^[0-9a-f-]{36}$/i.test(clientId)) {
    const app = await deps.directory.getApplicationByAppId(clientId);
    const usable = app && (app.tenantId === tenant.id || app.signInAudience !== 'AzureADMyOrg');
    if (usable && registeredLogoutTargets(app).has(target)) {
      const url = new URL(target);
      if (params.state !== undefined) url.searchParams.set('state', params.state);
      return { kind: 'redirect', location: url.toString(), setCookies };
    }
  }
  return { kind: 'page', page: signedOutPage(tenant?.displayName), setCookies };
}
