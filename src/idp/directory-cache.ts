import { hash } from 'node:crypto';
import type { Clock } from '../core/clock.ts';
import type { SecretCheck } from '../directory/credentials.ts';
import type {
  Application,
  AppRoleAssignment,
  OAuth2PermissionGrant,
  ServicePrincipal,
  Tenant,
  User,
} from '../directory/model.ts';
import type { DirectoryChanges } from './directory-changes.ts';
import type { IdpDirectory } from './directory-port.ts';

export interface DirectoryCacheOptions {
  /** How stale a cached record may be; 0 turns the cache off. */
  readonly ttlMs?: number;
  /** Entries kept per lookup kind; the oldest goes first. */
  readonly maxEntries?: number;
  /** Monotonic milliseconds (a cache age, not a protocol time, so not Behalf's clock). */
  readonly now?: () => number;
  /**
   * The directory writes of this process (directory-changes.ts). With it, every entry read before
   * the latest write is dropped at once, and secrets, grants, role assignments and users are cached
   * too; without it they are read every time, and only tenants, apps and SPs are kept (for the TTL).
   */
  readonly changes?: DirectoryChanges;
  /** Behalf's clock: a cached client secret is never accepted past its credential's `endDateTime`. */
  readonly clock?: Clock;
}

/** One second: a change made by another process (a second node, the CLI) is seen within it. */
export const DEFAULT_DIRECTORY_CACHE_MS = 1000;

/**
 * A short-lived cache in front of the token service's directory reads: one client-credentials request
 * otherwise reads the same few records about six times (and parses each app registration whole), and
 * every request for the same client and resource reads them again.
 *
 * What it allows: a directory change made by THIS process (the management API, the console, a test)
 * drops every entry at once, so nothing waits for it — a removed client secret is refused and a new
 * consent grant honoured by the very next request. A change made by ANOTHER process sharing the
 * database (a second node on PostgreSQL) reaches this one's token endpoint at most `ttlMs` (1 s) late;
 * Entra itself replicates directory changes in seconds to minutes. A cached valid secret is never
 * accepted past its credential's end date. Lookups that find nothing, wrong secrets and failures are
 * never kept, so a new client works at once and a guessed secret is checked against the store every
 * time. Passwords and users looked up by name (ROPC, sign-in) are never cached. Callers must treat the
 * returned objects as read-only: they are shared until the entry expires.
 */
