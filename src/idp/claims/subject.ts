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

/** `client_info` = base64url({"uid","utid"}), from which MSAL builds the home account id (§2.7). */
export function clientInfo(userId: string, tenantId: string): string {
  return Buffer.from(JSON.stringify({ uid: userId, utid: tenantId })).toString('base64url');
}
