import { MICROSOFT_GRAPH_APP_ID, MICROSOFT_GRAPH_RESOURCE } from '../../directory/model.ts';
import { pairwiseSubject } from '../claims/subject.ts';
import type { IdpDirectory } from '../directory-port.ts';

/**
 * The OIDC UserInfo endpoint (OpenID Connect Core §5.3; ED:userinfo.md). Entra serves it on Graph
 * (`https://graph.microsoft.com/oidc/userinfo`), so it takes a delegated access token whose audience
 * is Microsoft Graph — what a client gets for `openid profile email` — and answers the signed-in
 * user's claims. `sub` is the pairwise subject of the client the token was issued to, the same value
 * as in that client's ID token. Failures follow RFC 6750 §3 (`WWW-Authenticate: Bearer error=…`).
 */
export interface UserInfoDeps {
  readonly directory: IdpDirectory;
  readonly subjectKey: Buffer;
  readonly verifyAccessToken: (
    token: string,
    expect: { audiences?: readonly string[] },
  ) => Promise<{ ok: true; claims: Record<string, unknown> } | { ok: false }>;
}

export interface UserInfoAnswer {
  readonly status: number;
  readonly headers: Record<string, string>;
  readonly body: Record<string, unknown>;
}

const AUDIENCES = [MICROSOFT_GRAPH_RESOURCE, MICROSOFT_GRAPH_RESOURCE + '/', MICROSOFT_GRAPH_APP_ID];

function refuse(status: number, error: string, description: string): UserInfoAnswer {
  return {
    status,
    headers: {
      'www-authenticate': `Bearer error="${error}", error_description="${description}"`,
      'cache-control': 'no-store',
    },
    body: { error, error_description: description },
  };
}

/** The bearer token from the Authorization header, or (RFC 6750 §2.2) the form body of a POST. */
export function bearerOf(
  authorization: string | undefined,
  form: Record<string, unknown>,
): string | undefined {
  const match = /^Bearer\s+(\S+)$/i.exec(authorization ?? '');
  if (match) return match[1];
  return typeof form.access_token === 'string' && form.access_token !== '' ? form.access_token : undefined;
}

export async function userInfo(deps: UserInfoDeps, token: string | undefined): Promise<UserInfoAnswer> {
  if (!token) return { ...refuse(401, 'invalid_request', 'No access token was sent.') };
  const check = await deps.verifyAccessToken(token, { audiences: AUDIENCES });
  if (!check.ok) return refuse(401, 'invalid_token', 'The access token is invalid or expired.');
  const { claims } = check;
  const tid = claims.tid;
  const oid = claims.oid;
  const clientAppId = claims.azp ?? claims.appid;
  // An app-only token has no user: there is nobody to describe.
  if (typeof tid !== 'string' || typeof oid !== 'string' || typeof clientAppId !== 'string' || !claims.scp)
    return refuse(403, 'insufficient_scope', 'The access token does not represent a signed-in user.');
  const user = await deps.directory.getUser(tid, oid);
  if (!user || !user.accountEnabled)
    return refuse(401, 'invalid_token', 'The user of this access token no longer exists.');
  const body: Record<string, unknown> = {
    sub: pairwiseSubject(deps.subjectKey, tid, clientAppId, user.id),
    name: user.displayName,
    preferred_username: user.userPrincipalName,
    ...(user.givenName ? { given_name: user.givenName } : {}),
    ...(user.surname ? { family_name: user.surname } : {}),
    ...(user.mail ? { email: user.mail } : {}),
    oid: user.id,
    tid,
  };
  return { status: 200, headers: { 'cache-control': 'no-store' }, body };
}
