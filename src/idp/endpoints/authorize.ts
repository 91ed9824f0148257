import { entraTimestamp } from '../errors/entra-error.ts';
import type { Application, Tenant } from '../../directory/model.ts';
import { accountPickerPage } from '../pages/account-picker.ts';
import { consentPage } from '../pages/consent.ts';
import { errorPage } from '../pages/error.ts';
import { signInPage } from '../pages/sign-in.ts';
import type { Interaction } from '../session/interactions.ts';
import type { SsoSession } from '../session/sso-session.ts';
import { isMultiTenantSegment } from '../urls.ts';
import { requestedAccess, missingAccess } from './authorize-consent.ts';
import type { RequestedAccess } from './authorize-consent.ts';
import type { BrowserContext, InteractiveDeps } from './authorize-deps.ts';
import { csrfCookieOf } from './authorize-deps.ts';
import { InteractiveError, interactiveError } from './authorize-errors.ts';
import type { AuthorizeRequest } from './authorize-request.ts';
import { matchRedirectUri, parseAuthorizeRequest } from './authorize-request.ts';
import { deliver, deliverError } from './authorize-response.ts';
import { adminConsentStep } from './admin-consent.ts';
import { approveDevice } from './device-verification.ts';
import { isSelfRegistered } from '../self-registered-apps.ts';
import type { InteractiveResponse } from './authorize-response.ts';

/**
 * `/{tenant}/oauth2/v2.0/authorize` and `/{tenant}/oauth2/authorize`: validate, then walk the user
 * through sign-in, account choice and consent until a code can be issued. Each step is re-entered
 * from the pending interaction after a form post, so the decision logic lives in one place
 * (`continueAuthorization`).
 */
export type AuthorizeInteraction = Interaction<AuthorizeRequest>;

export function pageError(
  error: InteractiveError,
  browser: BrowserContext,
  deps: InteractiveDeps,
  tenant?: Tenant,
): InteractiveResponse {
  return {
    kind: 'page',
    page: errorPage({
      code: error.code,
      message: error.text,
      correlationId: browser.correlationId,
      timestamp: entraTimestamp(deps.clock.now()),
      ...(tenant ? { tenantName: tenant.displayName } : {}),
    }),
  };
}

export function clientError(
  error: InteractiveError,
  request: AuthorizeRequest,
  browser: BrowserContext,
  deps: InteractiveDeps,
): InteractiveResponse {
  return deliverError(request, error, {
    traceId: browser.correlationId,
    correlationId: browser.correlationId,
    timestamp: entraTimestamp(deps.clock.now()),
  });
}

/** Resolves the tenant and client; both failures are pages (nothing is verified to redirect to). */
export async function tenantAndClient(
  deps: InteractiveDeps,
  segment: string,
  clientId: string | undefined,
): Promise<{ tenant: Tenant; app: Application }> {
  // Behalf signs users into a named tenant; /common and /organizations would need home-realm discovery.
  if (isMultiTenantSegment(segment)) throw interactiveError(90019);
  const tenant = await deps.directory.getTenant(segment);
  if (!tenant) throw interactiveError(90002, { tenant: segment });
  if (!clientId) throw new InteractiveError(900144, { name: 'client_id' });
  const app = /^[0-9a-f-]{36}$/i.test(clientId)
    ? await deps.directory.getApplicationByAppId(clientId)
    : undefined;
  const usable = app && (app.tenantId === tenant.id || app.signInAudience !== 'AzureADMyOrg');
  if (!app || !usable) throw interactiveError(700016, { appId: clientId, tenant: segment });
  return { tenant, app };
}

