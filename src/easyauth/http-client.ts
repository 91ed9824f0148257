import { Agent, fetch as undiciFetch } from 'undici';

/**
 * The slice of `fetch` Easy Auth needs to read discovery documents and JWKS and to redeem codes.
 * Injected so tests can count calls and so a private CA (Behalf's local CA) can be trusted without
 * touching the process-wide `NODE_EXTRA_CA_CERTS`.
 */
export interface FetchResponse {
  readonly ok: boolean;
  readonly status: number;
  json(): Promise<unknown>;
  text(): Promise<string>;
}
export type FetchLike = (
  url: string,
  init?: { method?: string; headers?: Record<string, string>; body?: string; signal?: AbortSignal },
) => Promise<FetchResponse>;

/** A fetch whose TLS trusts `ca` (PEM) in addition to nothing else: the authority's own CA. */
export function fetchTrusting(ca: string | undefined): FetchLike {
  if (!ca) return (url, init) => fetch(url, init);
  const dispatcher = new Agent({ connect: { ca } });
  return (url, init) => undiciFetch(url, { ...init, dispatcher });
}
