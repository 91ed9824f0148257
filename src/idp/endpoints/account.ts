import type { Tenant } from '../../directory/model.ts';
import { accountPage } from '../pages/account.ts';
import { signInPage } from '../pages/sign-in.ts';
import { checkPassword } from '../session/password-check.ts';
import { isMultiTenantSegment } from '../urls.ts';
import type { BrowserContext, InteractiveDeps } from './authorize-deps.ts';
import { csrfCookieOf, csrfValid } from './authorize-deps.ts';
import { InteractiveError, interactiveError } from './authorize-errors.ts';
import type { InteractiveResponse } from './authorize-response.ts';
import { pageError, withCookies } from './authorize.ts';

/**
 * `/{tenant}/account`: a page of Behalf's own (no client application, no code): shows who is signed
 * in to the tenant in this browser, or a sign-in form that starts the SSO session. Signing in here is
 * the same password check, lockout and session as the authorize flow's.
 */
async function tenantOf(deps: InteractiveDeps, segment: string): Promise<Tenant> {
  if (isMultiTenantSegment(segment)) throw interactiveError(90019);
  const tenant = await deps.directory.getTenant(segment);
  if (!tenant) throw interactiveError(90002, { tenant: segment });
  return tenant;
}

export const accountPath = (tenantId: string) => `/${tenantId}/account`;

export async function showAccount(
  deps: InteractiveDeps,
  segment: string,
  browser: BrowserContext,
): Promise<InteractiveResponse> {
  let tenant: Tenant;
  try {
    tenant = await tenantOf(deps, segment);
  } catch (error) {
    if (error instanceof InteractiveError) return pageError(error, browser, deps);
    throw error;
  }
  const csrf = csrfCookieOf(deps, browser);
  const csrfToken = deps.csrf.tokenFor(csrf.value);
  const { sessions } = await deps.sessions.read(tenant.id, browser.cookieHeader);
  const accounts = [];
  for (const session of sessions) {
    const user = await deps.directory.getUser(tenant.id, session.userId);
    if (user)
      accounts.push({ displayName: user.displayName, username: user.userPrincipalName, objectId: user.id });
  }
  const page =
    accounts.length > 0
      ? accountPage({
          tenantName: tenant.displayName,
          accounts,
          signOut: { action: `/${tenant.id}/oauth2/v2.0/logout`, csrfToken },
        })
      : signInPage({
          action: `${accountPath(tenant.id)}/login`,
          csrfToken,
          interaction: '',
          tenantName: tenant.displayName,
          clientName: 'My account',
          ...(browser.params.login_hint ? { username: browser.params.login_hint } : {}),
        });
  return withCookies({ kind: 'page', page }, csrf.setCookie ? [csrf.setCookie] : []);
}

export async function submitAccountSignIn(
  deps: InteractiveDeps,
  segment: string,
  browser: BrowserContext,
): Promise<InteractiveResponse> {
  let tenant: Tenant;
  try {
    if (!csrfValid(deps, browser)) throw interactiveError(90100);
    tenant = await tenantOf(deps, segment);
    if (tenant.id !== segment) throw interactiveError(90002, { tenant: segment });
  } catch (error) {
    if (error instanceof InteractiveError) return pageError(error, browser, deps);
    throw error;
  }
  const username = (browser.params.username ?? '').trim().slice(0, 256);
  const password = (browser.params.password ?? '').slice(0, 256);
  const checked = await checkPassword(deps, tenant.id, username, password);
  if (!checked.ok) {
    deps.logger.info('sign-in failed', { tenantId: tenant.id, locked: checked.reason === 'locked' });
    return {
      kind: 'page',
      page: signInPage({
        action: `${accountPath(tenant.id)}/login`,
        csrfToken: deps.csrf.tokenFor(csrfCookieOf(deps, browser).value),
        interaction: '',
        tenantName: tenant.displayName,
        clientName: 'My account',
        username,
        error: checked.reason,
      }),
    };
  }
  const current = await deps.sessions.read(tenant.id, browser.cookieHeader);
  const { setCookie } = await deps.sessions.create(tenant.id, checked.user.id, current);
  // Post/redirect/get: reloading the account page never re-posts the password.
  return { kind: 'redirect', location: accountPath(tenant.id), setCookies: [setCookie] };
}
