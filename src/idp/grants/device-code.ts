import { consentedScopes } from '../consent.ts';
import { entraError } from '../errors/entra-error.ts';
import { resolveScopes } from '../scopes.ts';
import type { DeviceCodes } from '../session/device-codes.ts';
import type { Grant } from './grant.ts';
import { clientIdentity, requireParam } from './grant.ts';

/**
 * The device authorization grant's token request (RFC 8628 §3.4-3.5; ED:v2-oauth2-device-code.md).
 * Registered under the URN and under the bare `device_code` that msal-node sends (entra-protocol.md
 * §1.8). Poll answers as Entra's: `authorization_pending` (AADSTS70016) until the user answers,
 * `authorization_declined` when they cancel, `expired_token` (AADSTS70019) after 15 minutes,
 * `bad_verification_code` (AADSTS70018) for a code Behalf never issued to this client.
 *
 * `slow_down` is deliberately never sent: Entra does not send it, and msal-node treats every error
 * other than authorization_pending as final, so a slow_down would end its sign-in.
 */
export function deviceCodeGrant(deviceCodes: DeviceCodes): Grant {
  return {
    needsTenant: false,
    async tenantHint(form) {
      const found = form['device_code'] ? await deviceCodes.findByDeviceCode(form['device_code']) : undefined;
      return found?.authorization.tenantId;
    },
    async handle(request, deps) {
      const { tenant, client, form } = request;
      const found = await deviceCodes.findByDeviceCode(requireParam(form, 'device_code'));
      const authorization = found?.authorization;
      if (
        !found ||
        !authorization ||
        authorization.clientId !== client.app.appId ||
        authorization.tenantId !== tenant.id
      )
        throw entraError(70018);
      if (deps.clock.now() >= authorization.expiresAt) throw entraError(70019);
      if (authorization.status === 'declined') throw entraError(65004);
      if (authorization.status === 'pending' || !authorization.userId) throw entraError(70016);

      const user = await deps.directory.getUser(tenant.id, authorization.userId);
      if (!user) throw entraError(50034, { upn: authorization.userId, tenant: tenant.id });
      if (!user.accountEnabled) throw entraError(50057);
      const resolved = await resolveScopes(deps.directory, tenant.id, authorization.scope, {
        clientAppId: client.app.appId,
      });
      const scp = await consentedScopes(deps.directory, tenant.id, client.sp, resolved, user.id);
      // Claim before issuing: a second poll racing this one finds nothing and cannot mint twice.
      if (!(await deviceCodes.redeem(found.id, found.version))) throw entraError(70018);
      return deps.issuance.issueUserTokens({
        endpoint: request.endpoint,
        tenantId: tenant.id,
        client: clientIdentity(client),
        user,
        resolved,
        scp,
        requestedScope: authorization.scope,
        authTime: authorization.authTime ?? Math.floor(deps.clock.now() / 1000),
        authMethods: ['pwd'],
        wantClientInfo: form['client_info'] === '1',
        sessionId: authorization.sessionId,
      });
    },
  };
}

/** The grant map entries (grants/index.ts keeps the built-in ones; these join through `extraGrants`). */
export function deviceCodeGrants(deviceCodes: DeviceCodes): Record<string, Grant> {
  const grant = deviceCodeGrant(deviceCodes);
  return { 'urn:ietf:params:oauth:grant-type:device_code': grant, device_code: grant };
}
