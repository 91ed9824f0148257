import type { Clock } from '../core/clock.ts';
import type { Logger } from '../core/logger.ts';
import type { ConnectionRecord, ConnectionRepository } from './connection-repository.ts';
import { ConnectionError, connectionErrors } from './errors.ts';
import type { ConnectionData, StoredCredential } from './model.ts';
import { OAuthError } from './oauth-client.ts';
import type { TokenSet } from './oauth-client.ts';
import { UpstreamError } from './outbound-http.ts';
import type { LeaseManager } from './refresh-lease.ts';
import type { Vault } from './vault.ts';
import { tokenHash } from './vault.ts';

/**
 * Gives a connection's access token, renewing it at most once at a time per connection: within the
 * process (one promise per connection) and across processes (a lease in the store). The recipe of
 * reference/peers.md §18: lease with an owner token longer than the refresh timeout, re-read after
 * acquiring, compare-and-swap keyed on the refresh token's hash, and a losing `invalid_grant` marks
 * the connection needs-reauth only if its generation is still the one that was refreshed.
 *
 * A crash at any point leaves the connection as it was (nothing written yet) or as it became (one CAS
 * write holds the new tokens and the new generation together).
 */
export interface RenewCredential {
  /** Redeems the refresh token (or, with none, re-runs the connection's app-only grant). */
  (connection: ConnectionData, refreshToken: string | undefined): Promise<TokenSet>;
}

export interface TokenRefresherOptions {
  readonly connections: ConnectionRepository;
  readonly vault: Vault;
  readonly leases: LeaseManager;
  readonly clock: Clock;
  readonly logger: Logger;
  readonly renew: RenewCredential;
  /** The lease must outlive a refresh, so a slow holder never overlaps its successor. */
  readonly leaseMs: number;
  readonly refreshTimeoutMs: number;
  /** Tokens this close to expiry are renewed first (proactive refresh). */
  readonly skewMs?: number;
  readonly pollMs?: number;
  readonly sleep?: (ms: number) => Promise<void>;
}

export interface TokenRefresher {
  /** A valid access token for the connection; renews it if it is (nearly) expired. */
  accessToken(record: ConnectionRecord): Promise<string>;
  /** After the API answered 401 to `rejectedToken`: renew unless someone already did. */
  renewAfterRejection(record: ConnectionRecord, rejectedToken: string): Promise<string>;
  /** Forgets the in-memory copy (a connection was reconnected, deleted or rotated). */
  forget(connectionId: string): void;
}

interface CachedToken {
  readonly token: string;
  readonly expiresAt: number;
  readonly generation: number;
}

export function needsReauth(connectionId: string, reason: string): ConnectionError {
  return new ConnectionError(
    401,
    'ConnectionNeedsReauth',
    `Connection '${connectionId}' must be signed in again: ${reason}`,
    {
      remediation: 'Reconnect: open the connection and sign in again, then retry.',
    },
  );
}