export async function startAuthorization(
  deps: InteractiveDeps,
  version: 'v1' | 'v2',
  segment: string,
  browser: BrowserContext,
): Promise<InteractiveResponse> {
  let tenant: Tenant | undefined;
  let request: AuthorizeRequest;
  let app: Application;
  try {
    ({ tenant, app } = await tenantAndClient(deps, segment, browser.params.client_id));
    const redirect = matchRedirectUri(app, browser.params.redirect_uri);
    try {
      request = parseAuthorizeRequest(version, browser.params, redirect, app);
      if (request.responseType !== 'code' && !deps.frontChannelIdToken)
        throw interactiveError(700054, { responseType: request.responseType });
    } catch (error) {
      if (!(error instanceof InteractiveError) || error.isPageOnly) throw error;
      // The redirect URI is verified: from here on errors go back to the client.
      return deliverError(
        {
          redirectUri: redirect.redirectUri,
          responseMode: responseModeFor(browser.params),
          state: browser.params.state,
        },
        error,
        {
          traceId: browser.correlationId,
          correlationId: browser.correlationId,
          timestamp: entraTimestamp(deps.clock.now()),
        },
      );
    }
  } catch (error) {
    if (error instanceof InteractiveError) return pageError(error, browser, deps, tenant);
    throw error;
  }
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

/** A response mode good enough to report a bad request (falls back to query when itself invalid). */
function responseModeFor(params: BrowserContext['params']): 'query' | 'fragment' | 'form_post' {
  const mode = params.response_mode;
  if (mode === 'fragment' || mode === 'form_post' || mode === 'query') return mode;
  return params.response_type?.includes('id_token') ? 'fragment' : 'query';
}

export function withCookies(response: InteractiveResponse, cookies: readonly string[]): InteractiveResponse {
  if (cookies.length === 0) return response;
  return { ...response, setCookies: [...cookies, ...(response.setCookies ?? [])] };
}

/** Which SSO session answers this request, or which page must be shown first. */
function chooseSession(
  request: AuthorizeRequest,
  interaction: AuthorizeInteraction,
  sessions: readonly SsoSession[],
  users: ReadonlyMap<string, string>,
  nowSeconds: number,
): SsoSession | 'sign-in' | 'pick' {
  if (interaction.sessionHandle) {
    const chosen = sessions.find((s) => s.handle === interaction.sessionHandle);
    if (chosen) return chosen;
  }
  if (interaction.wantsOtherAccount || sessions.length === 0) return 'sign-in';
  if (request.prompt === 'login' && !interaction.freshLogin) return 'sign-in';
  if (request.prompt === 'select_account' && !interaction.accountChosen) return 'pick';
  let candidates = sessions;
  if (request.loginHint) {
    const hint = request.loginHint.toLowerCase();
    candidates = sessions.filter((s) => users.get(s.userId)?.toLowerCase() === hint);
    if (candidates.length === 0) return 'sign-in';
  }
  if (candidates.length > 1) return 'pick';
  const session = candidates[0]!;
  if (request.maxAge !== undefined && nowSeconds - session.authTime > request.maxAge) return 'sign-in';
  return session;
}

export async function continueAuthorization(
  deps: InteractiveDeps,
  tenant: Tenant,
  app: Application,
  interaction: AuthorizeInteraction,
  browser: BrowserContext,
): Promise<InteractiveResponse> {
  const request = interaction.request;
  try {
    const csrf = csrfCookieOf(deps, browser);
    const form = {
      formTargets: [formTarget(request.redirectUri)],
      csrfToken: deps.csrf.tokenFor(csrf.value),
      interaction: interaction.id,
      tenantName: tenant.displayName,
    };
    const browserSessions = await deps.sessions.read(tenant.id, browser.cookieHeader);
    const users = new Map<string, string>();
    const names = new Map<string, string>();
    for (const s of browserSessions.sessions) {
      const user = await deps.directory.getUser(tenant.id, s.userId);
      if (user) {
        users.set(s.userId, user.userPrincipalName);
        names.set(s.userId, user.displayName);
      }
    }
    const live = browserSessions.sessions.filter((s) => users.has(s.userId));
    const choice = chooseSession(request, interaction, live, users, Math.floor(deps.clock.now() / 1000));

    if (choice === 'sign-in') {
      if (request.prompt === 'none') throw interactiveError(50058);
      return {
        kind: 'page',
        page: signInPage({
          ...form,
          action: `/${tenant.id}/login`,
          clientName: app.displayName,
          ...(request.loginHint ? { username: request.loginHint } : {}),
        }),
      };
    }
    if (choice === 'pick') {
      if (request.prompt === 'none') throw interactiveError(16000);
      return {
        kind: 'page',
        page: accountPickerPage({
          ...form,
          action: `/${tenant.id}/login/select`,
          accounts: live.map((s) => ({
            handle: s.handle,
            displayName: names.get(s.userId)!,
            username: users.get(s.userId)!,
          })),
        }),
      };
    }

    const session = choice;
    const user = (await deps.directory.getUser(tenant.id, session.userId))!;
    if (!user.accountEnabled) throw interactiveError(50057);
    const clientSp = await deps.directory.getServicePrincipalByAppId(tenant.id, app.appId);
    if (clientSp?.appRoleAssignmentRequired) {
      const assigned = await deps.directory.listAppRoleAssignments(tenant.id, user.id, clientSp.id);
      if (assigned.length === 0) throw interactiveError(50105, { name: app.displayName, appId: app.appId });
    }

    const requested = await requestedAccess(deps.directory, tenant.id, app, request);
    if (request.completion?.kind === 'admin-consent')
      return await adminConsentStep(deps, tenant, app, interaction, session, user, requested, form);
    const forceConsent =
      (request.prompt === 'consent' || request.prompt === 'admin_consent') && !interaction.consentAnswered;
    const missing = forceConsent
      ? requested
      : await missingAccess(deps.directory, tenant.id, clientSp, requested, user.id);
    const toAsk = missing.filter((a) => a.scopes.length > 0);
    if (toAsk.length > 0 && !interaction.consentAnswered) {
      if (request.prompt === 'none')
        throw interactiveError(65001, { appId: app.appId, name: app.displayName });
      const isAdmin = await deps.administrators.isAdministrator(tenant.id, user.id);
      const needsAdmin = toAsk.some((a) => a.scopes.some((s) => s.type === 'Admin'));
      if (needsAdmin && !isAdmin) throw interactiveError(90094, { name: app.displayName });
      await deps.interactions.save({ ...interaction, sessionHandle: session.handle });
      return {
        kind: 'page',
        page: consentPage({
          ...form,
          ...consentView(app, user.displayName, toAsk, isAdmin),
          action: `/${tenant.id}/consent`,
        }),
      };
    }

    if (request.completion?.kind === 'device')
      return await approveDevice(deps, tenant, app, interaction, session, user.id);
    return await issueCode(deps, tenant, app, interaction, session, user);
  } catch (error) {
    if (!(error instanceof InteractiveError)) throw error;
    if (error.isPageOnly) return pageError(error, browser, deps, tenant);
    await deps.interactions.finish(interaction.id);
    return clientError(error, request, browser, deps);
  }
}

/**
 * CSP form-action also governs the redirects that follow a form submission (CSP3 §6.2.1), and the
 * sign-in and consent posts end in a redirect to the client: its origin must be allowed.
 */
export function formTarget(redirectUri: string): string {
  // A device flow has no redirect URI: its forms stay on our own origin.
  if (redirectUri === '') return "'self'";
  const url = new URL(redirectUri);
  return url.protocol === 'http:' || url.protocol === 'https:' ? url.origin : url.protocol;
}

export function consentView(
  app: Application,
  userName: string,
  access: readonly RequestedAccess[],
  isAdmin: boolean,
) {
  return {
    clientName: app.displayName,
    // A self-registered client's publisherDomain is merely this tenant's: it vouches for nothing.
    publisher: isSelfRegistered(app) ? null : app.publisherDomain,
    userName,
    offerOrganization: isAdmin,
    permissions: access.flatMap((a) => [
      ...a.scopes.map((s) => ({
        resourceName: a.resource.sp.displayName,
        value: s.value,
        displayName:
          (isAdmin ? s.adminConsentDisplayName : s.userConsentDisplayName) ??
          s.adminConsentDisplayName ??
          s.value,
        description:
          (isAdmin ? s.adminConsentDescription : s.userConsentDescription) ?? s.adminConsentDescription ?? '',
      })),
      ...a.roles.map((r) => ({
        resourceName: a.resource.sp.displayName,
        value: r.value ?? r.id,
        displayName: r.displayName ?? r.value ?? r.id,
        description: r.description ?? '',
        application: true,
      })),
    ]),
  };
}

async function issueCode(
  deps: InteractiveDeps,
  tenant: Tenant,
  app: Application,
  interaction: AuthorizeInteraction,
  session: SsoSession,
  user: { id: string },
): Promise<InteractiveResponse> {
  const request = interaction.request;
  // Single use: a replayed form post for a finished interaction finds nothing.
  if (!(await deps.interactions.finish(interaction.id))) throw interactiveError(90101);
  // Entra creates the client's service principal when a user first signs in to it in a tenant, even
  // with nothing to consent to (openid only); the token endpoint needs it to redeem the code.
  await deps.consent.ensureClient(tenant.id, app.appId);
  const scopes =
    request.version === 'v2'
      ? request.scopes.join(' ')
      : // v1 carries the resource instead of scopes; the token service reads it as the static scope.
        ['openid', ...(request.resource ? [`${request.resource.replace(/\/$/, '')}/.default`] : [])].join(
          ' ',
        );
  const fields: Record<string, string> = {};
  if (request.responseType !== 'id_token') {
    fields.code = await deps.codes.issue({
      tenantId: tenant.id,
      clientId: app.appId,
      redirectUri: request.redirectUri,
      userId: user.id,
      scopes,
      codeChallenge: request.codeChallenge,
      codeChallengeMethod: request.codeChallengeMethod,
      nonce: request.nonce,
      authTime: session.authTime,
      sessionId: session.handle,
      authMethods: ['pwd'],
    });
  }
  if (request.responseType !== 'code' && deps.frontChannelIdToken) {
    const fullUser = (await deps.directory.getUser(tenant.id, user.id))!;
    fields.id_token = await deps.frontChannelIdToken({
      tenantId: tenant.id,
      client: app,
      user: fullUser,
      nonce: request.nonce!,
      authTime: session.authTime,
      sessionId: session.handle,
      version: request.version === 'v2' ? 2 : 1,
      ...(fields.code ? { code: fields.code } : {}),
    });
  }
  // v1 answers carry session_state (AZ1:v1-protocols-oauth-code.md).
  if (request.version === 'v1') fields.session_state = session.handle;
  return deliver(request, fields);
}
