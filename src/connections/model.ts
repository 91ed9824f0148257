/**
 * The connection model: one connector, one owner (a person, or the connector itself for shared work),
 * the connection-parameter values and the state of its credential.
 *
 * A per-user connection is usable only by its owner (tenant + user object id). A shared connection runs
 * app-only (client credentials, API key, basic) for everyone the connector is shared with. A shared
 * connection can never become per-user: its credential was never the user's, so "converting" it would
 * silently keep running with the wrong identity (the seeds' stated limitation). Create a new one.
 */
export type ConnectionMode = 'per-user' | 'shared';

export type ConnectionState = 'connected' | 'needs-consent' | 'needs-reauth' | 'error';

export const CONNECTION_STATES: readonly ConnectionState[] = [
  'connected',
  'needs-consent',
  'needs-reauth',
  'error',
];

export interface ConnectionOwner {
  readonly tenantId: string;
  readonly userObjectId: string;
}

/** A vault ciphertext (opaque string produced by the vault cipher); never the plaintext. */
export type Sealed = string & { readonly __sealed: true };

/** The credential of a connection, every token sealed by the vault. */
export interface StoredCredential {
  readonly accessToken?: Sealed;
  /** Milliseconds since the epoch. */
  readonly accessTokenExpiresAt?: number;
  readonly refreshToken?: Sealed;
  /**
   * SHA-256 of the refresh token: the compare-and-swap key of a refresh, so two refreshers can tell
   * whether the token they used is still the current one without decrypting anything.
   */
  readonly refreshTokenHash?: string;
  readonly scope?: string;
}

export interface ConnectionData {
  readonly id: string;
  readonly tenantId: string;
  readonly connectorId: string;
  readonly displayName: string;
  readonly mode: ConnectionMode;
  /** Present exactly when mode is per-user. */
  readonly owner?: ConnectionOwner;
  /** The object id of whoever created it (for shared connections: the maker). */
  readonly createdBy: string;
  readonly parameterSetName?: string;
  /** Connection-parameter values that are not secure (`string`, `bool`, …). */
  readonly parameters: Readonly<Record<string, string | number | boolean>>;
  /** Values of `securestring` / `secureobject` parameters and `token:clientSecret`-like ones. */
  readonly secureParameters: Readonly<Record<string, Sealed>>;
  readonly state: ConnectionState;
  /** Why the connection is not `connected`, in words a person can act on. */
  readonly stateReason?: string;
  /**
   * Incremented on every credential change (refresh, reconnect). A refresher that loses a race with
   * `invalid_grant` marks the connection needs-reauth only if the generation it started from is still
   * current; otherwise someone else already replaced the credential and nothing is lost.
   */
  readonly generation: number;
  readonly credential: StoredCredential;
  readonly createdAt: number;
  readonly updatedAt: number;
}

/** The view any API may return: no credential, no secure value, only which secure values are set. */
export interface ConnectionView {
  readonly id: string;
  readonly tenantId: string;
  readonly connectorId: string;
  readonly displayName: string;
  readonly mode: ConnectionMode;
  readonly owner?: ConnectionOwner;
  readonly createdBy: string;
  readonly parameterSetName?: string;
  readonly parameters: Readonly<Record<string, string | number | boolean>>;
  readonly secureParametersSet: readonly string[];
  readonly state: ConnectionState;
  readonly stateReason?: string;
  readonly hasCredential: boolean;
  readonly accessTokenExpiresAt?: string;
  readonly createdAt: string;
  readonly updatedAt: string;
}

export function viewOf(connection: ConnectionData): ConnectionView {
  return {
    id: connection.id,
    tenantId: connection.tenantId,
    connectorId: connection.connectorId,
    displayName: connection.displayName,
    mode: connection.mode,
    ...(connection.owner ? { owner: connection.owner } : {}),
    createdBy: connection.createdBy,
    ...(connection.parameterSetName !== undefined ? { parameterSetName: connection.parameterSetName } : {}),
    parameters: connection.parameters,
    secureParametersSet: Object.keys(connection.secureParameters).sort(),
    state: connection.state,
    ...(connection.stateReason !== undefined ? { stateReason: connection.stateReason } : {}),
    hasCredential:
      connection.credential.accessToken !== undefined || connection.credential.refreshToken !== undefined,
    ...(connection.credential.accessTokenExpiresAt !== undefined
      ? { accessTokenExpiresAt: new Date(connection.credential.accessTokenExpiresAt).toISOString() }
      : {}),
    createdAt: new Date(connection.createdAt).toISOString(),
    updatedAt: new Date(connection.updatedAt).toISOString(),
  };
}

/** Whether `caller` may run operations on `connection` (sharing of shared connections is checked by the caller). */
export function isOwnedBy(connection: ConnectionData, caller: ConnectionOwner): boolean {
  return (
    connection.mode === 'per-user' &&
    connection.owner !== undefined &&
    connection.owner.tenantId === caller.tenantId &&
    connection.owner.userObjectId === caller.userObjectId
  );
}
