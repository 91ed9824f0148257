import { consentedScopes } from '../consent.ts';
import { entraError } from '../errors/entra-error.ts';
import { resolveScopes } from '../scopes.ts';
import type { StoredCode } from '../stores/authorization-codes.ts';
import type { Grant, GrantDeps, GrantRequest } from './grant.ts';
import { clientIdentity, requireParam, userScopeParameter } from './grant.ts';
import { pkceMatches } from './pkce.ts';

/**
 * Authorization-code redemption (ED:v2-oauth2-auth-code-flow.md; RFC 6749 §4.1.3), as named checks:
 * the code exists (AADSTS9002313), was issued to this client (AADSTS70000) in this tenant
 * (AADSTS700005) for this exact redirect URI (AADSTS50011), is unexpired (AADSTS70008), passes PKCE
 * (AADSTS501481), and is used once: a replay is AADSTS54005 and revokes the refresh-token family the
 * first redemption started (RFC 6749 §4.1.2, "SHOULD revoke … all tokens previously issued").
 */
export const authorizationCodeGrant: Grant = {
  needsTenant: false,
  async tenantHint(form, deps) {
    return form['code'] ? (await deps.codes.find(form['code']))?.code.tenantId : undefined;
  },
  async handle(request, deps) {
    const { form, client, tenant } = request;
    const code = requireParam(form, 'code');
    const redirectUri = requireParam(form, 'redirect_uri');
    const found = await deps.codes.find(code);
    if (!found) throw entraError(9002313);
    const stored = found.code;
    if (stored.redeemedAt !== undefined) {
      if (stored.familyId) await deps.refreshTokens.revokeFamily(stored.familyId);
      throw entraError(54005);
    }
    if (stored.clientId !== client.app.appId) throw entraError(70000, { name: 'code' });
    if (stored.tenantId !== tenant.id) throw entraError(700005);
    if (stored.redirectUri !== redirectUri) throw entraError(50011, { redirectUri, appId: client.app.appId });
    if (deps.clock.now() >= stored.expiresAt) throw entraError(70008);
    checkPkce(stored, form['code_verifier']);

    const scope = userScopeParameter(request, stored.scopes);
    return redeem(request, deps, stored, scope, found);
  },
};

function checkPkce(stored: StoredCode, verifier: string | undefined): void {
  if (stored.codeChallenge === undefined) return;
  if (verifier === undefined || verifier === '') throw entraError(900144, { name: 'code_verifier' });
  if (!pkceMatches(verifier, stored.codeChallenge, stored.codeChallengeMethod ?? 'plain'))
    throw entraError(501481);
}

async function redeem(
  request: GrantRequest,
  deps: GrantDeps,
  stored: StoredCode,
  scope: string,
  found: { id: string; version: number },
) {
  const { tenant, client, form } = request;
  const user = await deps.directory.getUser(tenant.id, stored.userId);
  if (!user) throw entraError(50034, { upn: stored.userId, tenant: tenant.id });
  if (!user.accountEnabled) throw entraError(50057);
  const resolved = await resolveScopes(deps.directory, tenant.id, scope, { clientAppId: client.app.appId });
  const scp = await consentedScopes(deps.directory, tenant.id, client.sp, resolved, user.id);
  // Claim the code before issuing: of two racing redemptions exactly one wins the compare-and-swap.
  const familyId = deps.random.uuid();
  if (!(await deps.codes.markRedeemed(found.id, found.version, stored, familyId))) throw entraError(54005);
  return deps.issuance.issueUserTokens({
    endpoint: request.endpoint,
    tenantId: tenant.id,
    client: clientIdentity(client),
    user,
    resolved,
    scp,
    requestedScope: scope,
    authTime: stored.authTime,
    authMethods: stored.authMethods ?? ['pwd'],
    wantClientInfo: form['client_info'] === '1',
    nonce: stored.nonce,
    sessionId: stored.sessionId,
    family: { id: familyId, isNew: true },
  });
}
