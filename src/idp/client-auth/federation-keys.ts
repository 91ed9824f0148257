import { lookup } from 'node:dns';
import { BlockList, isIP } from 'node:net';
import type { LookupFunction } from 'node:net';
import { rootCertificates } from 'node:tls';
import { Agent, fetch } from 'undici';
import type { Clock } from '../../core/clock.ts';
import type { PublicJwk } from '../jwt-port.ts';

/**
 * Fetches an external issuer's OIDC discovery document and JWKS for federated identity credentials,
 * the way Entra does (EW:workload-identity-federation.md), without becoming an SSRF gadget: only
 * https, a size and time bound, and the address actually connected to is checked after DNS resolution
 * (in the socket's lookup, so DNS rebinding cannot slip a private address past the check). Loopback
 * and private targets are refused unless the issuer's origin is explicitly allowed (test issuers).
 */
export interface FederationKeySource {
  keysFor(issuer: string, options?: { readonly refresh?: boolean }): Promise<{ keys: PublicJwk[] }>;
}

export class FederationFetchError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'FederationFetchError';
  }
}

const BLOCKED = new BlockList();
for (const [net, prefix] of [
  ['0.0.0.0', 8],
  ['10.0.0.0', 8],
  ['100.64.0.0', 10],
  ['127.0.0.0', 8],
  ['169.254.0.0', 16],
  ['172.16.0.0', 12],
  ['192.0.0.0', 24],
  ['192.168.0.0', 16],
  ['198.18.0.0', 15],
  ['224.0.0.0', 3],
] as const)
  BLOCKED.addSubnet(net, prefix, 'ipv4');
for (const [net, prefix] of [
  ['::', 127],
  ['::1', 128],
  ['fc00::', 7],
  ['fe80::', 10],
  ['ff00::', 8],
] as const)
  BLOCKED.addSubnet(net, prefix, 'ipv6');

export function isBlockedAddress(input: string): boolean {
  // IPv4-mapped IPv6 (::ffff:a.b.c.d) is judged as the IPv4 address it carries. (A ::ffff:0:0/96 rule
  // in the BlockList would match every IPv4 address, since BlockList compares IPv4 in mapped form.)
  const address = input.replace(/^::ffff:(\d+\.\d+\.\d+\.\d+)$/i, '$1');
  const family = isIP(address);
  if (family === 0) return true;
  // Any other mapped or translated form (::ffff:7f00:1, 64:ff9b::/96) is refused rather than decoded.
  if (family === 6 && /^(::ffff:|64:ff9b:)/i.test(address)) return true;
  return BLOCKED.check(address, family === 4 ? 'ipv4' : 'ipv6');
}

const CACHE_MS = 10 * 60 * 1000;
// A refetch on an unknown `kid` is allowed at most this often per issuer, so garbage assertions cannot
// turn Behalf into a request amplifier against the issuer.
const REFRESH_MIN_MS = 30 * 1000;
const MAX_BYTES = 256 * 1024;
const TIMEOUT_MS = 5000;

export function createFederationKeySource(options: {
  readonly clock: Clock;
  /** Origins (`https://127.0.0.1:8443`) allowed even though they resolve to loopback/private addresses. */
  readonly allowedPrivateOrigins: readonly string[];
  /**
   * Behalf's own public base URL: its workload identity issuer (a connector app with no secret trusts
   * it) lives there, and on a laptop that is loopback.
   */
  readonly ownBaseUrl?: () => string;
  /** Extra CA certificates (PEM) to trust besides the system roots: Behalf's own local CA. */
  readonly extraCaPem?: readonly string[];
}): FederationKeySource {
  const configured = new Set(options.allowedPrivateOrigins.map((o) => new URL(o).origin));
  const allowed = {
    has: (origin: string) =>
      configured.has(origin) ||
      (options.ownBaseUrl !== undefined && new URL(options.ownBaseUrl()).origin === origin),
  };
  const cache = new Map<string, { keys: PublicJwk[]; fetchedAt: number }>();

  const guardedLookup =
    (origin: string): LookupFunction =>
    (hostname, lookupOptions, callback) => {
      lookup(hostname, { ...lookupOptions, all: true }, (error, addresses) => {
        if (error) return callback(error, '', 0);
        const list = addresses as unknown as { address: string; family: number }[];
        const bad = list.find((a) => isBlockedAddress(a.address));
        if (bad && !allowed.has(origin)) {
          return callback(new FederationFetchError(`${hostname} resolves to a non-public address`), '', 0);
        }
        if (lookupOptions.all) return (callback as unknown as (e: null, a: typeof list) => void)(null, list);
        const first = list[0]!;
        return callback(null, first.address, first.family);
      });
    };

  async function getJson(url: URL): Promise<Record<string, unknown>> {
    if (url.protocol !== 'https:') throw new FederationFetchError(`${url.href} is not https`);
    const literal = url.hostname.replace(/^\[(.*)\]$/, '$1');
    if (isIP(literal) && isBlockedAddress(literal) && !allowed.has(url.origin)) {
      throw new FederationFetchError(`${url.host} is not a public address`);
    }
    const dispatcher = new Agent({
      connect: {
        lookup: guardedLookup(url.origin),
        ...(options.extraCaPem && options.extraCaPem.length > 0
          ? { ca: [...rootCertificates, ...options.extraCaPem] }
          : {}),
      },
      headersTimeout: TIMEOUT_MS,
      bodyTimeout: TIMEOUT_MS,
    });
    try {
      const response = await fetch(url, {
        dispatcher,
        redirect: 'error',
        signal: AbortSignal.timeout(TIMEOUT_MS),
        headers: { accept: 'application/json' },
      });
      if (!response.ok) throw new FederationFetchError(`${url.href} answered ${response.status}`);
      const text = await response.text();
      if (text.length > MAX_BYTES) throw new FederationFetchError(`${url.href} is too large`);
      const parsed: unknown = JSON.parse(text);
      if (parsed === null || typeof parsed !== 'object')
        throw new FederationFetchError(`${url.href} is not a JSON object`);
      return parsed as Record<string, unknown>;
    } catch (error) {
      if (error instanceof FederationFetchError) throw error;
      throw new FederationFetchError(`${url.href} could not be fetched (${(error as Error).message})`);
    } finally {
      await dispatcher.close();
    }
  }

  return {
    async keysFor(issuer, fetchOptions = {}) {
      const now = options.clock.now();
      const cached = cache.get(issuer);
      const fresh = cached && now - cached.fetchedAt < (fetchOptions.refresh ? REFRESH_MIN_MS : CACHE_MS);
      if (cached && fresh) return { keys: cached.keys };
      const discovery = await getJson(
        new URL(issuer.replace(/\/$/, '') + '/.well-known/openid-configuration'),
      );
      if (discovery['issuer'] !== issuer)
        throw new FederationFetchError('the discovery document names another issuer');
      const jwksUri = discovery['jwks_uri'];
      if (typeof jwksUri !== 'string')
        throw new FederationFetchError('the discovery document has no jwks_uri');
      const jwks = await getJson(new URL(jwksUri));
      // Entra stores only the first 100 keys of a federated issuer (EW:workload-identity-federation.md).
      const keys = (Array.isArray(jwks['keys']) ? (jwks['keys'] as PublicJwk[]) : []).slice(0, 100);
      cache.set(issuer, { keys, fetchedAt: now });
      return { keys };
    },
  };
}
