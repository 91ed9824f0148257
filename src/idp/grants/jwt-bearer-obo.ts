import type { Application } from '../../directory/model.ts';
import { consentedScopes } from '../consent.ts';
import { entraError } from '../errors/entra-error.ts';
import { checkOwnToken, isAppOnlyToken, isIdToken } from '../own-tokens.ts';
import { resolveScopes } from '../scopes.ts';
import type { Grant, GrantDeps, GrantRequest } from './grant.ts';
import { clientIdentity, defaultScopeOf, requireParam } from './grant.ts';

/**
 * On-behalf-of (ED:v2-oauth2-on-behalf-of-flow.md; entra-protocol.md §4), as a pipeline of checks:
 * the assertion is a valid, unexpired access token of this tenant (AADSTS50013 / 500133), not an ID
 * token (AADSTS240002), issued to a user (app-only assertions: AADSTS7000114), whose audience is the
 * calling app by appId or identifier URI (AADSTS500131); the requested delegated scopes of ONE
 * downstream resource must be granted to the caller for that user, else AADSTS65001 consent_required.
 * The new token carries the same user and only delegated scopes (roles are the user's, never the app's).
 */
export const onBehalfOfGrant: Grant = {
  needsTenant: true,
  async handle(request, deps) {
    const { form, tenant, client } = request;
    const use = requireParam(form, 'requested_token_use');
    if (use !== 'on_behalf_of') throw entraError(50085, { value: use });
    const assertion = requireParam(form, 'assertion');
    const claims = await checkAssertion(assertion, request, deps);
    const userId = String(claims['oid'] ?? '');
    const user = await deps.directory.getUser(tenant.id, userId);
    if (!user)
      throw entraError(50034, {
        upn: String(claims['upn'] ?? claims['preferred_username'] ?? userId),
        tenant: tenant.id,
      });
    if (!user.accountEnabled) throw entraError(50057);

    const scope = oboScope(request);
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
      authTime: typeof claims['iat'] === 'number' ? claims['iat'] : Math.floor(deps.clock.now() / 1000),
      authMethods: Array.isArray(claims['amr']) ? (claims['amr'] as string[]) : ['pwd'],
      wantClientInfo: false,
      withIdToken: false,
    });
  },
};

async function checkAssertion(assertion: string, request: GrantRequest, deps: GrantDeps) {
  const checked = await checkOwnToken(deps, assertion, { tenantId: request.tenant.id });
  if (!checked.ok) {
    if (checked.failure === 'expired' || checked.failure === 'not_yet_valid') {
      throw entraError(500133, {
        now: new Date(deps.clock.now()).toISOString(),
        exp: 'the assertion expiry',
      });
    }
    const reasons: Record<string, string> = {
      malformed: 'The token is malformed.',
      signature: 'The key was not found.',
      issuer: 'The issuer is not valid.',
      tenant: 'The token was issued for another tenant.',
    };
    throw entraError(50013, { reason: reasons[checked.failure] ?? 'The token is not valid.' });
  }
  const { claims } = checked;
  if (isIdToken(claims)) throw entraError(240002);
  if (isAppOnlyToken(claims)) throw entraError(7000114, { appId: request.client.app.appId });
  const audience = String(claims['aud'] ?? '');
  if (!isAudienceOf(request.client.app, audience)) {
    throw entraError(500131, {
      audience,
      appId: request.client.app.appId,
      name: request.client.app.displayName,
    });
  }
  return claims;
}

/** The middle tier by appId (any case) or one of its identifier URIs (exact, UNCONFIRMED case rule §4.1). */
function isAudienceOf(app: Application, audience: string): boolean {
  return audience.toLowerCase() === app.appId.toLowerCase() || app.identifierUris.includes(audience);
}

/** v2 `scope` (msal adds `openid profile offline_access`); v1 `resource` (its static permissions). */
function oboScope(request: GrantRequest): string {
  const { form } = request;
  if (request.endpoint === 2) {
    if (form['resource'] !== undefined) throw entraError(901002);
    return requireParam(form, 'scope');
  }
  return `${defaultScopeOf(requireParam(form, 'resource'))} offline_access`;
}
