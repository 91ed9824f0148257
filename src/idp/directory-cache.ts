import type { IdpDirectory } from './directory-port.ts';

export interface DirectoryCacheOptions {
  /** How stale a cached tenant, application or service principal may be; 0 turns the cache off. */
  readonly ttlMs?: number;
  /** Entries kept per lookup kind; the oldest goes first. */
  readonly maxEntries?: number;
  /** Monotonic milliseconds (a cache age, not a protocol time, so not Behalf's clock). */
  readonly now?: () => number;
}

/** One second: a disabled service principal or an edited app registration is refused or seen within it. */
export const DEFAULT_DIRECTORY_CACHE_MS = 1000;

/**
 * A short-lived cache in front of the token service's lookups of tenants, applications and service
 * principals: one client-credentials request otherwise reads the same few records about six times,
 * and every request for the same client and resource reads them again.
 *
 * What it allows: a change to a tenant, an app registration or a service principal (disabled, scopes,
 * identifier URIs, pre-authorized apps) reaches the token endpoint at most `ttlMs` (1 s) late — Entra
 * itself replicates such changes in seconds to minutes. What it never delays: client secrets
 * (`verifyClientSecret` reads the directory each time, so a removed or expired secret is refused at
 * once), consent grants and app role assignments (read each time, so consent takes effect at once),
 * users and passwords. Lookups that find nothing are not kept, so a new client works at once.
 * Callers must treat the returned objects as read-only: they are shared until the entry expires.
 */
export function cachedDirectory(directory: IdpDirectory, options: DirectoryCacheOptions = {}): IdpDirectory {
  const ttl = options.ttlMs ?? DEFAULT_DIRECTORY_CACHE_MS;
  if (ttl <= 0) return directory;
  const max = options.maxEntries ?? 1000;
  const now = options.now ?? (() => performance.now());

  function memo<A extends unknown[], T>(
    load: (...args: A) => Promise<T | undefined>,
  ): (...args: A) => Promise<T | undefined> {
    const entries = new Map<string, { value: Promise<T | undefined>; until: number }>();
    return (...args) => {
      const key = args.join('\u0000');
      const hit = entries.get(key);
      const at = now();
      if (hit && hit.until > at) return hit.value;
      if (hit) entries.delete(key);
      // Concurrent requests share one read; a miss or a failure is forgotten once it settles.
      const value = load(...args);
      const entry = { value, until: at + ttl };
      entries.set(key, entry);
      if (entries.size > max) entries.delete(entries.keys().next().value!);
      const forget = () => {
        if (entries.get(key) === entry) entries.delete(key);
      };
      value.then((found) => found === undefined && forget(), forget);
      return value;
    };
  }

  return {
    getTenant: memo((idOrDomain: string) => directory.getTenant(idOrDomain)),
    getApplicationByAppId: memo((appId: string) => directory.getApplicationByAppId(appId)),
    getServicePrincipalByAppId: memo((tenantId: string, appId: string) =>
      directory.getServicePrincipalByAppId(tenantId, appId),
    ),
    resolveServicePrincipal: memo((tenantId: string, identifier: string) =>
      directory.resolveServicePrincipal(tenantId, identifier),
    ),
    getUser: (tenantId, userId) => directory.getUser(tenantId, userId),
    getUserByUpn: (tenantId, upn) => directory.getUserByUpn(tenantId, upn),
    verifyUserPassword: (tenantId, userId, password) =>
      directory.verifyUserPassword(tenantId, userId, password),
    verifyClientSecret: (appId, secret) => directory.verifyClientSecret(appId, secret),
    listPermissionGrants: (tenantId, clientSpId, resourceSpId) =>
      directory.listPermissionGrants(tenantId, clientSpId, resourceSpId),
    listAppRoleAssignments: (tenantId, principalId, resourceSpId) =>
      directory.listAppRoleAssignments(tenantId, principalId, resourceSpId),
  };
}
