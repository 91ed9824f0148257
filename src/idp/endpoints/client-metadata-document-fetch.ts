import { lookup } from 'node:dns';
import { isIP } from 'node:net';
import type { LookupFunction } from 'node:net';
import { rootCertificates } from 'node:tls';
import { Agent, fetch } from 'undici';
import type { Clock } from '../../core/clock.ts';
import { isBlockedAddress } from '../client-auth/federation-keys.ts';
import {
  checkClientIdUrl,
  ClientMetadataError,
  parseClientMetadataDocument,
} from './client-metadata-document.ts';
import type { ClientMetadata } from './client-metadata-document.ts';

/**
 * Fetches client ID metadata documents (draft-ietf-oauth-client-id-metadata-document §4, §6) without
 * becoming an SSRF gadget or a denial-of-service target: https only; the address actually connected to
 * is checked after DNS resolution (in the socket's lookup, so DNS rebinding cannot slip past), and
 * loopback, private and other special-use addresses (RFC 6890) are refused unless the document's origin
 * is allowlisted by configuration (`clientMetadataAllowlist`); no redirects are followed; the body is
 * bounded (5 KB, the draft's recommendation) and so is the time; only a 200 with a JSON content type
 * counts. Valid documents are cached per URL for what their Cache-Control says, within bounds (§4.4),
 * and concurrent requests for one URL share a fetch. Failures are not cached, so a fixed document
 * works at once; callers rate-limit the fetches an address can cause (`beforeFetch`).
 */
export interface ClientMetadataDocuments {
  /** The validated document for `clientId` (cached or fetched); a ClientMetadataError otherwise. */
  get(clientId: string, options?: { readonly beforeFetch?: () => void }): Promise<ClientMetadata>;
}

export interface ClientMetadataDocumentsOptions {
  readonly clock: Clock;
  /** Origins (`https://127.0.0.1:8443`) allowed even though they resolve to loopback/private addresses. */
  readonly allowedPrivateOrigins: readonly string[];
  /** Extra CA certificates (PEM) to trust besides the system roots: Behalf's own local CA. */
  readonly extraCaPem?: readonly string[];
  readonly maxBytes?: number;
  readonly timeoutMs?: number;
  /** Cache lifetime bounds and the lifetime when the response says nothing (milliseconds). */
  readonly cache?: { readonly minMs: number; readonly maxMs: number; readonly defaultMs: number };
  /** Documents kept; the oldest goes first. */
  readonly maxEntries?: number;
}

export const CLIENT_METADATA_MAX_BYTES = 5 * 1024;
const TIMEOUT_MS = 5000;
const CACHE = { minMs: 60_000, maxMs: 24 * 3600_000, defaultMs: 5 * 60_000 };

class FetchRefused extends Error {}

/** max-age from Cache-Control (no-store / no-cache count as 0), clamped to the bounds. */
export function cacheLifetimeMs(cacheControl: string | null, bounds: typeof CACHE): number {
  let lifetime = bounds.defaultMs;
  if (cacheControl !== null) {
    const directives = cacheControl
      .toLowerCase()
      .split(',')
      .map((d) => d.trim());
    const maxAge = directives.map((d) => /^max-age=(\d+)$/.exec(d)?.[1]).find((v) => v !== undefined);
    if (directives.includes('no-store') || directives.includes('no-cache')) lifetime = 0;
    else if (maxAge !== undefined) lifetime = Number(maxAge) * 1000;
  }
  return Math.min(Math.max(lifetime, bounds.minMs), bounds.maxMs);
}

