import { createHash } from 'node:crypto';
import type { Clock } from '../core/clock.ts';
import type { Random } from '../core/ids.ts';
import { opaqueToken } from '../core/ids.ts';
import { decodeJwt } from '../crypto/jwt.ts';
import type { RecordStore } from '../storage/record-store.ts';
import type { AppCredential } from './acquisition/app-credential.ts';
import type { Caller } from './caller-verifier.ts';
import type { ConnectionRepository } from './connection-repository.ts';
import { connectorAuth } from './connector-auth.ts';
import type { ConnectorSource, LoadedConnector } from './connector-source.ts';
import type { ConsentKind, ConsentTicket, ConsentTickets } from './consent-tickets.ts';
import type { ConsentCard } from './errors.ts';
import { ConnectionError } from './errors.ts';
import type { Grants } from './grants.ts';
import type { ConnectionView } from './model.ts';
import { viewOf } from './model.ts';
import { OAuthError } from './oauth-client.ts';
import type { TokenRefresher } from './token-refresher.ts';
import type { Vault } from './vault.ts';
import { tokenHash } from './vault.ts';

/**
 * Interactive consent: the authorization-code flow with PKCE (RFC 6749 §4.1, RFC 7636) on the
 * connector's own redirect URL (`/redirect/{connectorId}`, the GlobalPerConnector mode), with a
 * single-use `state` record bound to the user, connector and connection and expiring in ten minutes
 * (RFC 6749 §10.12). The tokens go into the vault. For SSO connectors the same flow records the
 * user's consent for the hop that lacked it and keeps no tokens.
 */
export const CONSENT_STATE_KIND = 'consent-state';
const STATE_LIFETIME_MS = 10 * 60_000;

interface PendingConsent {
  readonly ticket: ConsentTicket;
  readonly codeVerifier: string;
  readonly redirectUri: string;
  readonly scopes: readonly string[];
  readonly client: 'connector' | 'behalf';
}

export interface ConsentResult {
  readonly kind: ConsentKind;
  readonly connectorId: string;
  readonly connection?: ConnectionView;
}

export interface ConsentFlow {
  card(caller: Caller, connector: LoadedConnector, kind: ConsentKind, connectionId?: string): ConsentCard;
  /** `/consent/{connectorId}?ticket=…` → the identity provider's authorize URL. */
  begin(connectorId: string, ticketText: string): Promise<string>;
  /** `/redirect/{connectorId}` (or Behalf Connections' redirect) with the provider's answer. */
  complete(query: Readonly<Record<string, string | undefined>>): Promise<ConsentResult>;
}

export interface ConsentFlowOptions {
  readonly store: RecordStore;
  readonly clock: Clock;
  readonly random: Random;
  readonly vault: Vault;
  readonly grants: Grants;
  readonly connectors: ConnectorSource;
  readonly connections: ConnectionRepository;
  readonly refresher: TokenRefresher;
  readonly tickets: ConsentTickets;
  readonly publicUrl: () => string;
  readonly behalfConnections: () => AppCredential;
  /**
   * The delegated scopes connector app X exposes (`api://X/user_impersonation`…), read from the
   * directory's metadata when Behalf knows X; nothing when the identity provider is another one.
   */
  readonly exposedScopes?: (tenantId: string, appId: string) => Promise<readonly string[]>;
}

const refused = (message: string) =>
  new ConnectionError(400, 'ConsentFailed', message, {
    remediation: 'Start again from the consent link you were given.',
  });

export function connectorRedirectPath(connectorId: string): string {
  return `/redirect/${encodeURIComponent(connectorId)}`;
}
/** Behalf Connections' own redirect URI (registered on its app registration). */
export const BEHALF_REDIRECT_PATH = '/connections/redirect';

