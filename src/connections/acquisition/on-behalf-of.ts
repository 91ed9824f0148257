import type { Clock } from '../../core/clock.ts';
import type { ConsentCard } from '../errors.ts';
import { requestToken } from '../oauth-client.ts';
import type { TokenSet } from '../oauth-client.ts';
import type { OutboundHttp } from '../outbound-http.ts';
import { tokenHash } from '../vault.ts';
import type { AppCredential } from './app-credential.ts';
import { clientAuthenticationFields } from './app-credential.ts';
import { explainOboFailure } from './obo-failures.ts';
import type { OboHop } from './obo-failures.ts';
import type { WorkloadIdentityIssuer } from './workload-identity.ts';

/**
 * SSO by on-behalf-of, in the two hops of ARCHITECTURE.md: the caller's token (audience Behalf
 * Connections) becomes a token for connector app X (hop 1, as Behalf Connections), which becomes a
 * token for API Y (hop 2, as X with its secret or federated credential). Both are the jwt-bearer grant
 * of Entra's OBO flow (learn.microsoft.com/entra/identity-platform/v2-oauth2-on-behalf-of-flow).
 *
 * Results are cached until shortly before expiry under a key that starts with the hash of the
 * presented assertion (as msal-node's OnBehalfOfClient does, reference/performance.md §5), so one
 * user's token can never be served to another: a different caller has a different assertion.
 */
export interface OboRequest {
  readonly tokenUrl: string;
  readonly behalfConnections: AppCredential;
  readonly connectorApp: AppCredential;
  /** Hop 1 scope: X's own scope (e.g. `api://X/access_as_user` or `{X}/.default`). */
  readonly connectorAppScope: string;
  /** Hop 2 scopes: the API's (e.g. `api://mail/.default`). */
  readonly apiScopes: readonly string[];
  /** The card for a consent that would fix the given hop. */
  readonly consentCard: (hop: 1 | 2) => ConsentCard;
}

export interface OnBehalfOf {
  /** `assertionHash`: tokenHash(userAssertion), when the caller has it already (it is the cache key). */
  exchange(userAssertion: string, request: OboRequest, assertionHash?: string): Promise<TokenSet>;
  /** Entries currently cached (for tests and metrics). */
  size(): number;
}

export const JWT_BEARER = 'urn:ietf:params:oauth:grant-type:jwt-bearer';

export function createOnBehalfOf(deps: {
  http: OutboundHttp;
  clock: Clock;
  issuer: WorkloadIdentityIssuer;
  skewMs?: number;
  maxEntries?: number;
  timeoutMs?: number;
}): OnBehalfOf {
  const { http, clock, issuer } = deps;
  const skewMs = deps.skewMs ?? 120_000;
  const maxEntries = deps.maxEntries ?? 10_000;
  const cache = new Map<string, TokenSet>();
  const inflight = new Map<string, Promise<TokenSet>>();
  // The hash of each hop-1 result, which is hop 2's assertion: hashed once, not on every call.
  const hashes = new WeakMap<TokenSet, string>();

  const remember = (key: string, tokens: TokenSet) => {
    cache.delete(key);
    cache.set(key, tokens);
    // Map iteration is insertion order: the first key is the least recently stored.
    while (cache.size > maxEntries) cache.delete(cache.keys().next().value!);
  };

  const hop = (
    hopNumber: OboHop,
    assertion: string,
    assertionHash: string,
    client: AppCredential,
    scope: string,
    request: OboRequest,
  ) => {
    const key = [assertionHash, request.tokenUrl, client.clientId, scope].join('|');
    const cached = cache.get(key);
    if (cached && cached.expiresAt - skewMs > clock.now()) return Promise.resolve(cached);
    let running = inflight.get(key);
    if (!running) {
      running = (async () => {
        try {
          const tokens = await requestToken(http, clock, {
            tokenUrl: request.tokenUrl,
            form: {
              grant_type: JWT_BEARER,
              requested_token_use: 'on_behalf_of',
              assertion,
              scope,
              ...(await clientAuthenticationFields(client, issuer)),
            },
            ...(deps.timeoutMs !== undefined ? { timeoutMs: deps.timeoutMs } : {}),
          });
          remember(key, tokens);
          return tokens;
        } catch (error) {
          throw explainOboFailure(error, {
            hop: hopNumber,
            behalfClientId: request.behalfConnections.clientId,
            connectorClientId: request.connectorApp.clientId,
            scope,
            consentCard: () => request.consentCard(hopNumber),
          });
        }
      })().finally(() => inflight.delete(key));
      inflight.set(key, running);
    }
    return running;
  };

  return {
    async exchange(userAssertion, request, assertionHash = tokenHash(userAssertion)) {
      const forConnectorApp = await hop(
        1,
        userAssertion,
        assertionHash,
        request.behalfConnections,
        request.connectorAppScope,
        request,
      );
      let connectorAppHash = hashes.get(forConnectorApp);
      if (connectorAppHash === undefined) {
        connectorAppHash = tokenHash(forConnectorApp.accessToken);
        hashes.set(forConnectorApp, connectorAppHash);
      }
      const apiScope = request.apiScopes.join(' ');
      return hop(2, forConnectorApp.accessToken, connectorAppHash, request.connectorApp, apiScope, request);
    },
    size: () => cache.size,
  };
}