export function cachedDirectory(directory: IdpDirectory, options: DirectoryCacheOptions = {}): IdpDirectory {
  const ttl = options.ttlMs ?? DEFAULT_DIRECTORY_CACHE_MS;
  if (ttl <= 0) return directory;
  const max = options.maxEntries ?? 1000;
  const now = options.now ?? (() => performance.now());
  const changes = options.changes;
  const generation = changes ? () => changes.generation() : () => 0;

  interface Entry<T> {
    readonly value: Promise<T>;
    readonly until: number;
    readonly generation: number;
  }

  /**
   * A bounded map of reads, each valid for `ttl` and until the next directory write: `read(key, load)`
   * answers from it or calls `load`. Concurrent requests share one read; what `keep` refuses, or a
   * failure, is forgotten once it settles.
   */
  function cache<T>(keep: (found: T) => boolean = (found) => found !== undefined) {
    const entries = new Map<string, Entry<T>>();
    return (key: string, load: () => Promise<T>): Promise<T> => {
      const hit = entries.get(key);
      const at = now();
      const current = generation();
      if (hit && hit.until > at && hit.generation === current) return hit.value;
      if (hit) entries.delete(key);
      const value = load();
      const entry = { value, until: at + ttl, generation: current };
      entries.set(key, entry);
      if (entries.size > max) entries.delete(entries.keys().next().value!);
      const forget = () => {
        if (entries.get(key) === entry) entries.delete(key);
      };
      value.then((found) => !keep(found) && forget(), forget);
      return value;
    };
  }

  const apps = cache<Application | undefined>();
  const getApplicationByAppId = (appId: string) => apps(appId, () => directory.getApplicationByAppId(appId));

  /**
   * Only a valid match is kept, keyed by a hash of client id and secret (the plaintext is not kept),
   * with the credential's end date, checked against Behalf's clock on every hit.
   */
  function cachedSecretCheck(): IdpDirectory['verifyClientSecret'] {
    const clock = options.clock;
    const checks = cache<{ check: SecretCheck; endsAt: number }>(
      (found) => found.check.status === 'valid' && clock !== undefined && found.endsAt > clock.now(),
    );
    const check = async (appId: string, secret: string) => {
      const result = await directory.verifyClientSecret(appId, secret);
      if (result.status !== 'valid') return { check: result, endsAt: -Infinity };
      const app = await getApplicationByAppId(appId);
      const credential = app?.passwordCredentials.find((c) => c.keyId === result.keyId);
      return { check: result, endsAt: credential ? Date.parse(credential.endDateTime) : -Infinity };
    };
    return async (appId, secret) => {
      const key = hash('sha256', `${appId}\u0000${secret}`, 'base64');
      const { check: result, endsAt } = await checks(key, () => check(appId, secret));
      // An entry made just before the end date is not served after it: read again, which says `expired`.
      if (result.status === 'valid' && clock && endsAt <= clock.now())
        return directory.verifyClientSecret(appId, secret);
      return result;
    };
  }

  const always = () => true;
  const tenants = cache<Tenant | undefined>();
  const sps = cache<ServicePrincipal | undefined>();
  const resolved = cache<ServicePrincipal | undefined>();
  const users = cache<User | undefined>();
  const grants = cache<OAuth2PermissionGrant[]>(always);
  const assignments = cache<AppRoleAssignment[]>(always);
  const pair = (a: string, b: string) => `${a}\u0000${b}`;
  const triple = (a: string, b: string, c: string) => `${a}\u0000${b}\u0000${c}`;
  return {
    getTenant: (idOrDomain) => tenants(idOrDomain, () => directory.getTenant(idOrDomain)),
    getApplicationByAppId,
    getServicePrincipalByAppId: (tenantId, appId) =>
      sps(pair(tenantId, appId), () => directory.getServicePrincipalByAppId(tenantId, appId)),
    resolveServicePrincipal: (tenantId, identifier) =>
      resolved(pair(tenantId, identifier), () => directory.resolveServicePrincipal(tenantId, identifier)),
    getUserByUpn: (tenantId, upn) => directory.getUserByUpn(tenantId, upn),
    verifyUserPassword: (tenantId, userId, password) =>
      directory.verifyUserPassword(tenantId, userId, password),
    // Only where every write of this process is heard: otherwise these must be read each time.
    ...(changes
      ? {
          getUser: (tenantId: string, userId: string) =>
            users(pair(tenantId, userId), () => directory.getUser(tenantId, userId)),
          verifyClientSecret: cachedSecretCheck(),
          listPermissionGrants: (tenantId: string, clientSpId: string, resourceSpId: string) =>
            grants(triple(tenantId, clientSpId, resourceSpId), () =>
              directory.listPermissionGrants(tenantId, clientSpId, resourceSpId),
            ),
          listAppRoleAssignments: (tenantId: string, principalId: string, resourceSpId: string) =>
            assignments(triple(tenantId, principalId, resourceSpId), () =>
              directory.listAppRoleAssignments(tenantId, principalId, resourceSpId),
            ),
        }
      : {
          getUser: (tenantId: string, userId: string) => directory.getUser(tenantId, userId),
          verifyClientSecret: (appId: string, secret: string) => directory.verifyClientSecret(appId, secret),
          listPermissionGrants: (tenantId: string, clientSpId: string, resourceSpId: string) =>
            directory.listPermissionGrants(tenantId, clientSpId, resourceSpId),
          listAppRoleAssignments: (tenantId: string, principalId: string, resourceSpId: string) =>
            directory.listAppRoleAssignments(tenantId, principalId, resourceSpId),
        }),
  };
}
