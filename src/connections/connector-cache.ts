import type { RecordStore } from '../storage/record-store.ts';
import type { ConnectorData } from './connector-registry.ts';
import { CONNECTOR_KIND } from './connector-registry.ts';
import type { ConnectorSource, LoadedConnector } from './connector-source.ts';

/** A connector update or deletion reaches the gateway at most this late, from any process. */
export const DEFAULT_CONNECTOR_CHECK_MS = 1000;

export interface ConnectorCacheOptions {
  /** How old the gateway's knowledge of a connector's version may be; 0 checks on every call. */
  readonly checkMs?: number;
  readonly maxEntries?: number;
  /** Monotonic milliseconds for cache ages (not a protocol time, so not Behalf's clock). */
  readonly now?: () => number;
}

interface Entry {
  readonly version: number;
  checkedAt: number;
  loaded?: Promise<LoadedConnector>;
  secret?: Promise<string | undefined>;
}

/**
 * Keeps each loaded connector (its imported model, which costs milliseconds to build) and its app's
 * decrypted client secret for as long as the stored connector keeps its version: at most once per
 * `checkMs` (1 s) a call reads the connector's record to compare the version, and loads the connector
 * again only when an update (a new package or a new secret, both bump the version) or a deletion
 * happened, in this process or another. So the gateway never runs a connector version more than
 * `checkMs` after it was replaced or deleted, and never pays for an import it does not need. A
 * connector that is not found is not kept. `inner` should not cache itself (pass a zero TTL).
 */
export function versionCheckedConnectorSource(
  inner: ConnectorSource,
  store: RecordStore,
  options: ConnectorCacheOptions = {},
): ConnectorSource {
  const checkMs = options.checkMs ?? DEFAULT_CONNECTOR_CHECK_MS;
  const maxEntries = options.maxEntries ?? 1000;
  const now = options.now ?? (() => performance.now());
  const entries = new Map<string, Entry>();
  const checking = new Map<string, Promise<Entry | undefined>>();

  /** The entry for the stored version (a new one if the version changed); undefined if there is none. */
  const check = (key: string, tenantId: string, connectorId: string): Promise<Entry | undefined> => {
    let running = checking.get(key);
    if (!running) {
      const started = now();
      running = store
        .get<ConnectorData>(CONNECTOR_KIND, connectorId)
        .then((record) => {
          // Another tenant's connector is absent here too: the inner source answers the 404.
          if (!record || record.data.tenantId !== tenantId) {
            entries.delete(key);
            return undefined;
          }
          const known = entries.get(key);
          if (known && known.version === record.data.version) {
            known.checkedAt = started;
            return known;
          }
          const entry: Entry = { version: record.data.version, checkedAt: started };
          entries.delete(key);
          entries.set(key, entry);
          if (entries.size > maxEntries) entries.delete(entries.keys().next().value!);
          return entry;
        })
        .finally(() => checking.delete(key));
      checking.set(key, running);
    }
    return running;
  };

  const current = async (tenantId: string, connectorId: string): Promise<Entry | undefined> => {
    const key = `${tenantId}/${connectorId}`;
    const entry = entries.get(key);
    if (entry && now() - entry.checkedAt < checkMs) return entry;
    return check(key, tenantId, connectorId);
  };

  /** A failed load or secret read is not kept: the next call tries again. */
  const kept = <T>(entry: Entry, field: 'loaded' | 'secret', value: Promise<T>): Promise<T> => {
    value.catch(() => {
      if (entry[field] === (value as Promise<unknown>)) delete entry[field];
    });
    return value;
  };

  return {
    async load(tenantId, connectorId) {
      const entry = await current(tenantId, connectorId);
      if (!entry) return inner.load(tenantId, connectorId);
      entry.loaded ??= kept(entry, 'loaded', inner.load(tenantId, connectorId));
      return entry.loaded;
    },
    async clientSecret(tenantId, connectorId) {
      const entry = await current(tenantId, connectorId);
      if (!entry) return inner.clientSecret(tenantId, connectorId);
      entry.secret ??= kept(entry, 'secret', inner.clientSecret(tenantId, connectorId));
      return entry.secret;
    },
    workloadSubject: (tenantId, connectorId) => inner.workloadSubject(tenantId, connectorId),
  };
}
