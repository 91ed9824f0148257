import type { Application, Tenant } from '../../directory/model.ts';
import { signInPage } from '../pages/sign-in.ts';
import type { BrowserContext, InteractiveDeps } from './authorize-deps.ts';
import { csrfCookieOf, csrfValid } from './authorize-deps.ts';
import { InteractiveError, interactiveError } from './authorize-errors.ts';
import { requestedAccess, missingAccess } from './authorize-consent.ts';
import type { AuthorizeInteraction } from './authorize.ts';
import { clientError, continueAuthorization, formTarget, pageError, withCookies } from './authorize.ts';
import type { InteractiveResponse } from './authorize-response.ts';
import { parseCookies } from '../session/cookies.ts';
import { CSRF_COOKIE } from '../session/csrf.ts';
import { checkPassword } from '../session/password-check.ts';
import { adminConsentDeclined } from './admin-consent.ts';
import { declineDevice } from './device-verification.ts';

/**
 * The form posts of the authorize flow: sign-in, account picker and consent. Each one first checks
 * the CSRF token and finds the pending interaction bound to this browser; anything else is an error
 * page, never a redirect.
 */
type Loaded = { tenant: Tenant; app: Application; interaction: AuthorizeInteraction };

async function load(deps: InteractiveDeps, tenantId: string, browser: BrowserContext): Promise<Loaded> {
  if (!csrfValid(deps, browser)) throw interactiveError(90100);
  const tenant = await deps.directory.getTenant(tenantId);
  if (!tenant || tenant.id !== tenantId) throw interactiveError(90002, { tenant: tenantId });
  const interaction = await deps.interactions.get<AuthorizeInteraction['request']>(
    browser.params.interaction ?? '',
    tenant.id,
    parseCookies(browser.cookieHeader).get(CSRF_COOKIE),
  );
  if (!interaction) throw interactiveError(90101);
  const app = await deps.directory.getApplicationByAppId(interaction.request.clientId);
  if (!app) throw interactiveError(700016, { appId: interaction.request.clientId, tenant: tenant.id });
  return { tenant, app, interaction };
}

async function guarded(
  deps: InteractiveDeps,
  tenantId: string,
  browser: BrowserContext,
  step: (loaded: Loaded) => Promise<InteractiveResponse>,
): Promise<InteractiveResponse> {
  let loaded: Loaded;
  try {
    loaded = await load(deps, tenantId, browser);
  } catch (error) {
    if (error instanceof InteractiveError) return pageError(error, browser, deps);
    throw error;
  }
  return step(loaded);
}

export function submitSignIn(deps: InteractiveDeps, tenantId: string, browser: BrowserContext) {
  return guarded(deps, tenantId, browser, async ({ tenant, app, interaction }) => {
    const username = (browser.params.username ?? '').trim().slice(0, 256);
    const password = (browser.params.password ?? '').slice(0, 256);
    const again = (error: 'invalid' | 'locked'): InteractiveResponse => ({
      kind: 'page',
      page: signInPage({
        action: `/${tenant.id}/login`,
        csrfToken: deps.csrf.tokenFor(csrfCookieOf(deps, browser).value),
        interaction: interaction.id,
        tenantName: tenant.displayName,
        clientName: app.displayName,
        formTargets: [formTarget(interaction.request.redirectUri)],
        username,
        error,
      }),
    });
    const checked = await checkPassword(deps, tenant.id, username, password);
    if (!checked.ok) {
      deps.logger.info('sign-in failed', { tenantId: tenant.id, locked: checked.reason === 'locked' });
      return again(checked.reason);
    }
    const user = checked.user;
    const current = await deps.sessions.read(tenant.id, browser.cookieHeader);
    const { session, setCookie } = await deps.sessions.create(tenant.id, user.id, current);
    const next = {
      ...interaction,
      sessionHandle: session.handle,
      freshLogin: true,
      accountChosen: true,
      wantsOtherAccount: false,
    };
    await deps.interactions.save(next);
    const cookieHeader = `${browser.cookieHeader ?? ''}; ${setCookie.split(';')[0]}`;
    const response = await continueAuthorization(deps, tenant, app, next, { ...browser, cookieHeader });
    return withCookies(response, [setCookie]);
  });
}

export function submitAccountChoice(deps: InteractiveDeps, tenantId: string, browser: BrowserContext) {
  return guarded(deps, tenantId, browser, async ({ tenant, app, interaction }) => {
    const account = browser.params.account ?? '';
    if (account === 'other') {
      const next = { ...interaction, wantsOtherAccount: true };
      await deps.interactions.save(next);
      return continueAuthorization(deps, tenant, app, next, browser);
    }
    const sessions = await deps.sessions.read(tenant.id, browser.cookieHeader);
    if (!sessions.sessions.some((s) => s.handle === account))
      return pageError(interactiveError(90101), browser, deps, tenant);
    const next = { ...interaction, sessionHandle: account, accountChosen: true };
    await deps.interactions.save(next);
    return continueAuthorization(deps, tenant, app, next, browser);
  });
}

export function submitConsent(deps: InteractiveDeps, tenantId: string, browser: BrowserContext) {
  return guarded(deps, tenantId, browser, async ({ tenant, app, interaction }) => {
    const request = interaction.request;
    if (browser.params.decision !== 'accept') {
      await deps.interactions.finish(interaction.id);
      if (request.completion?.kind === 'device') return declineDevice(deps, tenant, interaction);
      if (request.completion?.kind === 'admin-consent') return adminConsentDeclined(deps, request, browser);
      // The user said no: the client learns access_denied (AADSTS65004), as Entra answers.
      return clientError(interactiveError(65004), request, browser, deps);
    }
    const sessions = await deps.sessions.read(tenant.id, browser.cookieHeader);
    const session = sessions.sessions.find((s) => s.handle === interaction.sessionHandle);
    if (!session) return pageError(interactiveError(90101), browser, deps, tenant);
    const organization = browser.params.organization === 'true' || request.prompt === 'admin_consent';
    const isAdmin = await deps.administrators.isAdministrator(tenant.id, session.userId);
    if (organization && !isAdmin) return pageError(interactiveError(90008), browser, deps, tenant);
    try {
      const clientSp = await deps.consent.ensureClient(tenant.id, app.appId);
      const requested = await requestedAccess(deps.directory, tenant.id, app, request);
      const access = organization
        ? requested
        : await missingAccess(deps.directory, tenant.id, clientSp, requested, session.userId);
      const needsAdmin = access.some((a) => a.scopes.some((s) => s.type === 'Admin'));
      if (needsAdmin && !isAdmin) throw interactiveError(90094, { name: app.displayName });
      await deps.consent.record(
        tenant.id,
        clientSp,
        access.map((a) => (organization ? a : { ...a, roles: [] })),
        organization ? { kind: 'organization' } : { kind: 'user', userId: session.userId },
      );
    } catch (error) {
      if (!(error instanceof InteractiveError)) throw error;
      if (error.isPageOnly) return pageError(error, browser, deps, tenant);
      return clientError(error, request, browser, deps);
    }
    deps.logger.info('consent recorded', { tenantId: tenant.id, appId: app.appId, organization });
    const next = { ...interaction, consentAnswered: true };
    await deps.interactions.save(next);
    return continueAuthorization(deps, tenant, app, next, browser);
  });
}
