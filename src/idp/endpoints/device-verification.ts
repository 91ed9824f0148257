import type { Application, Tenant } from '../../directory/model.ts';
import { deviceCodePage, messagePage } from '../pages/device.ts';
import type { SsoSession } from '../session/sso-session.ts';
import type { BrowserContext, InteractiveDeps } from './authorize-deps.ts';
import { csrfCookieOf, csrfValid } from './authorize-deps.ts';
import { interactiveError } from './authorize-errors.ts';
import type { AuthorizeRequest } from './authorize-request.ts';
import type { InteractiveResponse } from './authorize-response.ts';
import type { AuthorizeInteraction } from './authorize.ts';
import { continueAuthorization, pageError, withCookies } from './authorize.ts';

/**
 * The device flow's verification page (RFC 8628 §3.3), at `/devicelogin` like Microsoft's
 * microsoft.com/devicelogin: the user types the code, then walks the authorize flow's sign-in, account
 * choice and consent steps. The account step is always shown (`prompt=select_account`): a code typed
 * from someone else's screen must never be approved silently by an existing session.
 *
 * Guessing codes is not practical: 9 characters of a 27-letter alphabet (≈ 7.6·10¹²) that live 15
 * minutes, behind a CSRF-checked form.
 */
export const DEVICE_LOGIN_PATH = '/devicelogin';

export function showDeviceCodeEntry(deps: InteractiveDeps, browser: BrowserContext): InteractiveResponse {
  const csrf = csrfCookieOf(deps, browser);
  const page = deviceCodePage({
    action: DEVICE_LOGIN_PATH,
    csrfToken: deps.csrf.tokenFor(csrf.value),
    tenantName: '',
  });
  return withCookies({ kind: 'page', page }, csrf.setCookie ? [csrf.setCookie] : []);
}

export async function submitDeviceCode(
  deps: InteractiveDeps,
  browser: BrowserContext,
): Promise<InteractiveResponse> {
  if (!csrfValid(deps, browser)) return pageError(interactiveError(90100), browser, deps);
  const csrf = csrfCookieOf(deps, browser);
  const found = await deps.deviceCodes.findByUserCode(browser.params.user_code ?? '');
  const tenant = found && (await deps.directory.getTenant(found.authorization.tenantId));
  const app = found && (await deps.directory.getApplicationByAppId(found.authorization.clientId));
  if (!found || !tenant || !app || found.authorization.status !== 'pending')
    return {
      kind: 'page',
      page: deviceCodePage({
        action: DEVICE_LOGIN_PATH,
        csrfToken: deps.csrf.tokenFor(csrf.value),
        tenantName: '',
        error: true,
      }),
    };
  const request: AuthorizeRequest = {
    version: 'v2',
    clientId: app.appId,
    redirectUri: '',
    redirectKind: 'publicClient',
    responseType: 'code',
    responseMode: 'query',
    scopes: found.authorization.scope.split(' ').filter((s) => s !== ''),
    prompt: 'select_account',
    completion: { kind: 'device', id: found.id },
  };
  const interaction = await deps.interactions.start(tenant.id, csrf.value, request);
  return continueAuthorization(deps, tenant, app, interaction, browser);
}

/** The last step: the device's next poll gets the tokens. */
export async function approveDevice(
  deps: InteractiveDeps,
  tenant: Tenant,
  app: Application,
  interaction: AuthorizeInteraction,
  session: SsoSession,
  userId: string,
): Promise<InteractiveResponse> {
  const completion = interaction.request.completion;
  if (completion?.kind !== 'device' || !(await deps.interactions.finish(interaction.id)))
    throw interactiveError(90101);
  await deps.consent.ensureClient(tenant.id, app.appId);
  const approved = await deps.deviceCodes.answer(completion.id, {
    status: 'approved',
    userId,
    authTime: session.authTime,
    sessionId: session.handle,
  });
  deps.logger.info('device code answered', { tenantId: tenant.id, appId: app.appId, approved });
  const page = approved
    ? messagePage(
        'You’re signed in',
        `You have signed in to the ${app.displayName} application on your device. You may now close this window.`,
        tenant.displayName,
      )
    : messagePage('Code expired', 'That code has expired. Start again on your device.', tenant.displayName);
  return { kind: 'page', page };
}

/** Cancel on the consent page: the device's next poll learns authorization_declined. */
export async function declineDevice(
  deps: InteractiveDeps,
  tenant: Tenant,
  interaction: AuthorizeInteraction,
): Promise<InteractiveResponse> {
  const completion = interaction.request.completion;
  if (completion?.kind === 'device') await deps.deviceCodes.answer(completion.id, { status: 'declined' });
  return {
    kind: 'page',
    page: messagePage(
      'Sign-in cancelled',
      'You declined the sign-in. You may now close this window.',
      tenant.displayName,
    ),
  };
}
