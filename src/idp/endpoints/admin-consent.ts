import type { Application, Tenant } from '../../directory/model.ts';
import { entraTimestamp } from '../errors/entra-error.ts';
import { consentPage } from '../pages/consent.ts';
import type { SsoSession } from '../session/sso-session.ts';
import type { RequestedAccess } from './authorize-consent.ts';
import type { BrowserContext, InteractiveDeps } from './authorize-deps.ts';
import { csrfCookieOf } from './authorize-deps.ts';
import { InteractiveError, interactiveError } from './authorize-errors.ts';
import type { AuthorizeRequest } from './authorize-request.ts';
import { matchRedirectUri } from './authorize-request.ts';
import { deliver, deliverError } from './authorize-response.ts';
import type { InteractiveResponse } from './authorize-response.ts';
import type { AuthorizeInteraction } from './authorize.ts';
import { consentView, continueAuthorization, pageError, tenantAndClient, withCookies } from './authorize.ts';

/**
 * The admin consent endpoint (entra-protocol.md §1.10; ED:v2-admin-consent.md): v2
 * `/{tenant}/v2.0/adminconsent?client_id&scope&redirect_uri&state` and the v1-style
 * `/{tenant}/adminconsent?client_id&redirect_uri&state`. An administrator signs in, sees every permission
 * asked (delegated and application), and accepting records AllPrincipals grants plus app role
 * assignments for the whole tenant; the client gets `admin_consent=True&tenant=…&scope=…&state=…`.
 * It runs on the authorize flow's interaction with `prompt=admin_consent` and its own completion.
 */
export async function startAdminConsent(
  deps: InteractiveDeps,
  version: 'v1' | 'v2',
  segment: string,
  browser: BrowserContext,
): Promise<InteractiveResponse> {
  const params = browser.params;
  let tenant: Tenant | undefined;
  let app: Application;
  let redirect: ReturnType<typeof matchRedirectUri>;
  try {
    ({ tenant, app } = await tenantAndClient(deps, segment, params.client_id));
    redirect = matchRedirectUri(app, params.redirect_uri);
  } catch (error) {
    if (error instanceof InteractiveError) return pageError(error, browser, deps, tenant);
    throw error;
  }
  const scope = params.scope?.trim();
  if (version === 'v2' && !scope)
    return deliverError(
      { redirectUri: redirect.redirectUri, responseMode: 'query', state: params.state },
      interactiveError(900144, { name: 'scope' }),
      {
        traceId: browser.correlationId,
        correlationId: browser.correlationId,
        timestamp: entraTimestamp(deps.clock.now()),
      },
    );
  // v1 has no scope: the app's static permissions on every resource it lists (`.default` of each).
  const scopes = scope
    ? scope.split(/\s+/)
    : app.requiredResourceAccess.map((r) => `${r.resourceAppId}/.default`);
  const request: AuthorizeRequest = {
    version: 'v2',
    clientId: app.appId,
    redirectUri: redirect.redirectUri,
    redirectKind: redirect.redirectKind,
    responseType: 'code',
    responseMode: 'query',
    scopes,
    prompt: 'admin_consent',
    completion: { kind: 'admin-consent' },
    ...(params.state !== undefined ? { state: params.state } : {}),
    ...(params.login_hint ? { loginHint: params.login_hint } : {}),
  };
  const csrf = csrfCookieOf(deps, browser);
  const interaction = await deps.interactions.start(tenant.id, csrf.value, request);
  const response = await continueAuthorization(deps, tenant, app, interaction, {
    ...browser,
    cookieHeader: csrf.setCookie
      ? `${browser.cookieHeader ?? ''}; ${csrf.setCookie.split(';')[0]}`
      : browser.cookieHeader,
  });
  return withCookies(response, csrf.setCookie ? [csrf.setCookie] : []);
}

/** The signed-in user's turn: only an administrator may answer; once accepted, back to the client. */
export async function adminConsentStep(
  deps: InteractiveDeps,
  tenant: Tenant,
  app: Application,
  interaction: AuthorizeInteraction,
  session: SsoSession,
  user: { id: string; displayName: string },
  requested: readonly RequestedAccess[],
  form: { formTargets: string[]; csrfToken: string; interaction: string; tenantName: string },
): Promise<InteractiveResponse> {
  if (!(await deps.administrators.isAdministrator(tenant.id, user.id))) throw interactiveError(90008);
  if (!interaction.consentAnswered) {
    await deps.interactions.save({ ...interaction, sessionHandle: session.handle });
    return {
      kind: 'page',
      page: consentPage({
        ...form,
        ...consentView(app, user.displayName, requested, true),
        organizationOnly: true,
        action: `/${tenant.id}/consent`,
      }),
    };
  }
  if (!(await deps.interactions.finish(interaction.id))) throw interactiveError(90101);
  return deliver(interaction.request, {
    admin_consent: 'True',
    tenant: tenant.id,
    scope: interaction.request.scopes.join(' '),
  });
}

/**
 * Cancel on the admin consent page: Entra's documented answer keeps `admin_consent=True` and reports
 * `consent_required` with AADSTS65004 (ED:v2-admin-consent.md, "Unsuccessful response").
 */
export function adminConsentDeclined(
  deps: InteractiveDeps,
  request: AuthorizeRequest,
  browser: BrowserContext,
): InteractiveResponse {
  const error = interactiveError(65004);
  const timestamp = entraTimestamp(deps.clock.now());
  return deliver(request, {
    admin_consent: 'True',
    error: 'consent_required',
    error_description: `AADSTS${error.code}: ${error.text}\r\nTrace ID: ${browser.correlationId}\r\nCorrelation ID: ${browser.correlationId}\r\nTimestamp: ${timestamp}`,
  });
}
