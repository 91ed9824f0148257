import type { ConnectorModel } from '../connectors/model.ts';
import type { IdentityMode, Tool } from './tool-model.ts';

/**
 * The ports agents/ needs from the rest of Behalf, passed in by the composition root. agents/ may not
 * import storage or connections (test/architecture.test.ts), so these are structural: the RecordStore
 * satisfies DocumentStore as is, and the gateway's invoke function is adapted to InvokeTool in main.ts.
 */

/** The person a tool runs for, from the validated token or session (never from the request body). */
export interface Caller {
  readonly tenantId: string;
  readonly userObjectId: string;
  readonly displayName?: string;
  readonly userPrincipalName?: string;
  /** Behalf administrators see every user's runs. */
  readonly isAdministrator?: boolean;
  /**
   * The validated token the person presented, for the invoke port to use as the on-behalf-of
   * assertion (exchanged for a new, downstream token; never forwarded as is, never logged or stored).
   */
  readonly assertion?: string;
}

/** Where to send the person so they can create their connection (the consent card). */
export interface ConsentCard {
  readonly connectorId: string;
  readonly connectorName: string;
  /** The sign-in/consent URL; opening it creates the per-user connection. */
  readonly url: string;
  readonly message: string;
}

export type ToolOutcome =
  | {
      readonly kind: 'ok';
      readonly status: number;
      readonly body: unknown;
      readonly connectionId?: string;
    }
  | { readonly kind: 'consent-required'; readonly card: ConsentCard }
  | {
      readonly kind: 'failed';
      /** The downstream HTTP status, when there was one. */
      readonly status?: number;
      readonly code: string;
      readonly message: string;
      readonly connectionId?: string;
    };

export interface ToolInvocation {
  readonly tool: Tool;
  readonly identity: IdentityMode;
  /** Final operation arguments by parameter name (already validated, presets applied). */
  readonly arguments: Readonly<Record<string, unknown>>;
}

/**
 * Runs one operation for a caller through the connection machinery. Delegated: the caller's own
 * per-user connection; app-only: the tool's shared connection. Never receives the caller's token:
 * MCP forbids token passthrough (MCP authorization spec 2025-11-25, "Token Passthrough").
 */
export type InvokeTool = (caller: Caller, invocation: ToolInvocation) => Promise<ToolOutcome>;

/** Whether the caller already has a usable connection for a delegated tool (for tools/list and hints). */
export type ConnectionProbe = (caller: Caller, connectorId: string) => Promise<'connected' | 'missing'>;

/** The connector model and its API definition document (for `$ref`s in schemas). */
export interface ConnectorSource {
  readonly displayName: string;
  readonly model: ConnectorModel;
  readonly document: unknown;
}

export type LoadConnector = (tenantId: string, connectorId: string) => Promise<ConnectorSource | undefined>;

// --- a structural subset of storage's RecordStore ---------------------------------------------------

export interface StoredDocument<T> {
  readonly kind: string;
  readonly id: string;
  readonly partition: string;
  readonly version: number;
  readonly data: T;
  readonly expiresAt?: number;
}

export interface DocumentKeys {
  readonly uniqueKeys?: readonly string[];
  readonly indexKeys?: readonly string[];
  readonly expiresAt?: number;
}

export interface NewDocument<T> extends DocumentKeys {
  readonly kind: string;
  readonly id: string;
  readonly partition: string;
  readonly data: T;
}

export interface DocumentListOptions {
  readonly partition?: string;
  readonly after?: string;
  readonly limit?: number;
  readonly descending?: boolean;
}

export interface DocumentStore {
  get<T>(kind: string, id: string): Promise<StoredDocument<T> | undefined>;
  insert<T>(record: NewDocument<T>): Promise<StoredDocument<T>>;
  update<T>(
    kind: string,
    id: string,
    expectedVersion: number,
    data: T,
    keys?: DocumentKeys,
  ): Promise<StoredDocument<T> | undefined>;
  delete(kind: string, id: string, expectedVersion?: number): Promise<boolean>;
  findByIndex<T>(kind: string, key: string, options?: DocumentListOptions): Promise<StoredDocument<T>[]>;
  list<T>(kind: string, options?: DocumentListOptions): Promise<StoredDocument<T>[]>;
}