export function createClientMetadataDocuments(
  options: ClientMetadataDocumentsOptions,
): ClientMetadataDocuments {
  const allowed = new Set(options.allowedPrivateOrigins.map((o) => new URL(o).origin));
  const maxBytes = options.maxBytes ?? CLIENT_METADATA_MAX_BYTES;
  const timeoutMs = options.timeoutMs ?? TIMEOUT_MS;
  const bounds = options.cache ?? CACHE;
  const maxEntries = options.maxEntries ?? 1000;
  const cache = new Map<string, { metadata: ClientMetadata; expiresAt: number }>();
  const pending = new Map<string, Promise<ClientMetadata>>();
  const ca =
    options.extraCaPem && options.extraCaPem.length > 0
      ? [...rootCertificates, ...options.extraCaPem]
      : undefined;

  const guardedLookup =
    (origin: string): LookupFunction =>
    (hostname, lookupOptions, callback) => {
      lookup(hostname, { ...lookupOptions, all: true }, (error, addresses) => {
        if (error) return callback(error, '', 0);
        const list = addresses as unknown as { address: string; family: number }[];
        if (!allowed.has(origin) && list.some((a) => isBlockedAddress(a.address)))
          return callback(
            new FetchRefused(`${hostname} resolves to a loopback, private or special-use address`),
            '',
            0,
          );
        if (lookupOptions.all) return (callback as unknown as (e: null, a: typeof list) => void)(null, list);
        const first = list[0]!;
        return callback(null, first.address, first.family);
      });
    };

  async function readBounded(body: ReadableStream<Uint8Array> | null): Promise<string> {
    if (!body) return '';
    const chunks: Uint8Array[] = [];
    let size = 0;
    for await (const chunk of body) {
      size += chunk.byteLength;
      if (size > maxBytes) throw new FetchRefused(`is larger than ${maxBytes} bytes`);
      chunks.push(chunk);
    }
    try {
      return new TextDecoder('utf-8', { fatal: true }).decode(Buffer.concat(chunks));
    } catch {
      throw new FetchRefused('is not valid UTF-8');
    }
  }

  async function download(url: URL): Promise<{ document: unknown; cacheControl: string | null }> {
    const literal = url.hostname.replace(/^\[(.*)\]$/, '$1');
    if (isIP(literal) && isBlockedAddress(literal) && !allowed.has(url.origin))
      throw new FetchRefused(
        `is on a loopback, private or special-use address (${url.host}) that is not allowlisted`,
      );
    const dispatcher = new Agent({
      connect: { lookup: guardedLookup(url.origin), ...(ca ? { ca } : {}) },
      headersTimeout: timeoutMs,
      bodyTimeout: timeoutMs,
    });
    try {
      const response = await fetch(url, {
        dispatcher,
        redirect: 'manual',
        signal: AbortSignal.timeout(timeoutMs),
        headers: { accept: 'application/json' },
      });
      try {
        // Draft §4: the document is served directly; a redirect could point anywhere (SSRF).
        if (response.status >= 300 && response.status < 400)
          throw new FetchRefused(`answered with a redirect (${response.status}); redirects are not followed`);
        if (response.status !== 200) throw new FetchRefused(`answered ${response.status}, not 200`);
        const type = (response.headers.get('content-type') ?? '').split(';')[0]!.trim().toLowerCase();
        if (type !== 'application/json' && !/^application\/[a-z0-9.+-]+\+json$/.test(type))
          throw new FetchRefused(
            `is served as '${type.slice(0, 60) || 'no content type'}', not application/json`,
          );
        const length = Number(response.headers.get('content-length') ?? '0');
        if (length > maxBytes) throw new FetchRefused(`is larger than ${maxBytes} bytes`);
        const text = await readBounded(response.body as ReadableStream<Uint8Array> | null);
        let document: unknown;
        try {
          document = JSON.parse(text);
        } catch {
          throw new FetchRefused('is not valid JSON');
        }
        return { document, cacheControl: response.headers.get('cache-control') };
      } finally {
        if (!response.bodyUsed) await response.body?.cancel().catch(() => undefined);
      }
    } catch (error) {
      if (error instanceof FetchRefused) throw error;
      const cause = (error as { cause?: unknown }).cause;
      if (cause instanceof FetchRefused) throw cause;
      const reason =
        (error as Error).name === 'TimeoutError'
          ? `did not answer within ${timeoutMs} ms`
          : `could not be fetched (${((cause as Error | undefined)?.message ?? (error as Error).message).slice(0, 200)})`;
      throw new FetchRefused(reason);
    } finally {
      await dispatcher.destroy().catch(() => undefined);
    }
  }

  async function fetchAndValidate(clientId: string, url: URL): Promise<ClientMetadata> {
    let downloaded;
    try {
      downloaded = await download(url);
    } catch (error) {
      if (!(error instanceof FetchRefused)) throw error;
      throw new ClientMetadataError(
        'invalid_client',
        `The client ID metadata document at ${clientId.slice(0, 200)} ${error.message}.`,
      );
    }
    const metadata = parseClientMetadataDocument(clientId, downloaded.document);
    if (cache.size >= maxEntries) cache.delete(cache.keys().next().value!);
    cache.set(clientId, {
      metadata,
      expiresAt: options.clock.now() + cacheLifetimeMs(downloaded.cacheControl, bounds),
    });
    return metadata;
  }

  return {
    async get(clientId, getOptions = {}) {
      const url = checkClientIdUrl(clientId);
      const cached = cache.get(clientId);
      if (cached && cached.expiresAt > options.clock.now()) return cached.metadata;
      if (cached) cache.delete(clientId);
      let running = pending.get(clientId);
      if (!running) {
        getOptions.beforeFetch?.();
        running = fetchAndValidate(clientId, url).finally(() => pending.delete(clientId));
        pending.set(clientId, running);
      }
      return running;
    },
  };
}
