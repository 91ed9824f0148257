import type { Clock } from '../core/clock.ts';
import type { Random } from '../core/ids.ts';
import type { RecordStore, StoredRecord } from '../storage/record-store.ts';
import { connectionErrors } from './errors.ts';
import type {
  ConnectionData,
  ConnectionMode,
  ConnectionOwner,
  ConnectionState,
  Sealed,
  StoredCredential,
} from './model.ts';
import { isOwnedBy } from './model.ts';

export const CONNECTION_KIND = 'connection';

export interface NewConnection {
  readonly tenantId: string;
  readonly connectorId: string;
  readonly displayName?: string;
  readonly mode: ConnectionMode;
  readonly owner?: ConnectionOwner;
  readonly createdBy: string;
  readonly parameterSetName?: string;
  readonly parameters?: Readonly<Record<string, string | number | boolean>>;
  readonly secureParameters?: Readonly<Record<string, Sealed>>;
  readonly state?: ConnectionState;
  readonly stateReason?: string;
  /** Lets the caller seal values under the id before the record exists (AAD is bound to the id). */
  readonly id?: string;
}

export type ConnectionRecord = StoredRecord<ConnectionData>;

export interface ConnectionRepository {
  newId(): string;
  create(input: NewConnection): Promise<ConnectionRecord>;
  get(id: string): Promise<ConnectionRecord | undefined>;
  /** The caller's own per-user connection, or a shared one; anything else reads as not found. */
  getForCaller(id: string, caller: ConnectionOwner): Promise<ConnectionRecord>;
  listByOwner(owner: ConnectionOwner): Promise<ConnectionRecord[]>;
  listByConnector(tenantId: string, connectorId: string): Promise<ConnectionRecord[]>;
  /** Every connection, page by page (vault rotation). */
  listAll(after?: string, limit?: number): Promise<ConnectionRecord[]>;
  /**
   * Compare-and-swap: applies `change` to the record at `version`. Returns undefined when the record
   * changed meanwhile (the caller re-reads and decides), so no write ever lands on a stale view.
   */
  update(
    record: ConnectionRecord,
    change: (data: ConnectionData) => ConnectionData,
  ): Promise<ConnectionRecord | undefined>;
  setState(
    record: ConnectionRecord,
    state: ConnectionState,
    reason?: string,
  ): Promise<ConnectionRecord | undefined>;
  /** Replaces the credential and bumps the generation; CAS on the record version. */
  replaceCredential(
    record: ConnectionRecord,
    credential: StoredCredential,
  ): Promise<ConnectionRecord | undefined>;
  changeMode(record: ConnectionRecord, mode: ConnectionMode): Promise<ConnectionRecord>;
  delete(id: string): Promise<boolean>;
  /**
   * The same reads for the gateway's hot path, from a per-process cache at most `cacheMs` old (1 s by
   * default). Every write through this repository empties it, so this process's own changes are seen
   * at once; a change made by another process (the CLI, another node on PostgreSQL) is seen within
   * `cacheMs`. A connection id that is not found is not kept. Records are shared: read-only.
   */
  readonly recent: RecentConnections;
}

export interface RecentConnections {
  getForCaller(id: string, caller: ConnectionOwner): Promise<ConnectionRecord>;
  listByOwner(owner: ConnectionOwner): Promise<ConnectionRecord[]>;
  listByConnector(tenantId: string, connectorId: string): Promise<ConnectionRecord[]>;
}

/** How stale the gateway's view of a connection may be when another process changed it. */
export const DEFAULT_CONNECTION_CACHE_MS = 1000;

const ownerKey = (owner: ConnectionOwner) => `owner:${owner.tenantId}:${owner.userObjectId}`;
const connectorKey = (tenantId: string, connectorId: string) => `connector:${tenantId}:${connectorId}`;

function indexKeys(data: ConnectionData): string[] {
  const keys = [connectorKey(data.tenantId, data.connectorId)];
  if (data.owner) keys.push(ownerKey(data.owner));
  return keys;
}