export function createConsentFlow(options: ConsentFlowOptions): ConsentFlow {
  const { store, clock, random, vault, grants, connectors, connections, tickets } = options;
  const base = () => options.publicUrl().replace(/\/+$/, '');

  const settingsOf = (connector: LoadedConnector) => {
    const auth = connectorAuth(connector.model, connector.securityDefinitions);
    if (auth.kind !== 'oauth')
      throw new ConnectionError(
        400,
        'ConsentNotApplicable',
        `Connector '${connector.id}' does not use OAuth.`,
      );
    return auth.settings;
  };

  const storeTokens = async (ticket: ConsentTicket, tokens: Awaited<ReturnType<Grants['redeemCode']>>) => {
    const owner = { tenantId: ticket.tenantId, userObjectId: ticket.userObjectId };
    let record = ticket.connectionId ? await connections.get(ticket.connectionId) : undefined;
    if (
      record &&
      (record.data.owner?.userObjectId !== owner.userObjectId || record.data.tenantId !== owner.tenantId)
    )
      throw refused('The connection of this consent link belongs to someone else.');
    record ??= await connections.create({
      tenantId: ticket.tenantId,
      connectorId: ticket.connectorId,
      mode: 'per-user',
      owner,
      createdBy: owner.userObjectId,
      ...(ticket.connectionId ? { id: ticket.connectionId } : {}),
    });
    const id = record.id;
    const credential = {
      accessToken: await vault.seal(id, 'accessToken', tokens.accessToken),
      accessTokenExpiresAt: tokens.expiresAt,
      ...(tokens.refreshToken
        ? {
            refreshToken: await vault.seal(id, 'refreshToken', tokens.refreshToken),
            refreshTokenHash: tokenHash(tokens.refreshToken),
          }
        : {}),
      ...(tokens.scope !== undefined ? { scope: tokens.scope } : {}),
    };
    for (;;) {
      const written = await connections.replaceCredential(record, credential);
      if (written) {
        options.refresher.forget(id);
        return viewOf(written.data);
      }
      record = await connections.get(id);
      if (!record) throw refused('The connection was deleted meanwhile.');
    }
  };

  /**
   * `{X}/.default` would ask only for Behalf Connections' static permissions on X, and it has none
   * (X is any connector app): consent must name X's scopes (dynamic consent). Once the user has
   * allowed them, hop 1's `{X}/.default` covers them. Without directory metadata, `.default` is all
   * there is (an identity provider with pre-authorization or admin consent needs nothing else).
   */
  const hopOneScopes = async (tenantId: string, appId: string): Promise<readonly string[]> => {
    const exposed = (await options.exposedScopes?.(tenantId, appId)) ?? [];
    return exposed.length > 0 ? exposed : [`${appId}/.default`];
  };

  return {
    card(caller, connector, kind, connectionId) {
      const ticket = tickets.issue({
        tenantId: caller.tenantId,
        userObjectId: caller.objectId,
        connectorId: connector.id,
        ...(connectionId ? { connectionId } : {}),
        kind,
      });
      const title = connector.model.title;
      const text =
        kind === 'interactive'
          ? `Sign in to ${title} once so Behalf can use it on your behalf.`
          : `Allow Behalf to use ${title} on your behalf (one-time consent).`;
      return {
        consentUrl: `${base()}/consent/${encodeURIComponent(connector.id)}?ticket=${ticket}`,
        text,
        connectorName: title,
      };
    },

    async begin(connectorId, ticketText) {
      const ticket = tickets.read(ticketText);
      if (!ticket || ticket.connectorId !== connectorId)
        throw refused('This consent link is not valid or has expired.');
      const connector = await connectors.load(ticket.tenantId, connectorId);
      const settings = settingsOf(connector);
      const endpoints = grants.endpoints(ticket.tenantId, connectorId, settings);
      if (!endpoints.authorizeUrl)
        throw new ConnectionError(
          400,
          'ConnectorMisconfigured',
          `Connector '${connectorId}' has no authorization URL.`,
        );
      const connectorApp = await grants.connectorApp(ticket.tenantId, connectorId, settings);
      // SSO hop 1 is Behalf Connections asking for connector app X; every other consent is X's own.
      const behalf = ticket.kind === 'sso-1';
      const clientId = behalf ? options.behalfConnections().clientId : connectorApp.clientId;
      const scopes = behalf
        ? ['openid', 'profile', ...(await hopOneScopes(ticket.tenantId, connectorApp.clientId))]
        : ['openid', 'profile', 'offline_access', ...endpoints.scopes];
      const redirectUri = behalf
        ? base() + BEHALF_REDIRECT_PATH
        : base() + connectorRedirectPath(connectorId);
      const codeVerifier = opaqueToken(random, 32);
      const state = opaqueToken(random, 32);
      const pending: PendingConsent = {
        ticket,
        codeVerifier,
        redirectUri,
        scopes,
        client: behalf ? 'behalf' : 'connector',
      };
      await store.insert({
        kind: CONSENT_STATE_KIND,
        id: tokenHash(state),
        partition: ticket.tenantId,
        data: pending,
        expiresAt: clock.now() + STATE_LIFETIME_MS,
      });
      const url = new URL(endpoints.authorizeUrl);
      url.searchParams.set('client_id', clientId);
      url.searchParams.set('response_type', 'code');
      url.searchParams.set('redirect_uri', redirectUri);
      url.searchParams.set('response_mode', 'query');
      url.searchParams.set('scope', scopes.join(' '));
      url.searchParams.set('state', state);
      url.searchParams.set('code_challenge', createHash('sha256').update(codeVerifier).digest('base64url'));
      url.searchParams.set('code_challenge_method', 'S256');
      if (endpoints.resource && !behalf) url.searchParams.set('resource', endpoints.resource);
      url.searchParams.set('prompt', 'consent');
      return url.toString();
    },

    async complete(query) {
      const state = query['state'];
      if (!state) throw refused('The answer of the identity provider has no state.');
      const id = tokenHash(state);
      const record = await store.get<PendingConsent>(CONSENT_STATE_KIND, id);
      // Single use: whoever deletes it first redeems it; a replayed redirect finds nothing.
      if (!record || !(await store.delete(CONSENT_STATE_KIND, id, record.version)))
        throw refused('This sign-in is unknown, was already used, or has expired.');
      const pending = record.data;
      const { ticket } = pending;
      if (query['error'])
        throw new ConnectionError(
          403,
          'ConsentDeclined',
          `The identity provider answered ${query['error']}: ${(query['error_description'] ?? '').split('\n')[0]}`,
          { remediation: 'Open the consent link again and accept.' },
        );
      const code = query['code'];
      if (!code) throw refused('The answer of the identity provider has no code.');
      const connector = await connectors.load(ticket.tenantId, ticket.connectorId);
      const settings = settingsOf(connector);
      let tokens;
      try {
        tokens = await grants.redeemCode({
          tenantId: ticket.tenantId,
          connectorId: ticket.connectorId,
          settings,
          code,
          codeVerifier: pending.codeVerifier,
          redirectUri: pending.redirectUri,
          scopes: pending.scopes.filter((s) => s !== 'openid' && s !== 'profile'),
          ...(pending.client === 'behalf' ? { app: options.behalfConnections() } : {}),
        });
      } catch (error) {
        if (error instanceof OAuthError)
          throw refused(`The identity provider refused the sign-in: ${error.message}`);
        throw error;
      }
      // The tokens came straight from the token endpoint over TLS (OIDC Core §3.1.3.7, 6.): reading the
      // subject without re-verifying the signature is allowed; it must be the user the link was for.
      const who = identityOf(tokens.idToken) ?? identityOf(tokens.accessToken);
      if (who && (who.oid !== ticket.userObjectId || (who.tid !== undefined && who.tid !== ticket.tenantId)))
        throw new ConnectionError(
          403,
          'ConsentWrongUser',
          'You signed in as a different person than the one this consent link was made for.',
          { remediation: 'Sign in with the account that asked for the link.' },
        );
      if (ticket.kind !== 'interactive') return { kind: ticket.kind, connectorId: ticket.connectorId };
      return {
        kind: ticket.kind,
        connectorId: ticket.connectorId,
        connection: await storeTokens(ticket, tokens),
      };
    },
  };
}

function identityOf(token: string | undefined): { oid: string; tid?: string } | undefined {
  if (!token) return undefined;
  try {
    const { payload } = decodeJwt(token);
    if (typeof payload['oid'] !== 'string') return undefined;
    return { oid: payload['oid'], ...(typeof payload['tid'] === 'string' ? { tid: payload['tid'] } : {}) };
  } catch {
    return undefined;
  }
}
