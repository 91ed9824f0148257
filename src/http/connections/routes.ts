import type { FastifyError, FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { isWireError } from '../../core/errors.ts';
import type { Logger } from '../../core/logger.ts';
import type { AuditLog, AuditOutcome } from '../../connections/audit-log.ts';
import type { CallerVerifier } from '../../connections/caller-verifier.ts';
import type { ConnectionRepository } from '../../connections/connection-repository.ts';
import type { ConnectorSharing } from '../../connections/connector-sharing.ts';
import type { ConnectorSource } from '../../connections/connector-source.ts';
import { ConnectionError, connectionErrors } from '../../connections/errors.ts';
import type { Sealed } from '../../connections/model.ts';
import { viewOf } from '../../connections/model.ts';
import type { TokenRefresher } from '../../connections/token-refresher.ts';
import type { Vault } from '../../connections/vault.ts';
import type { RouteModule } from '../server.ts';
import { clientFaultMessage } from '../server.ts';

/**
 * The connections management API: create (per-user for oneself, shared app-only), list mine, delete;
 * share a connector with users or groups; query the audit. Secure values go in and never come out:
 * every answer is a ConnectionView.
 */
export interface ConnectionRoutesOptions {
  readonly verifier: CallerVerifier;
  readonly connections: ConnectionRepository;
  readonly connectors: ConnectorSource;
  readonly sharing: ConnectorSharing;
  readonly audit: AuditLog;
  readonly vault: Vault;
  readonly refresher: TokenRefresher;
  /** Who may create shared connections, share connectors and read everyone's audit. */
  readonly isAdministrator: (tenantId: string, objectId: string) => Promise<boolean>;
  readonly logger: Logger;
}

export const CONNECTIONS_PATH = '/v1.0/behalf/connections';
export const AUDIT_PATH = '/v1.0/behalf/audit';

const OUTCOMES: readonly AuditOutcome[] = [
  'success',
  'upstream-error',
  'denied',
  'consent-required',
  'invalid-request',
  'failure',
];

const bad = (message: string, parameter?: string) => connectionErrors.invalid(message, parameter);
const forbidden = (message: string) =>
  new ConnectionError(403, 'Forbidden', message, { remediation: 'Ask an administrator.' });

function errorHandler(logger: Logger) {
  return (error: FastifyError, request: FastifyRequest, reply: FastifyReply) => {
    if (isWireError(error)) return reply.code(error.status).headers(error.headers()).send(error.body());
    const status = error.statusCode;
    if (status !== undefined && status >= 400 && status < 500)
      return reply.code(status).send({ error: { code: 'BadRequest', message: clientFaultMessage(error) } });
    logger.error('connections API error', { method: request.method, url: request.url.split('?')[0], error });
    return reply
      .code(500)
      .send({ error: { code: 'InternalServerError', message: 'An internal error occurred.' } });
  };
}

const isRecord = (value: unknown): value is Record<string, unknown> =>
  typeof value === 'object' && value !== null && !Array.isArray(value);

const stringList = (value: unknown, name: string): string[] => {
  if (value === undefined) return [];
  if (!Array.isArray(value) || value.some((v) => typeof v !== 'string'))
    throw bad(`"${name}" must be an array of object ids.`, name);
  return value as string[];
};

export function connectionRoutes(options: ConnectionRoutesOptions): RouteModule {
  const { verifier, connections, connectors, sharing, audit, vault } = options;
  return (app: FastifyInstance) => {
    app.register(async (scope) => {
      scope.setErrorHandler(errorHandler(options.logger));
      const who = (request: FastifyRequest) => verifier.verify(request.headers.authorization);

      scope.post(CONNECTIONS_PATH, async (request, reply) => {
        const caller = await who(request);
        const body = request.body;
        if (!isRecord(body)) throw bad('The body must be a JSON object.');
        const { connectorId, mode = 'per-user', displayName, parameters = {}, secureParameters = {} } = body;
        if (typeof connectorId !== 'string' || connectorId === '')
          throw bad('"connectorId" is required.', 'connectorId');
        if (mode !== 'per-user' && mode !== 'shared') throw bad('"mode" must be per-user or shared.', 'mode');
        if (displayName !== undefined && typeof displayName !== 'string')
          throw bad('"displayName" must be text.', 'displayName');
        if (
          !isRecord(parameters) ||
          Object.values(parameters).some((v) => !['string', 'number', 'boolean'].includes(typeof v))
        )
          throw bad('"parameters" must map names to strings, numbers or booleans.', 'parameters');
        if (!isRecord(secureParameters) || Object.values(secureParameters).some((v) => typeof v !== 'string'))
          throw bad('"secureParameters" must map names to strings.', 'secureParameters');
        const connector = await connectors.load(caller.tenantId, connectorId);
        if (!(await sharing.allows(caller.tenantId, connectorId, caller)))
          throw forbidden(`${connector.model.title} is not shared with you.`);
        if (mode === 'shared' && !(await options.isAdministrator(caller.tenantId, caller.objectId)))
          throw forbidden('Only an administrator can create a shared (app-only) connection.');
        const id = connections.newId();
        const sealed: Record<string, Sealed> = {};
        for (const [name, value] of Object.entries(secureParameters))
          sealed[name] = await vault.seal(id, `param:${name}`, value as string);
        const record = await connections.create({
          id,
          tenantId: caller.tenantId,
          connectorId,
          ...(displayName !== undefined ? { displayName: displayName as string } : {}),
          mode,
          ...(mode === 'per-user'
            ? { owner: { tenantId: caller.tenantId, userObjectId: caller.objectId } }
            : {}),
          createdBy: caller.objectId,
          parameters: parameters as Record<string, string | number | boolean>,
          secureParameters: sealed,
          // Shared and key-based connections hold what they need; OAuth per-user ones sign in first.
          state: mode === 'shared' || Object.keys(sealed).length > 0 ? 'connected' : 'needs-consent',
        });
        return reply
          .code(201)
          .header('location', `${CONNECTIONS_PATH}/${record.id}`)
          .send(viewOf(record.data));
      });

      scope.get(CONNECTIONS_PATH, async (request) => {
        const caller = await who(request);
        const owner = { tenantId: caller.tenantId, userObjectId: caller.objectId };
        return { value: (await connections.listByOwner(owner)).map((r) => viewOf(r.data)) };
      });

      scope.get<{ Params: { id: string } }>(`${CONNECTIONS_PATH}/:id`, async (request) => {
        const caller = await who(request);
        const record = await connections.getForCaller(request.params.id, {
          tenantId: caller.tenantId,
          userObjectId: caller.objectId,
        });
        return viewOf(record.data);
      });

      scope.delete<{ Params: { id: string } }>(`${CONNECTIONS_PATH}/:id`, async (request, reply) => {
        const caller = await who(request);
        const record = await connections.getForCaller(request.params.id, {
          tenantId: caller.tenantId,
          userObjectId: caller.objectId,
        });
        if (
          record.data.mode === 'shared' &&
          !(await options.isAdministrator(caller.tenantId, caller.objectId))
        )
          throw forbidden('Only an administrator can delete a shared connection.');
        await connections.delete(record.id);
        options.refresher.forget(record.id);
        return reply.code(204).send();
      });

      scope.put<{ Params: { connectorId: string } }>(
        `${CONNECTIONS_PATH}/sharing/:connectorId`,
        async (request) => {
          const caller = await who(request);
          if (!(await options.isAdministrator(caller.tenantId, caller.objectId)))
            throw forbidden('Only an administrator can share a connector.');
          const body = request.body;
          if (!isRecord(body)) throw bad('The body must be a JSON object.');
          await connectors.load(caller.tenantId, request.params.connectorId);
          return sharing.set(caller.tenantId, request.params.connectorId, {
            users: stringList(body['users'], 'users'),
            groups: stringList(body['groups'], 'groups'),
          });
        },
      );

      scope.get<{ Querystring: Record<string, string | undefined> }>(AUDIT_PATH, async (request) => {
        const caller = await who(request);
        const q = request.query;
        const admin = await options.isAdministrator(caller.tenantId, caller.objectId);
        if (q['outcome'] !== undefined && !OUTCOMES.includes(q['outcome'] as AuditOutcome))
          throw bad(`"outcome" must be one of ${OUTCOMES.join(', ')}.`, 'outcome');
        for (const name of ['since', 'until'])
          if (q[name] !== undefined && Number.isNaN(Date.parse(q[name])))
            throw bad(`"${name}" must be an ISO 8601 time.`, name);
        const limit = q['limit'] !== undefined ? Number(q['limit']) : undefined;
        if (limit !== undefined && (!Number.isInteger(limit) || limit < 1 || limit > 500))
          throw bad('"limit" must be an integer from 1 to 500.', 'limit');
        // Everyone sees their own calls; an administrator sees the tenant's.
        const callerObjectId = admin ? q['caller'] : caller.objectId;
        const result = await audit.query({
          tenantId: caller.tenantId,
          ...(callerObjectId !== undefined ? { callerObjectId } : {}),
          ...(q['connector'] !== undefined ? { connectorId: q['connector'] } : {}),
          ...(q['connection'] !== undefined ? { connectionId: q['connection'] } : {}),
          ...(q['outcome'] !== undefined ? { outcome: q['outcome'] as AuditOutcome } : {}),
          ...(q['correlationId'] !== undefined ? { correlationId: q['correlationId'] } : {}),
          ...(q['since'] !== undefined ? { since: q['since'] } : {}),
          ...(q['until'] !== undefined ? { until: q['until'] } : {}),
          ...(q['before'] !== undefined ? { before: q['before'] } : {}),
          ...(limit !== undefined ? { limit } : {}),
        });
        return { value: result.entries, ...(result.next ? { next: result.next } : {}) };
      });
    });
  };
}
