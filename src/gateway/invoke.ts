import { performance } from 'node:perf_hooks';
import type { Clock } from '../core/clock.ts';
import { systemClock } from '../core/clock.ts';
import type { Random } from '../core/ids.ts';
import { timeOrderedUuid } from '../core/ids.ts';
import type { Logger } from '../core/logger.ts';
import { isWireError } from '../core/errors.ts';
import type { AuditLog, AuditOutcome } from '../connections/audit-log.ts';
import type { Caller } from '../connections/caller-verifier.ts';
import type { ConnectionRecord, ConnectionRepository } from '../connections/connection-repository.ts';
import type { ConnectorSharing } from '../connections/connector-sharing.ts';
import type { ConnectorSource, LoadedConnector } from '../connections/connector-source.ts';
import type { CredentialResolver, InjectedCredential } from '../connections/credentials.ts';
import type { ConsentCard } from '../connections/errors.ts';
import { ConnectionError } from '../connections/errors.ts';
import type { OutboundHttp, OutboundResponse } from '../connections/outbound-http.ts';
import { UpstreamError } from '../connections/outbound-http.ts';
import {
  applyRequestPolicies,
  applyResponsePolicies,
  bodyMayHold,
  policiesFor,
  PolicyError,
  responsePolicyTargets,
  templateFor,
} from '../connectors/index.ts';
import type { ConnectorModel, Operation } from '../connectors/model.ts';
import type { InboundResponse, OutboundRequest } from '../connectors/policies/types.ts';
import { resolveConnection } from './connection-resolution.ts';
import { transportFailure, upstreamFailure, upstreamMessage } from './failures.ts';
import type { Arguments } from './request-builder.ts';
import { buildRequest } from './request-builder.ts';

/**
 * Runs one connector operation as the caller: connector and sharing check → connection (the
 * caller's own, or a shared one) → request from the definition → request policies → credential →
 * pooled outbound call (429/503 retried by the client) → one renewal and retry on 401 → response
 * policies → result; every invocation, successful or not, becomes one audit entry.
 */
export interface InvokeRequest {
  readonly connectorId: string;
  /** Absent: the caller's own connection, SSO, or a shared connection, in that order. */
  readonly connectionId?: string;
  readonly operationId: string;
  readonly arguments?: Arguments;
  readonly correlationId?: string;
  /** The agent or tool host, when it is not the token's client. */
  readonly agent?: string;
}

export interface InvokeResult {
  readonly status: number;
  readonly contentType: string | undefined;
  /** Parsed JSON (or text); read lazily when no response policy had to parse it. */
  readonly body: unknown;
  /** The upstream body as received, when no policy changed it: an HTTP edge can relay it as is. */
  readonly rawBody?: Buffer;
  readonly connectionId: string;
  readonly correlationId: string;
}

export interface Gateway {
  invoke(caller: Caller, request: InvokeRequest): Promise<InvokeResult>;
  /** The connector, once the caller may use it (403 `ConnectorNotShared` otherwise). */
  connectorFor(caller: Caller, connectorId: string): Promise<LoadedConnector>;
  /** APIM's path style: finds the operation whose method and path template match. */
  operationFor(
    caller: Caller,
    connectorId: string,
    method: string,
    path: string,
  ): Promise<{ operation: Operation; pathArguments: Record<string, string> }>;
}

export interface GatewayOptions {
  readonly connectors: ConnectorSource;
  readonly connections: ConnectionRepository;
  readonly sharing: ConnectorSharing;
  readonly credentials: CredentialResolver;
  readonly http: OutboundHttp;
  readonly audit: AuditLog;
  readonly random: Random;
  readonly clock?: Clock;
  readonly logger: Logger;
  readonly publicUrl: () => string;
  readonly timeoutMs?: number;
  readonly consentCard?: (caller: Caller, connector: LoadedConnector) => ConsentCard;
}

const MAX_RESPONSE_BYTES = 8 * 1024 * 1024;

function outcomeOf(error: unknown): { outcome: AuditOutcome; code?: string; upstreamStatus?: number } {
  if (error instanceof ConnectionError) {
    const upstream = error.details.upstreamStatus;
    const outcome: AuditOutcome = error.details.consentCard
      ? 'consent-required'
      : upstream !== undefined || error.code.startsWith('Upstream')
        ? 'upstream-error'
        : error.status === 403 || error.status === 404 || error.status === 401
          ? 'denied'
          : error.status === 400
            ? 'invalid-request'
            : 'failure';
    return { outcome, code: error.code, ...(upstream !== undefined ? { upstreamStatus: upstream } : {}) };
  }
  if (isWireError(error)) return { outcome: error.status < 500 ? 'denied' : 'failure' };
  return { outcome: 'failure' };
}

