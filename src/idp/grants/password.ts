import { consentedScopes } from '../consent.ts';
import { entraError } from '../errors/entra-error.ts';
import { resolveScopes } from '../scopes.ts';
import type { Grant } from './grant.ts';
import { clientIdentity, requireParam, userScopeParameter } from './grant.ts';

/**
 * Resource owner password credentials (ED:v2-oauth-ropc.md): still allowed by Entra for users without
 * MFA, and what tests and scripts use. Wrong password is AADSTS50126, unknown user AADSTS50034,
 * disabled account AADSTS50057; ungranted scopes AADSTS65001 (the user cannot consent here).
 */
export const passwordGrant: Grant = {
  needsTenant: false,
  async tenantHint(form, deps) {
    const domain = form['username']?.split('@')[1];
    return domain ? (await deps.directory.getTenant(domain))?.id : undefined;
  },
  async handle(request, deps) {
    const { form, tenant, client } = request;
    const username = requireParam(form, 'username');
    const password = requireParam(form, 'password');
    const scope = userScopeParameter(request);
    const user = await deps.directory.getUserByUpn(tenant.id, username);
    if (!user)
      throw entraError(50034, { upn: username, tenant: tenant.verifiedDomains[0]?.name ?? tenant.id });
    if (!(await deps.directory.verifyUserPassword(tenant.id, user.id, password))) throw entraError(50126);
    if (!user.accountEnabled) throw entraError(50057);
    const resolved = await resolveScopes(deps.directory, tenant.id, scope, { clientAppId: client.app.appId });
    const scp = await consentedScopes(deps.directory, tenant.id, client.sp, resolved, user.id);
    return deps.issuance.issueUserTokens({
      endpoint: request.endpoint,
      tenantId: tenant.id,
      client: clientIdentity(client),
      user,
      resolved,
      scp,
      requestedScope: scope,
      authTime: Math.floor(deps.clock.now() / 1000),
      authMethods: ['pwd'],
      wantClientInfo: form['client_info'] === '1',
    });
  },
};
