/**
 * What policy templates transform: plain values a gateway can build from a real outbound request and
 * turn back into one. Header names keep the caller's spelling; lookups are case-insensitive.
 */
export interface OutboundRequest {
  readonly method: string;
  /** Absolute URL without the query string. */
  readonly url: string;
  readonly headers: Readonly<Record<string, string>>;
  readonly query: Readonly<Record<string, string>>;
  readonly body: unknown;
}

export interface InboundResponse {
  readonly status: number;
  readonly headers: Readonly<Record<string, string>>;
  readonly body: unknown;
}

export interface PolicyContext {
  readonly operationId: string;
  /** Connection parameter values of the connection in use (`token:customHost`, `keyVaultName`, …). */
  readonly connectionParameters: Readonly<Record<string, string>>;
  /** The operation's parameter values, for `{name}` placeholders in routerequesttoendpoint. */
  readonly parameters?: Readonly<Record<string, string>>;
  /** The connector's backend base URL (scheme://host/basePath). */
  readonly baseUrl?: string;
  /** The request as it was sent, for response-section expressions. */
  readonly request?: OutboundRequest;
  /** Performs setvaluefromurl's call; supplied by the gateway (connectors/ does no I/O). */
  readonly fetch?: (request: OutboundRequest) => Promise<InboundResponse>;
  /** Makes a backend paging link point back through the gateway (updatenextlink). */
  readonly rewriteNextLink?: (link: string) => string;
  /** Query values a polling trigger carries from its previous run (pollingtrigger). */
  readonly triggerState?: Readonly<Record<string, string>>;
}

export interface ResponseOutcome {
  readonly response: InboundResponse;
  /** setconnectionstatustounauthenticated matched: the connection must be re-authenticated. */
  readonly connectionUnauthenticated: boolean;
  /** pollingtrigger: the items of this poll and the state for the next one. */
  readonly trigger?: { readonly items: unknown; readonly state: Readonly<Record<string, string>> };
}

/** A policy that cannot be applied; the gateway turns it into a clear failed invocation. */
export class PolicyError extends Error {
  readonly templateId: string;
  constructor(templateId: string, message: string) {
    super(message);
    this.name = 'PolicyError';
    this.templateId = templateId;
  }
}
