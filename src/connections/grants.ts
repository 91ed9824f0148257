import type { Clock } from '../core/clock.ts';
import type { OAuthSettings } from '../connectors/model.ts';
import type { AppCredential } from './acquisition/app-credential.ts';
import { clientAuthenticationFields } from './acquisition/app-credential.ts';
import type { ProviderEndpoints } from './acquisition/provider-endpoints.ts';
import { fillTemplate, providerEndpoints } from './acquisition/provider-endpoints.ts';
import type { WorkloadIdentityIssuer } from './acquisition/workload-identity.ts';
import { connectorAuth } from './connector-auth.ts';
import type { ConnectorSource } from './connector-source.ts';
import { ConnectionError } from './errors.ts';
import type { ConnectionData } from './model.ts';
import { requestToken } from './oauth-client.ts';
import type { TokenSet } from './oauth-client.ts';
import type { OutboundHttp } from './outbound-http.ts';
import type { RenewCredential } from './token-refresher.ts';

/**
 * The token grants a connection uses against its connector's identity provider, over HTTP only:
 * refresh (RFC 6749 §6), client credentials for shared connections (§4.4, `{resource}/.default` as
 * Entra's v2 endpoint wants it), and authorization-code redemption with PKCE (§4.1.3, RFC 7636 §4.5).
 * The connector app proves itself with its client secret or, with none, with Behalf's federated
 * workload-identity assertion.
 */
export interface Grants {
  /** The refresher's renew function: refresh token if there is one, else the shared connection's grant. */
  readonly renew: RenewCredential;
  endpoints(tenantId: string, connectorId: string, settings: OAuthSettings): ProviderEndpoints;
  connectorApp(tenantId: string, connectorId: string, settings: OAuthSettings): Promise<AppCredential>;
  clientCredentials(tenantId: string, connectorId: string, settings: OAuthSettings): Promise<TokenSet>;
  redeemCode(input: {
    tenantId: string;
    connectorId: string;
    settings: OAuthSettings;
    code: string;
    codeVerifier: string;
    redirectUri: string;
    scopes: readonly string[];
    /** Redeem as this client instead of the connector app (Behalf Connections for SSO consent). */
    app?: AppCredential;
  }): Promise<TokenSet>;
}

export interface GrantsOptions {
  readonly http: OutboundHttp;
  readonly clock: Clock;
  readonly issuer: WorkloadIdentityIssuer;
  readonly connectors: ConnectorSource;
  readonly timeoutMs?: number;
}

const notConfigured = (connectorId: string, what: string) =>
  new ConnectionError(
    400,
    'ConnectorMisconfigured',
    `Connector '${connectorId}' cannot get a token: ${what}.`,
    { remediation: `Fix the connector's security settings: ${what}.` },
  );

export function createGrants(options: GrantsOptions): Grants {
  const { http, clock, issuer, connectors } = options;
  const timeout = options.timeoutMs !== undefined ? { timeoutMs: options.timeoutMs } : {};

  const endpoints: Grants['endpoints'] = (tenantId, connectorId, settings) => {
    const found = providerEndpoints(settings, tenantId);
    if (!found || !found.tokenUrl)
      throw notConfigured(connectorId, `identity provider '${settings.identityProvider}' has no token URL`);
    return found;
  };

  const connectorApp: Grants['connectorApp'] = async (tenantId, connectorId, settings) => {
    if (!settings.clientId) throw notConfigured(connectorId, 'the OAuth settings have no client id');
    const secret = await connectors.clientSecret(tenantId, connectorId);
    if (secret !== undefined)
      return { kind: 'secret', clientId: settings.clientId, secret: async () => secret };
    // No secret: the connector app trusts Behalf's workload identity (a federated credential).
    return {
      kind: 'federated',
      clientId: settings.clientId,
      subject: await connectors.workloadSubject(tenantId, connectorId),
    };
  };

  /** oauth2generic bodies and URLs are templates; aad/oauth2 take the standard form. */
  const tokenUrl = (url: string, values: Record<string, string>) => fillTemplate(url, values);

  const grants: Grants = {
    endpoints,
    connectorApp,

    async clientCredentials(tenantId, connectorId, settings) {
      const found = endpoints(tenantId, connectorId, settings);
      const scope = found.appOnlyScope ?? found.scopes.find((s) => s.endsWith('/.default'));
      if (!scope)
        throw notConfigured(connectorId, 'an app-only connection needs a Resource URL ({resource}/.default)');
      const app = await connectorApp(tenantId, connectorId, settings);
      return requestToken(http, clock, {
        tokenUrl: tokenUrl(found.tokenUrl, { clientId: app.clientId, scopes: scope }),
        form: {
          grant_type: 'client_credentials',
          scope,
          ...(await clientAuthenticationFields(app, issuer)),
        },
        ...timeout,
      });
    },

    async redeemCode(input) {
      const found = endpoints(input.tenantId, input.connectorId, input.settings);
      const app = input.app ?? (await connectorApp(input.tenantId, input.connectorId, input.settings));
      const tokens = await requestToken(http, clock, {
        tokenUrl: tokenUrl(found.tokenUrl, {
          clientId: app.clientId,
          code: input.code,
          redirectUrl: input.redirectUri,
          scopes: input.scopes.join(' '),
        }),
        form: {
          grant_type: 'authorization_code',
          code: input.code,
          code_verifier: input.codeVerifier,
          redirect_uri: input.redirectUri,
          scope: input.scopes.join(' '),
          ...(found.resource ? { resource: found.resource } : {}),
          ...(await clientAuthenticationFields(app, issuer)),
        },
        ...timeout,
      });
      return tokens;
    },

    renew: async (connection: ConnectionData, refreshToken: string | undefined) => {
      const loaded = await connectors.load(connection.tenantId, connection.connectorId);
      const auth = connectorAuth(loaded.model, loaded.securityDefinitions, connection.parameterSetName);
      if (auth.kind !== 'oauth')
        throw notConfigured(connection.connectorId, 'only OAuth connections have tokens to renew');
      if (refreshToken === undefined) {
        if (connection.mode === 'shared')
          return grants.clientCredentials(connection.tenantId, connection.connectorId, auth.settings);
        throw new ConnectionError(
          401,
          'ConnectionNeedsReauth',
          `Connection '${connection.id}' has no refresh token; sign in again.`,
          { remediation: 'Reconnect: open the connection and sign in again, then retry.' },
        );
      }
      const found = endpoints(connection.tenantId, connection.connectorId, auth.settings);
      const app = await connectorApp(connection.tenantId, connection.connectorId, auth.settings);
      return requestToken(http, clock, {
        tokenUrl: tokenUrl(found.refreshUrl, {
          clientId: app.clientId,
          refreshToken,
          scopes: found.scopes.join(' '),
        }),
        form: {
          grant_type: 'refresh_token',
          refresh_token: refreshToken,
          ...(found.scopes.length > 0 ? { scope: found.scopes.join(' ') } : {}),
          ...(found.resource ? { resource: found.resource } : {}),
          ...(await clientAuthenticationFields(app, issuer)),
        },
        ...timeout,
      });
    },
  };
  return grants;
}