export function createTokenRefresher(options: TokenRefresherOptions): TokenRefresher {
  const { connections, vault, leases, clock, logger, renew } = options;
  if (options.leaseMs <= options.refreshTimeoutMs)
    throw new Error('the refresh lease must be longer than the refresh timeout');
  const skewMs = options.skewMs ?? 60_000;
  const pollMs = options.pollMs ?? 50;
  const sleep = options.sleep ?? ((ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms)));
  const cache = new Map<string, CachedToken>();
  const inflight = new Map<string, Promise<string>>();

  const fresh = (expiresAt: number | undefined) =>
    expiresAt !== undefined && expiresAt - skewMs > clock.now();

  const usable = async (data: ConnectionData): Promise<string | undefined> => {
    const { accessToken, accessTokenExpiresAt } = data.credential;
    if (data.state !== 'connected' || !accessToken || !fresh(accessTokenExpiresAt)) return undefined;
    const token = await vault.open(data.id, 'accessToken', accessToken);
    cache.set(data.id, { token, expiresAt: accessTokenExpiresAt!, generation: data.generation });
    return token;
  };

  const reread = async (id: string): Promise<ConnectionRecord> => {
    const record = await connections.get(id);
    if (!record) throw connectionErrors.notFound(id);
    return record;
  };

  const failIfUnusable = (data: ConnectionData) => {
    if (data.state === 'needs-reauth' || data.state === 'needs-consent' || data.state === 'error')
      throw needsReauth(data.id, data.stateReason ?? `the connection is in state ${data.state}`);
  };

  const withTimeout = <T>(work: Promise<T>, host: string): Promise<T> => {
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new UpstreamError('timeout', host)), options.refreshTimeoutMs);
    });
    return Promise.race([work, timeout]).finally(() => clearTimeout(timer));
  };

  /** Holding the lease: re-read, renew, CAS. */
  const renewHoldingLease = async (
    id: string,
    seenHash: string | undefined,
    force: boolean,
  ): Promise<string> => {
    let record = await reread(id);
    failIfUnusable(record.data);
    // Someone else renewed between our first read and the lease: theirs is good.
    if (!force || record.data.credential.refreshTokenHash !== seenHash) {
      const theirs = await usable(record.data);
      if (theirs) return theirs;
    }
    const sealedRefresh = record.data.credential.refreshToken;
    const refreshToken = sealedRefresh ? await vault.open(id, 'refreshToken', sealedRefresh) : undefined;
    let tokens: TokenSet;
    try {
      tokens = await withTimeout(renew(record.data, refreshToken), 'token endpoint');
    } catch (error) {
      if (
        error instanceof OAuthError &&
        (error.error === 'invalid_grant' || error.error === 'interaction_required')
      ) {
        return loseWithInvalidGrant(record, error);
      }
      throw transientFailure(id, error);
    }
    const credential: StoredCredential = {
      accessToken: await vault.seal(id, 'accessToken', tokens.accessToken),
      accessTokenExpiresAt: tokens.expiresAt,
      // A server that does not rotate keeps the old refresh token valid (RFC 6749 §6).
      ...(tokens.refreshToken
        ? {
            refreshToken: await vault.seal(id, 'refreshToken', tokens.refreshToken),
            refreshTokenHash: tokenHash(tokens.refreshToken),
          }
        : sealedRefresh
          ? { refreshToken: sealedRefresh, refreshTokenHash: record.data.credential.refreshTokenHash! }
          : {}),
      ...(tokens.scope !== undefined ? { scope: tokens.scope } : {}),
    };
    for (;;) {
      const written = await connections.replaceCredential(record, credential);
      if (written) {
        cache.set(id, {
          token: tokens.accessToken,
          expiresAt: tokens.expiresAt,
          generation: written.data.generation,
        });
        logger.info('connection token renewed', { connectionId: id, generation: written.data.generation });
        return tokens.accessToken;
      }
      const current = await reread(id);
      // The record changed for another reason (a rename, a rotation): write our credential over it.
      if (
        current.data.credential.refreshTokenHash === record.data.credential.refreshTokenHash &&
        current.data.generation === record.data.generation
      ) {
        record = current;
        continue;
      }
      // The credential itself was replaced (a reconnect): it wins; ours is dropped unused.
      const theirs = await usable(current.data);
      if (theirs) return theirs;
      failIfUnusable(current.data);
      throw connectionErrors.conflict(id);
    }
  };

  const loseWithInvalidGrant = async (tried: ConnectionRecord, error: OAuthError): Promise<string> => {
    for (;;) {
      const current = await reread(tried.id);
      if (current.data.generation !== tried.data.generation) {
        // Someone renewed or reconnected meanwhile; our refresh token was simply superseded.
        const theirs = await usable(current.data);
        if (theirs) return theirs;
        failIfUnusable(current.data);
        throw needsReauth(tried.id, 'the credential changed while it was being renewed; retry');
      }
      const reason = `the identity provider refused the refresh token (${error.error}${error.codes[0] ? `, AADSTS${error.codes[0]}` : ''}).`;
      const marked = await connections.setState(current, 'needs-reauth', reason);
      if (marked) {
        cache.delete(tried.id);
        logger.warn('connection needs re-authentication', {
          connectionId: tried.id,
          error: error.error,
          codes: error.codes,
        });
        throw needsReauth(tried.id, reason);
      }
    }
  };

  const transientFailure = (id: string, error: unknown): ConnectionError => {
    if (error instanceof UpstreamError)
      return new ConnectionError(
        error.failure === 'timeout' ? 504 : 502,
        'TokenEndpointUnavailable',
        `Renewing the token of connection '${id}' failed: ${error.message}. The connection is unchanged; retry later.`,
      );
    if (error instanceof OAuthError)
      return new ConnectionError(
        502,
        'TokenRefreshFailed',
        `The token endpoint at ${error.host} refused to renew connection '${id}': ${error.message}. The connection is unchanged.`,
      );
    if (error instanceof ConnectionError) return error;
    logger.error('connection token renewal failed', { connectionId: id, error });
    return new ConnectionError(
      502,
      'TokenRefreshFailed',
      `Renewing the token of connection '${id}' failed; the connection is unchanged.`,
    );
  };

  /** The cross-process part: wait for the lease, or for someone else's result. */
  const renewOnce = async (record: ConnectionRecord, force: boolean): Promise<string> => {
    const id = record.id;
    const seenHash = record.data.credential.refreshTokenHash;
    const seenGeneration = record.data.generation;
    const deadline = clock.now() + options.leaseMs + options.refreshTimeoutMs;
    for (;;) {
      const lease = await leases.tryAcquire(id);
      if (lease) {
        try {
          return await renewHoldingLease(id, seenHash, force);
        } finally {
          await lease.release();
        }
      }
      await sleep(pollMs / 2 + Math.random() * pollMs);
      const current = await reread(id);
      if (current.data.generation !== seenGeneration) {
        const theirs = await usable(current.data);
        if (theirs) return theirs;
        failIfUnusable(current.data);
      }
      if (clock.now() > deadline)
        throw new ConnectionError(
          503,
          'TokenRefreshInProgress',
          `Connection '${id}' is being renewed by another Behalf process that has not finished; retry shortly.`,
        );
    }
  };

  const singleFlight = (record: ConnectionRecord, force: boolean): Promise<string> => {
    let running = inflight.get(record.id);
    if (!running) {
      running = renewOnce(record, force).finally(() => inflight.delete(record.id));
      inflight.set(record.id, running);
    }
    return running;
  };

  return {
    async accessToken(record) {
      const cached = cache.get(record.id);
      if (
        cached &&
        cached.generation >= record.data.generation &&
        fresh(cached.expiresAt) &&
        record.data.state === 'connected'
      )
        return cached.token;
      failIfUnusable(record.data);
      return (await usable(record.data)) ?? singleFlight(record, false);
    },
    async renewAfterRejection(record, rejectedToken) {
      const cached = cache.get(record.id);
      if (cached && cached.token !== rejectedToken && fresh(cached.expiresAt)) return cached.token;
      cache.delete(record.id);
      const current = await reread(record.id);
      failIfUnusable(current.data);
      return singleFlight(current, true);
    },
    forget(connectionId) {
      cache.delete(connectionId);
    },
  };
}
