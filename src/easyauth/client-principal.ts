import type { Principal } from './principal.ts';

/**
 * The identity App Service's Easy Auth hands to the app (configure-authentication-user-identities):
 * `X-MS-CLIENT-PRINCIPAL` is base64 JSON `{auth_typ, claims:[{typ,val}], name_typ, role_typ}`, with
 * claim types mapped to the long URIs .NET's inbound claim map uses, repeated claims (roles, groups)
 * as one entry per value, and values always strings (Data API builder rejects numbers).
 */
const CLAIM_TYPES: Record<string, string> = {
  oid: 'http://schemas.microsoft.com/identity/claims/objectidentifier',
  tid: 'http://schemas.microsoft.com/identity/claims/tenantid',
  scp: 'http://schemas.microsoft.com/identity/claims/scope',
  roles: 'http://schemas.microsoft.com/ws/2008/06/identity/claims/role',
  sub: 'http://schemas.xmlsoap.org/ws/2005/05/identity/claims/nameidentifier',
  upn: 'http://schemas.xmlsoap.org/ws/2005/05/identity/claims/upn',
  email: 'http://schemas.xmlsoap.org/ws/2005/05/identity/claims/emailaddress',
  unique_name: 'http://schemas.xmlsoap.org/ws/2005/05/identity/claims/name',
  given_name: 'http://schemas.xmlsoap.org/ws/2005/05/identity/claims/givenname',
  family_name: 'http://schemas.xmlsoap.org/ws/2005/05/identity/claims/surname',
  amr: 'http://schemas.microsoft.com/claims/authnmethodsreferences',
  idp: 'http://schemas.microsoft.com/identity/claims/identityprovider',
};
const NAME_TYPE = 'http://schemas.xmlsoap.org/ws/2005/05/identity/claims/emailaddress';
const ROLE_TYPE = CLAIM_TYPES['roles']!;

export interface ClientPrincipal {
  readonly auth_typ: string;
  readonly claims: readonly { readonly typ: string; readonly val: string }[];
  readonly name_typ: string;
  readonly role_typ: string;
}

export function clientPrincipal(principal: Principal): ClientPrincipal {
  const claims: { typ: string; val: string }[] = [];
  for (const [name, value] of Object.entries(principal.claims)) {
    const typ = CLAIM_TYPES[name] ?? name;
    for (const v of Array.isArray(value) ? value : [value]) {
      if (v === null || v === undefined || typeof v === 'object') continue;
      claims.push({ typ, val: String(v) });
    }
  }
  // App Service adds the name claim under name_typ so the app's "user name" is the sign-in name.
  if (principal.upn && !claims.some((c) => c.typ === NAME_TYPE))
    claims.push({ typ: NAME_TYPE, val: principal.upn });
  return { auth_typ: 'aad', claims, name_typ: NAME_TYPE, role_typ: ROLE_TYPE };
}

// Printable ASCII other than `"` and `\` is its own JSON string body (RFC 8259 §7): no escaping.
const PLAIN = /^[\x20\x21\x23-\x5b\x5d-\x7e]*$/;
// The JSON of a claim type as it appears in `typ`, computed once per claim name.
const typJson = new Map<string, string>();
const NAME_TYPE_JSON = JSON.stringify(NAME_TYPE);
const TAIL = `],"name_typ":${NAME_TYPE_JSON},"role_typ":${JSON.stringify(ROLE_TYPE)}}`;

/**
 * `JSON.stringify(clientPrincipal(principal))`, written directly: the same text, without building a
 * claim object per value first (it runs for every authenticated request).
 */
export function clientPrincipalJson(principal: Principal): string {
  const parts: string[] = [];
  let hasName = false;
  const add = (typ: string, v: unknown) => {
    if (v === null || v === undefined || typeof v === 'object') return;
    const text = String(v);
    parts.push(`{"typ":${typ},"val":${PLAIN.test(text) ? `"${text}"` : JSON.stringify(text)}}`);
    if (typ === NAME_TYPE_JSON) hasName = true;
  };
  const { claims } = principal;
  for (const name of Object.keys(claims)) {
    let typ = typJson.get(name);
    if (typ === undefined) {
      typ = JSON.stringify(CLAIM_TYPES[name] ?? name);
      if (typJson.size < 256) typJson.set(name, typ);
    }
    const value = claims[name];
    if (Array.isArray(value)) for (const v of value) add(typ, v);
    else add(typ, value);
  }
  if (principal.upn && !hasName) add(NAME_TYPE_JSON, principal.upn);
  return `{"auth_typ":"aad","claims":[${parts.join(',')}${TAIL}`;
}

/** The request headers the app receives; names lower-case, as Node presents them. */
export function identityHeaders(principal: Principal, accessToken?: string): Record<string, string> {
  const headers: Record<string, string> = {
    'x-ms-client-principal': Buffer.from(clientPrincipalJson(principal)).toString('base64'),
    'x-ms-client-principal-id': principal.oid,
    'x-ms-client-principal-name': principal.upn ?? principal.name ?? principal.appId ?? principal.oid,
    'x-ms-client-principal-idp': 'aad',
  };
  if (accessToken) headers['x-ms-token-aad-access-token'] = accessToken;
  return headers;
}

/** Incoming `X-MS-*` headers are the app's trust anchor, so a client must never be able to set them. */
export function isSpoofableHeader(name: string): boolean {
  return name.toLowerCase().startsWith('x-ms-');
}

/** Parses `X-MS-CLIENT-PRINCIPAL` as an app would (used by the demo APIs behind the proxy and by tests). */
export function parseClientPrincipal(header: string): ClientPrincipal {
  return JSON.parse(Buffer.from(header, 'base64').toString('utf8')) as ClientPrincipal;
}
