import { createHmac } from 'node:crypto';

/**
 * Pairwise `sub`: "based on a combination of the token recipient, tenant, and user" (ED:id-token-claims-reference.md),
 * so two apps cannot correlate a user by `sub`. Keyed, so it cannot be recomputed from a known `oid`.
 */
export function pairwiseSubject(
  key: Buffer,
  tenantId: string,
  recipientAppId: string,
  objectId: string,
): string {
  return createHmac('sha256', key)
    .update(`${tenantId}|${recipientAppId.toLowerCase()}|${objectId}`)
    .digest('base64url')
    .slice(0, 43);
}

/**
 * `pairwiseSubject` under one key, remembering recent answers: the same user asks for tokens to the
 * same app over and over, and an HMAC per token was a visible share of an on-behalf-of request.
 */
export function pairwiseSubjects(
  key: Buffer,
  maxEntries = 10_000,
): (tenantId: string, recipientAppId: string, objectId: string) => string {
  const known = new Map<string, string>();
  return (tenantId, recipientAppId, objectId) => {
    const id = `${tenantId}|${recipientAppId}|${objectId}`;
    let sub = known.get(id);
    if (sub === undefined) {
      sub = pairwiseSubject(key, tenantId, recipientAppId, objectId);
      if (known.size >= maxEntries) known.clear();
      known.set(id, sub);
    }
    return sub;
  };
}

/** `client_info` = base64url({"uid","utid"}), from which MSAL builds the home account id (§2.7). */
export function clientInfo(userId: string, tenantId: string): string {
  return Buffer.from(JSON.stringify({ uid: userId, utid: tenantId })).toString('base64url');
}
