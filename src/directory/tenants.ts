import { DuplicateKeyError } from '../core/errors.ts';
import { isGuid } from '../core/ids.ts';
import type { DirectoryDeps } from './deps.ts';
import { KIND, isoNow } from './deps.ts';
import { badRequest, conflict, notFound } from './errors.ts';
import type { Tenant } from './model.ts';

// A DNS name of at least two labels (contoso.test); Entra verifies ownership, Behalf takes the admin's word.
const DOMAIN = /^(?=.{3,253}$)([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z][a-z0-9-]{0,61}[a-z0-9]$/;

const domainKey = (name: string) => 'domain:' + name.toLowerCase();

export interface NewTenant {
  displayName: string;
  /** The first is the default domain. */
  domains: string[];
  /** Chosen by the caller only for the home tenant and demos; otherwise random. */
  id?: string;
}

export function tenantRepository(deps: DirectoryDeps) {
  const { store } = deps;

  async function getTenant(idOrDomain: string): Promise<Tenant | undefined> {
    if (isGuid(idOrDomain)) return (await store.get<Tenant>(KIND.tenant, idOrDomain.toLowerCase()))?.data;
    return (await store.findByUniqueKey<Tenant>(KIND.tenant, domainKey(idOrDomain)))?.data;
  }

  async function requireTenant(idOrDomain: string): Promise<Tenant> {
    const tenant = await getTenant(idOrDomain);
    if (!tenant) throw notFound(idOrDomain);
    return tenant;
  }

  async function createTenant(input: NewTenant): Promise<Tenant> {
    if (input.displayName.trim() === '') throw badRequest('displayName must not be empty.');
    if (input.domains.length === 0) throw badRequest('A tenant needs at least one verified domain.');
    const domains = input.domains.map((d) => d.toLowerCase());
    for (const name of domains)
      if (!DOMAIN.test(name)) throw badRequest(`'${name}' is not a valid domain name.`);
    if (new Set(domains).size !== domains.length) throw badRequest('Verified domains must be distinct.');
    if (input.id !== undefined && !isGuid(input.id))
      throw badRequest(`Tenant id '${input.id}' is not a GUID.`);
    const tenant: Tenant = {
      id: (input.id ?? deps.random.uuid()).toLowerCase(),
      displayName: input.displayName,
      verifiedDomains: domains.map((name, i) => ({ name, isDefault: i === 0, isInitial: i === 0 })),
      createdDateTime: isoNow(deps),
    };
    try {
      await store.insert({
        kind: KIND.tenant,
        id: tenant.id,
        partition: tenant.id,
        data: tenant,
        uniqueKeys: domains.map(domainKey),
      });
    } catch (error) {
      if (error instanceof DuplicateKeyError)
        throw conflict(
          error.key.startsWith('domain:')
            ? `The domain '${error.key.slice(7)}' is already verified by another tenant.`
            : `A tenant with id '${tenant.id}' already exists.`,
        );
      throw error;
    }
    return tenant;
  }

  async function listTenants(): Promise<Tenant[]> {
    const out: Tenant[] = [];
    let after: string | undefined;
    for (;;) {
      const batch = await store.list<Tenant>(KIND.tenant, { limit: 500, ...(after ? { after } : {}) });
      out.push(...batch.map((r) => r.data));
      if (batch.length < 500) return out;
      after = batch[batch.length - 1]!.id;
    }
  }

  return { getTenant, requireTenant, createTenant, listTenants };
}