export function createConnectionRepository(deps: {
  store: RecordStore;
  clock: Clock;
  random: Random;
  /** 0 turns the `recent` cache off (every read goes to the store). */
  cacheMs?: number;
  maxCachedEntries?: number;
  /** Monotonic milliseconds for cache ages (not a protocol time, so not Behalf's clock). */
  now?: () => number;
}): ConnectionRepository {
  const { store, clock, random } = deps;
  const cache = recentCache(
    deps.cacheMs ?? DEFAULT_CONNECTION_CACHE_MS,
    deps.maxCachedEntries ?? 10_000,
    deps.now ?? (() => performance.now()),
  );
  const written = <T>(result: Promise<T>): Promise<T> => {
    // Emptied before and after: a read that started before the write cannot fill it with the old value.
    cache.clear();
    return result.finally(cache.clear);
  };

  const checkCaller = (id: string, record: ConnectionRecord | undefined, caller: ConnectionOwner) => {
    if (!record || record.data.tenantId !== caller.tenantId) throw connectionErrors.notFound(id);
    if (record.data.mode === 'per-user' && !isOwnedBy(record.data, caller))
      throw connectionErrors.notFound(id);
    return record;
  };

  const repository: ConnectionRepository = {
    newId: () => random.uuid(),

    async create(input) {
      if (input.mode === 'per-user' && !input.owner)
        throw connectionErrors.invalid('A per-user connection needs an owner (tenant and user object id).');
      if (input.mode === 'shared' && input.owner)
        throw connectionErrors.invalid('A shared connection runs app-only and has no owner.');
      const now = clock.now();
      const data: ConnectionData = {
        id: input.id ?? random.uuid(),
        tenantId: input.tenantId,
        connectorId: input.connectorId,
        displayName: input.displayName ?? input.connectorId,
        mode: input.mode,
        ...(input.owner ? { owner: input.owner } : {}),
        createdBy: input.createdBy,
        ...(input.parameterSetName !== undefined ? { parameterSetName: input.parameterSetName } : {}),
        parameters: input.parameters ?? {},
        secureParameters: input.secureParameters ?? {},
        state: input.state ?? 'needs-consent',
        ...(input.stateReason !== undefined ? { stateReason: input.stateReason } : {}),
        generation: 0,
        credential: {},
        createdAt: now,
        updatedAt: now,
      };
      return written(
        store.insert({
          kind: CONNECTION_KIND,
          id: data.id,
          partition: data.tenantId,
          data,
          indexKeys: indexKeys(data),
        }),
      );
    },

    get: (id) => store.get<ConnectionData>(CONNECTION_KIND, id),

    async getForCaller(id, caller) {
      return checkCaller(id, await store.get<ConnectionData>(CONNECTION_KIND, id), caller);
    },

    listByOwner: (owner) =>
      store.findByIndex<ConnectionData>(CONNECTION_KIND, ownerKey(owner), {
        partition: owner.tenantId,
        limit: 1000,
      }),

    listByConnector: (tenantId, connectorId) =>
      store.findByIndex<ConnectionData>(CONNECTION_KIND, connectorKey(tenantId, connectorId), {
        partition: tenantId,
        limit: 1000,
      }),

    listAll: (after, limit = 100) =>
      store.list<ConnectionData>(CONNECTION_KIND, { ...(after !== undefined ? { after } : {}), limit }),

    async update(record, change) {
      const next = { ...change(record.data), updatedAt: clock.now() };
      if (next.id !== record.data.id || next.tenantId !== record.data.tenantId)
        throw new Error('a connection keeps its id and tenant');
      if (record.data.mode === 'shared' && next.mode === 'per-user') throw connectionErrors.modeChange();
      return written(
        store.update<ConnectionData>(CONNECTION_KIND, record.id, record.version, next, {
          indexKeys: indexKeys(next),
        }),
      );
    },

    setState: (record, state, reason) =>
      repository.update(record, (data) => {
        const { stateReason: _old, ...rest } = data;
        return { ...rest, state, ...(reason !== undefined ? { stateReason: reason } : {}) };
      }),

    replaceCredential: (record, credential) =>
      repository.update(record, (data) => {
        const { stateReason: _old, ...rest } = data;
        return { ...rest, credential, generation: data.generation + 1, state: 'connected' };
      }),

    async changeMode(record, mode) {
      if (record.data.mode === mode) return record;
      // Only per-user → shared would be conceivable, and even that changes whose identity runs the
      // calls; both directions are refused so a connection's identity never changes under its users.
      if (record.data.mode === 'shared') throw connectionErrors.modeChange();
      throw connectionErrors.invalid(
        'A per-user connection cannot be turned into a shared one; create a shared connection instead.',
        'mode',
      );
    },

    delete: (id) => written(store.delete(CONNECTION_KIND, id)),

    recent: {
      async getForCaller(id, caller) {
        const record = await cache.read(`id\u0000${id}`, () => repository.get(id), false);
        return checkCaller(id, record, caller);
      },
      listByOwner: (owner) =>
        cache.read(`owner\u0000${owner.tenantId}\u0000${owner.userObjectId}`, () =>
          repository.listByOwner(owner),
        ),
      listByConnector: (tenantId, connectorId) =>
        cache.read(`connector\u0000${tenantId}\u0000${connectorId}`, () =>
          repository.listByConnector(tenantId, connectorId),
        ),
    },
  };
  return repository;
}

/** Reads shared while fresh; concurrent misses share one store read; failures are never kept. */
function recentCache(ttlMs: number, maxEntries: number, now: () => number) {
  const entries = new Map<string, { value: Promise<unknown>; until: number }>();
  return {
    clear: () => entries.clear(),
    read<T>(key: string, load: () => Promise<T>, keepMissing = true): Promise<T> {
      if (ttlMs <= 0) return load();
      const at = now();
      const hit = entries.get(key);
      if (hit && hit.until > at) return hit.value as Promise<T>;
      if (hit) entries.delete(key);
      const value = load();
      const entry = { value, until: at + ttlMs };
      entries.set(key, entry);
      if (entries.size > maxEntries) entries.delete(entries.keys().next().value!);
      const forget = () => {
        if (entries.get(key) === entry) entries.delete(key);
      };
      value.then((found) => {
        if (found === undefined && !keepMissing) forget();
      }, forget);
      return value;
    },
  };
}