function contentTypeOf(response: OutboundResponse): string | undefined {
  const header = response.headers['content-type'];
  return Array.isArray(header) ? header[0] : header;
}

function parseBody(body: Buffer, contentType: string | undefined): unknown {
  if (body.length === 0) return undefined;
  if (contentType && /[/+]json\b/i.test(contentType)) {
    try {
      return JSON.parse(body.toString('utf8'));
    } catch {
      // A body that claims JSON but is not: hand it over as text rather than fail the call.
    }
  }
  return body.toString('utf8');
}

/**
 * What the gateway needs to know about an operation of a loaded connector, worked out once per
 * connector version instead of on every call: which policies can touch its request or its response.
 */
interface OperationPlan {
  readonly operation: Operation;
  readonly requestPolicies: boolean;
  /**
   * The body properties its response policies act on, for a response that succeeded, then for one
   * that failed (responsePolicyTargets); undefined: the policies must see every response.
   */
  readonly responseTargets: readonly [readonly string[] | undefined, readonly string[] | undefined];
  readonly responsePolicies: boolean;
}

function planOperations(model: ConnectorModel): Map<string, OperationPlan> {
  const plans = new Map<string, OperationPlan>();
  for (const operation of model.operations) {
    const policies = policiesFor(model.policies, operation.operationId);
    const key = operation.operationId.toLowerCase();
    if (plans.has(key)) continue; // the first of a case-insensitive duplicate, as find() chose
    const responseTargets = [false, true].map((failed) =>
      responsePolicyTargets(model.policies, operation.operationId, failed),
    ) as [readonly string[] | undefined, readonly string[] | undefined];
    plans.set(key, {
      operation,
      // The same test applyRequestPolicies makes (an unknown template is refused there, so it counts).
      requestPolicies: policies.some((p) => {
        const template = templateFor(p.templateId);
        return p.section === 'request' && (!template || template.request !== undefined);
      }),
      responseTargets,
      responsePolicies: responseTargets.some((targets) => targets === undefined || targets.length > 0),
    });
  }
  return plans;
}

function flatHeaders(headers: OutboundResponse['headers']): Record<string, string> {
  const flat: Record<string, string> = {};
  for (const [name, value] of Object.entries(headers))
    if (value !== undefined) flat[name] = Array.isArray(value) ? value.join(', ') : value;
  return flat;
}

function encodeBody(request: OutboundRequest): string | undefined {
  if (request.body === undefined) return undefined;
  if (typeof request.body === 'string') return request.body;
  const type = Object.entries(request.headers).find(([k]) => k.toLowerCase() === 'content-type')?.[1];
  if (type && /x-www-form-urlencoded/i.test(type))
    return new URLSearchParams(
      Object.entries(request.body as Record<string, unknown>).map(([k, v]) => [k, String(v)]),
    ).toString();
  return JSON.stringify(request.body);
}

function targetUrl(request: OutboundRequest, credential: InjectedCredential): URL {
  const url = new URL(request.url);
  const hasQuery = Object.keys(request.query).length > 0 || Object.keys(credential.query).length > 0;
  if (!hasQuery) return url;
  // One serialisation (searchParams.set re-serialises on every call); the credential's values win.
  const search = new URLSearchParams(url.search);
  for (const [name, value] of Object.entries(request.query)) search.set(name, value);
  for (const [name, value] of Object.entries(credential.query)) search.set(name, value);
  url.search = search.toString();
  return url;
}

