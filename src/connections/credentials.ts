import { decodeJwt } from '../crypto/jwt.ts';
import type { OnBehalfOf } from './acquisition/on-behalf-of.ts';
import type { AppCredential } from './acquisition/app-credential.ts';
import type { Caller } from './caller-verifier.ts';
import type { ConnectionRecord } from './connection-repository.ts';
import { connectorAuth } from './connector-auth.ts';
import type { ConnectorAuth } from './connector-auth.ts';
import type { LoadedConnector } from './connector-source.ts';
import type { ConsentKind } from './consent-tickets.ts';
import type { ConsentCard } from './errors.ts';
import { ConnectionError } from './errors.ts';
import type { Grants } from './grants.ts';
import type { TokenRefresher } from './token-refresher.ts';
import type { Vault } from './vault.ts';

/**
 * The credential an outbound call carries, chosen by the connector's auth and the connection's mode:
 * SSO by on-behalf-of with the caller's own token, the connection's stored tokens (interactive
 * per-user, or the app-only token of a shared connection), an API key, or HTTP Basic.
 */
export interface InjectedCredential {
  readonly headers: Readonly<Record<string, string>>;
  readonly query: Readonly<Record<string, string>>;
  readonly mode: 'delegated' | 'app-only';
  /** `scp` (delegated) or `roles` (app-only) of the token sent, for the audit. */
  readonly scopes: readonly string[];
  /** After the API answered 401: a renewed credential, or undefined when renewing cannot help. */
  renew(): Promise<InjectedCredential | undefined>;
}

export interface CredentialResolver {
  resolve(
    caller: Caller,
    connection: ConnectionRecord,
    connector: LoadedConnector,
  ): Promise<InjectedCredential>;
  authOf(connector: LoadedConnector, connection?: ConnectionRecord): ConnectorAuth;
  /** Whether the connector runs by SSO (on-behalf-of) for per-user connections. */
  usesOnBehalfOf(connector: LoadedConnector, tenantId: string): boolean;
}

export interface CredentialResolverOptions {
  readonly grants: Grants;
  readonly onBehalfOf: OnBehalfOf;
  readonly refresher: TokenRefresher;
  readonly vault: Vault;
  /** Behalf Connections' own client credential (hop 1 of on-behalf-of). */
  readonly behalfConnections: () => AppCredential;
  readonly consentCard: (
    caller: Caller,
    connector: LoadedConnector,
    kind: ConsentKind,
    connectionId?: string,
  ) => ConsentCard;
}

const grantedOf = (token: string): string[] => {
  try {
    const { payload } = decodeJwt(token);
    if (typeof payload['scp'] === 'string') return payload['scp'].split(' ').filter(Boolean);
    return Array.isArray(payload['roles']) ? payload['roles'].map(String) : [];
  } catch {
    return []; // an opaque token (oauth2 providers): nothing to read
  }
};

export function createCredentialResolver(options: CredentialResolverOptions): CredentialResolver {
  const { grants, onBehalfOf, refresher, vault } = options;
  // Decoding the token for its scopes costs more than the rest of the hot path; once per token.
  const scopeCache = new Map<string, string[]>();
  const scopesOf = (token: string) => {
    let scopes = scopeCache.get(token);
    if (!scopes) {
      scopes = grantedOf(token);
      scopeCache.set(token, scopes);
      if (scopeCache.size > 5_000) scopeCache.delete(scopeCache.keys().next().value!);
    }
    return scopes;
  };

  const bearer = (
    token: string,
    mode: InjectedCredential['mode'],
    renew: () => Promise<InjectedCredential | undefined>,
  ): InjectedCredential => ({
    headers: { authorization: `Bearer ${token}` },
    query: {},
    mode,
    scopes: scopesOf(token),
    renew,
  });

  const authOf: CredentialResolver['authOf'] = (connector, connection) =>
    connectorAuth(connector.model, connector.securityDefinitions, connection?.data.parameterSetName);

  const usesOnBehalfOf: CredentialResolver['usesOnBehalfOf'] = (connector, tenantId) => {
    const auth = authOf(connector);
    return auth.kind === 'oauth' && grants.endpoints(tenantId, connector.id, auth.settings).onBehalfOf;
  };

  const stored = (record: ConnectionRecord, mode: InjectedCredential['mode']) => async () => {
    const token = await refresher.accessToken(record);
    return bearer(token, mode, async () => {
      const renewed = await refresher.renewAfterRejection(record, token);
      return renewed === token ? undefined : bearer(renewed, mode, async () => undefined);
    });
  };

  const secureValue = async (record: ConnectionRecord, name: string) => {
    const sealed = record.data.secureParameters[name];
    if (sealed === undefined)
      throw new ConnectionError(
        400,
        'ConnectionParameterMissing',
        `Connection '${record.id}' has no value for '${name}'.`,
        { parameter: name, remediation: `Edit the connection and set '${name}'.` },
      );
    return vault.open(record.id, `param:${name}`, sealed);
  };

  return {
    authOf,
    usesOnBehalfOf,
    async resolve(caller, record, connector) {
      const auth = authOf(connector, record);
      const mode = record.data.mode === 'shared' ? 'app-only' : 'delegated';
      switch (auth.kind) {
        case 'none':
          return { headers: {}, query: {}, mode, scopes: [], renew: async () => undefined };
        case 'apiKey': {
          const key = await secureValue(record, auth.parameterName);
          const placed = { [auth.name]: key };
          return {
            headers: auth.in === 'header' ? placed : {},
            query: auth.in === 'query' ? placed : {},
            mode,
            scopes: [],
            renew: async () => undefined,
          };
        }
        case 'basic': {
          const user = String(record.data.parameters[auth.usernameParameter] ?? '');
          const password = await secureValue(record, auth.passwordParameter);
          const basic = Buffer.from(`${user}:${password}`).toString('base64');
          return {
            headers: { authorization: `Basic ${basic}` },
            query: {},
            mode,
            scopes: [],
            renew: async () => undefined,
          };
        }
        case 'oauth':
          break;
      }
      const settings = auth.settings;
      const hasStoredCredential =
        record.data.credential.refreshToken !== undefined || record.data.credential.accessToken !== undefined;
      if (record.data.mode === 'shared' || hasStoredCredential) return stored(record, mode)();
      const endpoints = grants.endpoints(record.data.tenantId, connector.id, settings);
      if (!endpoints.onBehalfOf)
        throw new ConnectionError(403, 'ConsentRequired', `Connection '${record.id}' is not signed in yet.`, {
          remediation: 'Open the consent link, sign in and consent, then retry.',
          consentCard: options.consentCard(caller, connector, 'interactive', record.id),
        });
      if (caller.appOnly)
        throw new ConnectionError(
          403,
          'DelegatedTokenRequired',
          'Single sign-on runs as the signed-in user; an app-only token has no user to act for.',
          {
            remediation:
              'Call with a delegated (user) token for Behalf Connections, or use a shared connection.',
          },
        );
      const connectorApp = await grants.connectorApp(record.data.tenantId, connector.id, settings);
      const tokens = await onBehalfOf.exchange(
        caller.token,
        {
          tokenUrl: endpoints.tokenUrl,
          behalfConnections: options.behalfConnections(),
          connectorApp,
          connectorAppScope: `${connectorApp.clientId}/.default`,
          apiScopes: endpoints.scopes,
          consentCard: (hop) =>
            options.consentCard(caller, connector, hop === 1 ? 'sso-1' : 'sso-2', record.id),
        },
        caller.tokenHash,
      );
      return bearer(tokens.accessToken, 'delegated', async () => undefined);
    },
  };
}
