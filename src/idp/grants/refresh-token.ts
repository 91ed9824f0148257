import { consentedScopes } from '../consent.ts';
import { entraError } from '../errors/entra-error.ts';
import { resolveScopes } from '../scopes.ts';
import type { Grant } from './grant.ts';
import { clientIdentity, requireParam, userScopeParameter } from './grant.ts';

/**
 * `refresh_token` with rotation and reuse detection: every use returns a new refresh token of the same
 * family; an old one used again after a short grace window (concurrent clients) revokes the family
 * (AADSTS50173). Unknown tokens are AADSTS9002313, expired AADSTS700082, another client's AADSTS70000.
 * The scope may differ from the original (any resource the client has consent for, §2.3); consent is
 * checked again, so a revoked grant stops refreshes too.
 */
export const refreshTokenGrant: Grant = {
  needsTenant: false,
  async handle(request, deps) {
    const { form, client, tenant } = request;
    const used = await deps.refreshTokens.use(requireParam(form, 'refresh_token'));
    if (used.outcome === 'unknown') throw entraError(9002313);
    if (used.outcome === 'revoked' || used.outcome === 'reused') throw entraError(50173);
    if (used.outcome === 'expired') {
      throw entraError(700082, {
        issued: new Date(used.token.issuedAt).toISOString(),
        inactive: 'longer than the refresh token lifetime',
      });
    }
    const stored = used.token;
    if (stored.clientId !== client.app.appId) throw entraError(70000, { name: 'refresh_token' });
    if (stored.tenantId !== tenant.id) throw entraError(700005);
    const user = await deps.directory.getUser(tenant.id, stored.userId);
    if (!user || !user.accountEnabled) throw entraError(50057);

    const scope = userScopeParameter(request, stored.scopes);
    const resolved = await resolveScopes(deps.directory, tenant.id, scope, { clientAppId: client.app.appId });
    const scp = await consentedScopes(deps.directory, tenant.id, client.sp, resolved, user.id);
    // A refresh always continues the family, even if this request left out offline_access.
    const withRefresh = /\boffline_access\b/i.test(scope) ? scope : `${scope} offline_access`;
    const resolvedWithRefresh =
      withRefresh === scope ? resolved : { ...resolved, oidc: [...resolved.oidc, 'offline_access'] };
    return deps.issuance.issueUserTokens({
      endpoint: request.endpoint,
      tenantId: tenant.id,
      client: clientIdentity(client),
      user,
      resolved: resolvedWithRefresh,
      scp,
      requestedScope: stored.scopes,
      authTime: stored.authTime,
      authMethods: stored.authMethods,
      wantClientInfo: form['client_info'] === '1',
      sessionId: stored.sessionId,
      family: { id: stored.familyId, isNew: false },
    });
  },
};