export function createGateway(options: GatewayOptions): Gateway {
  const { connectors, connections, sharing, credentials, http, audit, random, logger } = options;
  const clock = options.clock ?? systemClock;

  const loadFor = async (caller: Caller, connectorId: string): Promise<LoadedConnector> => {
    const connector = await connectors.load(caller.tenantId, connectorId);
    if (!(await sharing.allows(caller.tenantId, connectorId, caller)))
      throw new ConnectionError(
        403,
        'ConnectorNotShared',
        `${connector.model.title} is not shared with you.`,
        {
          remediation: `You might not have access to ${connector.model.title}: ask its owner or an administrator to share the connector with you.`,
        },
      );
    return connector;
  };

  // Keyed by the model object: a new connector version is a new model, so plans never outlive it.
  const plans = new WeakMap<ConnectorModel, Map<string, OperationPlan>>();
  const operationById = (connector: LoadedConnector, operationId: string): OperationPlan => {
    let byId = plans.get(connector.model);
    if (!byId) {
      byId = planOperations(connector.model);
      plans.set(connector.model, byId);
    }
    const plan = byId.get(operationId.toLowerCase());
    if (!plan)
      throw new ConnectionError(
        404,
        'OperationNotFound',
        `${connector.model.title} has no operation '${operationId}'.`,
        { remediation: `Use one of: ${connector.model.operations.map((o) => o.operationId).join(', ')}.` },
      );
    if (plan.operation.needsCustomCode)
      throw new ConnectionError(
        501,
        'CustomCodeNotSupported',
        `Operation '${plan.operation.operationId}' is implemented by the connector's C# custom code, which Behalf does not run.`,
      );
    return plan;
  };

  const send = async (request: OutboundRequest, credential: InjectedCredential): Promise<OutboundResponse> =>
    http.request({
      method: request.method,
      url: targetUrl(request, credential),
      headers: { accept: 'application/json', ...request.headers, ...credential.headers },
      ...(request.body !== undefined ? { body: encodeBody(request)! } : {}),
      ...(options.timeoutMs !== undefined ? { timeoutMs: options.timeoutMs } : {}),
      maxResponseBytes: MAX_RESPONSE_BYTES,
    });

  const contextFor = (connector: LoadedConnector, connection: ConnectionRecord, operation: Operation) => {
    const connectionParameters: Record<string, string> = {};
    for (const [name, value] of Object.entries(connection.data.parameters))
      connectionParameters[name] = String(value);
    const publicBase = options.publicUrl().replace(/\/+$/, '');
    const baseUrl = (connector.model.baseUrl ?? '').replace(/\/+$/, '');
    return {
      operationId: operation.operationId,
      connectionParameters,
      ...(connector.model.baseUrl !== undefined ? { baseUrl: connector.model.baseUrl } : {}),
      rewriteNextLink: (link: string) =>
        link.startsWith(baseUrl)
          ? `${publicBase}/apim/${encodeURIComponent(connector.id)}/${encodeURIComponent(connection.id)}${link.slice(baseUrl.length)}`
          : link,
    };
  };

  async function run(
    caller: Caller,
    request: InvokeRequest,
    correlationId: string,
    note: (fields: {
      connection?: ConnectionRecord;
      credential?: InjectedCredential;
      upstreamStatus?: number;
    }) => void,
  ): Promise<InvokeResult> {
    const connector = await loadFor(caller, request.connectorId);
    const plan = operationById(connector, request.operationId);
    const operation = plan.operation;
    const connection = await resolveConnection({
      caller,
      connector,
      connectionId: request.connectionId,
      connections,
      credentials,
      ...(options.consentCard ? { consentCard: options.consentCard } : {}),
    });
    note({ connection });
    const model = connector.model;
    if (!model.baseUrl)
      throw new ConnectionError(400, 'ConnectorMisconfigured', `${model.title} has no host (serviceUrl).`);
    const built = buildRequest(operation, model.baseUrl, request.arguments ?? {});
    const hasPolicies = plan.requestPolicies || plan.responsePolicies;
    const policyContext = hasPolicies ? contextFor(connector, connection, operation) : undefined;
    let outbound: OutboundRequest;
    try {
      outbound = plan.requestPolicies
        ? await applyRequestPolicies(model.policies, built, policyContext!)
        : built;
    } catch (error) {
      if (error instanceof PolicyError)
        throw new ConnectionError(502, 'PolicyFailed', error.message, {
          remediation: `The connector ${model.title} has a policy Behalf cannot apply; tell its owner.`,
        });
      throw error;
    }
    let credential = await credentials.resolve(caller, connection, connector);
    note({ connection, credential });
    let response: OutboundResponse;
    let host: string;
    try {
      host = new URL(outbound.url).host;
      response = await send(outbound, credential);
      if (response.status === 401) {
        const renewed = await credential.renew();
        if (renewed) {
          credential = renewed;
          note({ connection, credential });
          response = await send(outbound, credential);
        }
      }
    } catch (error) {
      if (error instanceof UpstreamError) throw transportFailure(error, { connectorTitle: model.title });
      throw error;
    }
    note({ connection, credential, upstreamStatus: response.status });
    const contentType = contentTypeOf(response);
    // Most responses carry nothing a response policy acts on (a list of one page has no next link):
    // then they are relayed as received, without a parse and a re-serialisation.
    const targets = plan.responseTargets[response.status >= 400 ? 1 : 0];
    if (targets !== undefined && !bodyMayHold(response.body, targets)) {
      if (response.status >= 400) {
        const body = parseBody(response.body, contentType);
        throw failure(response.status, body, flatHeaders(response.headers)['retry-after']);
      }
      // Nothing to change: the body is relayed as received and parsed only if someone reads it.
      const raw = response.body;
      let parsed: { value: unknown } | undefined;
      return {
        status: response.status,
        contentType,
        get body() {
          parsed ??= { value: parseBody(raw, contentType) };
          return parsed.value;
        },
        rawBody: raw,
        connectionId: connection.id,
        correlationId,
      };
    }
    const outcome = await applyResponsePolicies(
      model.policies,
      {
        status: response.status,
        headers: flatHeaders(response.headers),
        body: parseBody(response.body, contentType),
      },
      { ...policyContext!, request: outbound },
      { bodyOwned: true },
    );
    const inbound: InboundResponse = outcome.response;
    if (outcome.connectionUnauthenticated && connection.data.credential.refreshToken !== undefined)
      await connections.setState(
        connection,
        'needs-reauth',
        `${model.title} reported the sign-in as no longer valid.`,
      );
    if (inbound.status >= 400) throw failure(inbound.status, inbound.body, inbound.headers['retry-after']);
    return {
      status: inbound.status,
      contentType,
      body: inbound.body,
      connectionId: connection.id,
      correlationId,
    };

    function failure(status: number, body: unknown, retryAfter: string | undefined): ConnectionError {
      const message = upstreamMessage(body);
      return upstreamFailure(
        status,
        {
          connectorTitle: model.title,
          operation: operation.summary || operation.operationId,
          host,
          ...(message !== undefined ? { upstreamMessage: message } : {}),
          delegated: credential.mode === 'delegated',
        },
        retryAfter,
      );
    }
  }

  return {
    async invoke(caller, request) {
      const started = performance.now();
      const correlationId = request.correlationId ?? timeOrderedUuid(clock.now(), random);
      let connection: ConnectionRecord | undefined;
      let credential: InjectedCredential | undefined;
      let upstreamStatus: number | undefined;
      const finish = async (outcome: AuditOutcome, code?: string, status?: number) => {
        const durationMs = Math.round((performance.now() - started) * 1000) / 1000;
        const upstream = status ?? upstreamStatus;
        await audit.record({
          tenantId: caller.tenantId,
          callerObjectId: caller.objectId,
          ...(caller.upn !== undefined ? { callerUpn: caller.upn } : {}),
          ...(request.agent !== undefined
            ? { clientId: request.agent }
            : caller.clientId !== undefined
              ? { clientId: caller.clientId }
              : {}),
          connectorId: request.connectorId,
          operationId: request.operationId,
          ...(connection ? { connectionId: connection.id } : {}),
          ...(credential ? { mode: credential.mode, scopes: credential.scopes } : {}),
          outcome,
          ...(code !== undefined ? { errorCode: code } : {}),
          ...(upstream !== undefined ? { upstreamStatus: upstream } : {}),
          durationMs,
          correlationId,
        });
        return durationMs;
      };
      try {
        const result = await run(caller, request, correlationId, (fields) => {
          connection = fields.connection ?? connection;
          credential = fields.credential ?? credential;
          upstreamStatus = fields.upstreamStatus ?? upstreamStatus;
        });
        await finish('success');
        return result;
      } catch (error) {
        const { outcome, code, upstreamStatus: status } = outcomeOf(error);
        const durationMs = await finish(outcome, code, status);
        logger.info('operation failed', {
          correlationId,
          connectorId: request.connectorId,
          operationId: request.operationId,
          outcome,
          code,
          durationMs,
        });
        if (error instanceof ConnectionError) throw error.withCorrelationId(correlationId);
        if (isWireError(error)) throw error;
        logger.error('operation crashed', { correlationId, error });
        throw new ConnectionError(500, 'InternalError', 'The gateway failed; the details are in its log.', {
          correlationId,
        });
      }
    },

    connectorFor: loadFor,

    async operationFor(caller, connectorId, method, path) {
      const connector = await loadFor(caller, connectorId);
      const wanted = method.toLowerCase();
      const segments = path.replace(/^\/+|\/+$/g, '').split('/');
      const basePath = connector.model.baseUrl
        ? new URL(connector.model.baseUrl).pathname.replace(/^\/+|\/+$/g, '')
        : '';
      const relative =
        basePath && path.replace(/^\/+/, '').startsWith(basePath + '/')
          ? path.replace(/^\/+/, '').slice(basePath.length)
          : path;
      const rel = relative.replace(/^\/+|\/+$/g, '').split('/');
      for (const candidate of [rel, segments]) {
        for (const operation of connector.model.operations) {
          if (operation.method !== wanted) continue;
          const template = operation.path.replace(/^\/+|\/+$/g, '').split('/');
          if (template.length !== candidate.length) continue;
          const pathArguments: Record<string, string> = {};
          const matches = template.every((part, i) => {
            const variable = /^\{(.+)\}$/.exec(part);
            if (variable) {
              pathArguments[variable[1]!] = decodeURIComponent(candidate[i]!);
              return true;
            }
            return part.toLowerCase() === candidate[i]!.toLowerCase();
          });
          if (matches) return { operation, pathArguments };
        }
      }
      throw new ConnectionError(
        404,
        'OperationNotFound',
        `${connector.model.title} has no operation for ${method.toUpperCase()} ${path}.`,
      );
    },
  };
}
