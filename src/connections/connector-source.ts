import type { Clock } from '../core/clock.ts';
import type { ConnectorModel } from '../connectors/model.ts';
import type { ConnectorRegistry } from './connector-registry.ts';

/**
 * The connector as the gateway runs it: its model and its definition's security schemes, read from
 * the registry and kept for a few seconds, because importing a package costs milliseconds and the
 * gateway's budget per call is a fraction of one (reference/performance.md §2a). An update is picked
 * up within `ttlMs`.
 */
export interface LoadedConnector {
  readonly id: string;
  readonly tenantId: string;
  readonly version: number;
  readonly model: ConnectorModel;
  readonly securityDefinitions: Readonly<Record<string, unknown>>;
}

export interface ConnectorSource {
  load(tenantId: string, connectorId: string): Promise<LoadedConnector>;
  /** The connector app's client secret (token requests only; never an API response). */
  clientSecret(tenantId: string, connectorId: string): Promise<string | undefined>;
  /** The federated-credential subject the connector's app registration trusts. */
  workloadSubject(tenantId: string, connectorId: string): Promise<string>;
}

export function registryConnectorSource(
  registry: ConnectorRegistry,
  clock: Clock,
  ttlMs = 5_000,
): ConnectorSource {
  const cache = new Map<string, { at: number; value: Promise<LoadedConnector> }>();
  const secrets = new Map<string, { at: number; value: Promise<string | undefined> }>();
  const load = async (tenantId: string, connectorId: string): Promise<LoadedConnector> => {
    const [details, model, pkg] = await Promise.all([
      registry.get(tenantId, connectorId),
      registry.model(tenantId, connectorId),
      registry.download(tenantId, connectorId),
    ]);
    let securityDefinitions: Record<string, unknown> = {};
    try {
      const definition = JSON.parse(pkg.apiDefinition.text) as { securityDefinitions?: unknown };
      if (definition.securityDefinitions && typeof definition.securityDefinitions === 'object')
        securityDefinitions = definition.securityDefinitions as Record<string, unknown>;
    } catch {
      // YAML or OpenAPI 3 definitions: the model already says what it knows; no key schemes then.
    }
    return { id: connectorId, tenantId, version: details.version, model, securityDefinitions };
  };
  return {
    load(tenantId, connectorId) {
      const key = `${tenantId}/${connectorId}`;
      const hit = cache.get(key);
      if (hit && clock.now() - hit.at < ttlMs) return hit.value;
      const value = load(tenantId, connectorId);
      value.catch(() => cache.delete(key));
      cache.set(key, { at: clock.now(), value });
      return value;
    },
    // Read and decrypted at most once per `ttlMs` like the model: the on-behalf-of path asks for it on
    // every call (to know secret vs. federated) even when the exchanged token comes from the cache.
    clientSecret(tenantId, connectorId) {
      const key = `${tenantId}/${connectorId}`;
      const hit = secrets.get(key);
      if (hit && clock.now() - hit.at < ttlMs) return hit.value;
      const value = registry.clientSecret(tenantId, connectorId);
      value.catch(() => secrets.delete(key));
      secrets.set(key, { at: clock.now(), value });
      return value;
    },
    async workloadSubject(tenantId, connectorId) {
      return (await registry.get(tenantId, connectorId)).workloadIdentity.subject;
    },
  };
}
