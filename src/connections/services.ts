import type { Clock } from '../core/clock.ts';
import type { Random } from '../core/ids.ts';
import type { Logger } from '../core/logger.ts';
import type { Envelope } from '../crypto/envelope.ts';
import type { RecordStore } from '../storage/record-store.ts';
import type { AppCredential } from './acquisition/app-credential.ts';
import { createOnBehalfOf } from './acquisition/on-behalf-of.ts';
import type { OnBehalfOf } from './acquisition/on-behalf-of.ts';
import { createWorkloadIdentityIssuer } from './acquisition/workload-identity.ts';
import type { WorkloadIdentityIssuer } from './acquisition/workload-identity.ts';
import type { AuditLog } from './audit-log.ts';
import { createAuditLog } from './audit-log.ts';
import type { CallerVerifier } from './caller-verifier.ts';
import { createCallerVerifier } from './caller-verifier.ts';
import type { ConnectionRepository } from './connection-repository.ts';
import { createConnectionRepository } from './connection-repository.ts';
import type { ConnectorSharing } from './connector-sharing.ts';
import { createConnectorSharing } from './connector-sharing.ts';
import type { ConnectorSource } from './connector-source.ts';
import type { ConsentFlow } from './consent-flow.ts';
import { createConsentFlow } from './consent-flow.ts';
import { createConsentTickets } from './consent-tickets.ts';
import type { CredentialResolver } from './credentials.ts';
import { createCredentialResolver } from './credentials.ts';
import type { Grants } from './grants.ts';
import { createGrants } from './grants.ts';
import type { OutboundHttp } from './outbound-http.ts';
import { createLeaseManager } from './refresh-lease.ts';
import type { TokenRefresher } from './token-refresher.ts';
import { createTokenRefresher } from './token-refresher.ts';
import type { Vault, VaultCipher } from './vault.ts';
import { createVault, envelopeCipher } from './vault.ts';

/**
 * The connections part wired together from its collaborators: one call for the composition root
 * (and for tests that need the whole part over real HTTP), instead of a dozen factories in main.ts.
 */
export interface ConnectionServicesOptions {
  readonly store: RecordStore;
  readonly clock: Clock;
  readonly random: Random;
  readonly logger: Logger;
  readonly envelope: Envelope;
  /** Defaults to the envelope; tests may pass their own. */
  readonly cipher?: VaultCipher;
  readonly http: OutboundHttp;
  readonly connectors: ConnectorSource;
  readonly publicUrl: () => string;
  /** The identity provider the gateway trusts and exchanges tokens with (base URL, no tenant). */
  readonly authority: () => string;
  /** Behalf Connections: its appId and how it authenticates (hop 1 of OBO, SSO consent). */
  readonly behalfConnections: () => AppCredential;
  /** Connector apps' exposed delegated scopes, for SSO consent links (see ConsentFlowOptions). */
  readonly exposedScopes?: (tenantId: string, appId: string) => Promise<readonly string[]>;
  /** HMAC key of consent links. */
  readonly ticketKey: Buffer;
  readonly leaseMs?: number;
  readonly refreshTimeoutMs?: number;
}

export interface ConnectionServices {
  readonly connections: ConnectionRepository;
  readonly vault: Vault;
  readonly issuer: WorkloadIdentityIssuer;
  readonly grants: Grants;
  readonly refresher: TokenRefresher;
  readonly onBehalfOf: OnBehalfOf;
  readonly credentials: CredentialResolver;
  readonly consent: ConsentFlow;
  readonly sharing: ConnectorSharing;
  readonly audit: AuditLog;
  readonly verifier: CallerVerifier;
}

/**
 * How long a token refresh may take, and how long its cross-process lease lasts. A holder that dies
 * mid-refresh is replaced after at most lease + timeout; Behalf's own identity provider accepts a
 * rotated refresh token for longer than that (its `refreshTokenReuseGrace`), so the node that takes
 * over can still redeem the token the dead one sent, even if the provider had already rotated it.
 */
export const DEFAULT_REFRESH_TIMEOUT_MS = 15_000;
export const DEFAULT_REFRESH_LEASE_MS = 30_000;

export function createConnectionServices(options: ConnectionServicesOptions): ConnectionServices {
  const { store, clock, random, logger, http, connectors, publicUrl } = options;
  const connections = createConnectionRepository({ store, clock, random });
  const vault = createVault(options.cipher ?? envelopeCipher(options.envelope));
  const issuer = createWorkloadIdentityIssuer({
    store,
    envelope: options.envelope,
    clock,
    random,
    publicUrl,
  });
  const grants = createGrants({ http, clock, issuer, connectors });
  const refreshTimeoutMs = options.refreshTimeoutMs ?? DEFAULT_REFRESH_TIMEOUT_MS;
  const leaseMs = options.leaseMs ?? DEFAULT_REFRESH_LEASE_MS;
  const refresher = createTokenRefresher({
    connections,
    vault,
    leases: createLeaseManager({ store, clock, random, leaseMs }),
    clock,
    logger,
    renew: grants.renew,
    leaseMs,
    refreshTimeoutMs,
  });
  const onBehalfOf = createOnBehalfOf({ http, clock, issuer });
  const tickets = createConsentTickets({ key: options.ticketKey, clock });
  const consent = createConsentFlow({
    store,
    clock,
    random,
    vault,
    grants,
    connectors,
    connections,
    refresher,
    tickets,
    publicUrl,
    behalfConnections: options.behalfConnections,
    ...(options.exposedScopes ? { exposedScopes: options.exposedScopes } : {}),
  });
  const credentials = createCredentialResolver({
    grants,
    onBehalfOf,
    refresher,
    vault,
    behalfConnections: options.behalfConnections,
    consentCard: consent.card,
  });
  const behalfId = () => options.behalfConnections().clientId;
  const verifier = createCallerVerifier({
    http,
    clock,
    authority: options.authority,
    audiences: () => [behalfId(), `api://${behalfId()}`],
  });
  return {
    connections,
    vault,
    issuer,
    grants,
    refresher,
    onBehalfOf,
    credentials,
    consent,
    sharing: createConnectorSharing({ store, clock }),
    audit: createAuditLog({
      store,
      clock,
      random,
      onWriteError: (error, entries) =>
        logger.error('audit entries could not be written; kept for the next attempt', { entries, error }),
    }),
    verifier,
  };
}
