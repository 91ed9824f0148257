/**
 * Issuers and endpoint URLs. Entra's v2 issuer is `https://login.microsoftonline.com/{tid}/v2.0`; its v1
 * issuer lives on another host (`https://sts.windows.net/{tid}/`). Behalf has one host, so the v1 issuer
 * keeps Entra's shape (`{base}/{tid}/`, trailing slash) on the Behalf host (docs/entra-compatibility.md).
 */
export type TokenVersion = 1 | 2;

export function issuerFor(base: string, tenantId: string, version: TokenVersion): string {
  return version === 2 ? `${base}/${tenantId}/v2.0` : `${base}/${tenantId}/`;
}

export function tokenEndpoint(base: string, tenantSegment: string, version: TokenVersion): string {
  return version === 2
    ? `${base}/${tenantSegment}/oauth2/v2.0/token`
    : `${base}/${tenantSegment}/oauth2/token`;
}

/** The tenant segments that are not a tenant: they keep the `{tenantid}` issuer template. */
export const MULTI_TENANT_SEGMENTS = ['common', 'organizations'] as const;

export function isMultiTenantSegment(segment: string): boolean {
  return (MULTI_TENANT_SEGMENTS as readonly string[]).includes(segment.toLowerCase());
}

export function errorPage(code: number): string {
  return `https://login.microsoftonline.com/error?code=${code}`;
}
