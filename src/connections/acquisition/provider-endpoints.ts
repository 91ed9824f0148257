import type { OAuthSettings } from '../../connectors/model.ts';

/**
 * Where a connector's identity provider lives and what to ask it for, derived from the connector's
 * `oAuthSettings` (reference/connector-format.md §1.3.2). A table per identity provider, not a switch:
 * adding a provider is adding a row.
 */
export interface ProviderEndpoints {
  readonly authorizeUrl: string;
  readonly tokenUrl: string;
  readonly refreshUrl: string;
  /** Scopes for the delegated flows (authorization code, OBO hop 2). */
  readonly scopes: readonly string[];
  /** Scope for client credentials (`{resource}/.default`), when the provider has a resource. */
  readonly appOnlyScope?: string;
  /**
   * RFC 8707 resource indicator, sent on the authorization request and on every token request: an
   * `oauth2` connector's `resourceUri` custom parameter (an MCP server's URL: the MCP authorization
   * specification requires it). Never for `aad`: Entra's v2 endpoints refuse `resource` (AADSTS901002).
   */
  readonly resource?: string;
  readonly onBehalfOf: boolean;
}

// customParameters come with varying capitalisation (`LoginUri`, `loginUri`); the connectors part
// canonicalises the known names, this lookup also tolerates the rest.
function param(settings: OAuthSettings, name: string): string | undefined {
  const direct = settings.customParameters[name];
  if (direct !== undefined) return direct;
  const lower = name.toLowerCase();
  return Object.entries(settings.customParameters).find(([key]) => key.toLowerCase() === lower)?.[1];
}

const trimSlash = (url: string) => url.replace(/\/+$/, '');

// The v2 endpoint reads a bare scope (`Mail.Read`) as Microsoft Graph's; a connector that names its
// own Resource URL means that resource's scope (the v1 endpoints the connector format grew up on took
// `resource=` plus bare scopes). OIDC scopes and already-qualified ones stay as written.
const OIDC_SCOPES = new Set(['openid', 'profile', 'email', 'offline_access']);
function qualifyScope(scope: string, resource: string | undefined): string {
  if (!resource || OIDC_SCOPES.has(scope.toLowerCase()) || scope.includes('/')) return scope;
  return `${trimSlash(resource)}/${scope}`;
}

type Derive = (settings: OAuthSettings, tenantId?: string) => ProviderEndpoints;

/** Entra ID v2 endpoints (`aad`): loginUri defaults as the token-store guide documents. */
const aad: Derive = (settings, tenantId) => {
  const login = trimSlash(param(settings, 'loginUri') ?? 'https://login.windows.net');
  const configured = param(settings, 'tenantId') ?? 'common';
  // A multi-tenant segment cannot serve client credentials or on-behalf-of (there is no "common"
  // service principal): the connection's own tenant is used instead (entra-protocol.md §1).
  const tenant =
    tenantId !== undefined && /^(common|organizations)$/i.test(configured) ? tenantId : configured;
  const resource = param(settings, 'resourceUri') ?? settings.resourceId;
  const base = `${login}/${encodeURIComponent(tenant)}/oauth2/v2.0`;
  const scopes =
    settings.scopes.length > 0
      ? settings.scopes.map((scope) => qualifyScope(scope, resource))
      : resource
        ? [`${trimSlash(resource)}/.default`]
        : [];
  return {
    authorizeUrl: `${base}/authorize`,
    tokenUrl: `${base}/token`,
    refreshUrl: `${base}/token`,
    scopes,
    ...(resource ? { appOnlyScope: `${trimSlash(resource)}/.default` } : {}),
    onBehalfOf:
      settings.isOnBehalfOfLoginSupported &&
      (param(settings, 'enableOnbehalfOfLogin') ?? 'false').toLowerCase() === 'true',
  };
};

const oauth2: Derive = (settings) => {
  const tokenUrl = param(settings, 'tokenUrl') ?? '';
  const resource = param(settings, 'resourceUri');
  return {
    authorizeUrl: param(settings, 'authorizationUrl') ?? '',
    tokenUrl,
    refreshUrl: param(settings, 'refreshUrl') ?? tokenUrl,
    scopes: settings.scopes,
    ...(resource ? { resource } : {}),
    onBehalfOf: false,
  };
};

/** oauth2generic: URL templates; placeholders are filled at request time (see fillTemplate). */
const oauth2generic: Derive = (settings) => {
  const tokenUrl = param(settings, 'tokenUrlTemplate') ?? '';
  return {
    authorizeUrl: param(settings, 'authorizationUrlTemplate') ?? '',
    tokenUrl,
    refreshUrl: param(settings, 'refreshUrlTemplate') ?? tokenUrl,
    scopes: settings.scopes,
    onBehalfOf: false,
  };
};

export const PROVIDERS: Readonly<Record<string, Derive>> = { aad, oauth2, oauth2generic };

export function providerEndpoints(settings: OAuthSettings, tenantId?: string): ProviderEndpoints | undefined {
  return PROVIDERS[settings.identityProvider]?.(settings, tenantId);
}

/**
 * Fills `{clientId}`, `{scopes}`, `{redirectUrl}`, `{State}`, `{code}`, `{refreshToken}`… in an
 * oauth2generic template; the platform's casing varies between connectors, so names match without case.
 */
export function fillTemplate(
  template: string,
  values: Readonly<Record<string, string>>,
  encode = true,
): string {
  const lower = new Map(Object.entries(values).map(([key, value]) => [key.toLowerCase(), value]));
  return template.replace(/\{(\w+)\}/g, (whole, name: string) => {
    const value = lower.get(name.toLowerCase());
    return value === undefined ? whole : encode ? encodeURIComponent(value) : value;
  });
}
