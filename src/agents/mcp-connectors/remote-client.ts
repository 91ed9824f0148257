import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import {
  StreamableHTTPClientTransport,
  StreamableHTTPError,
} from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import type { FetchLike } from '@modelcontextprotocol/sdk/shared/transport.js';
import type { CallToolResult } from '@modelcontextprotocol/sdk/types.js';
import { ErrorCode, McpError } from '@modelcontextprotocol/sdk/types.js';
import type { RemoteTool } from './ports.ts';

/**
 * Behalf as an MCP client of an external server: the official SDK's Client over its Streamable HTTP
 * transport (MCP 2025-11-25, basic/transports), one short session per piece of work. The credential is
 * the connection's (a token the connection machinery obtained for *this* server, or an API key), added
 * to each request by the fetch wrapper; the SDK keeps redirects within the server's origin, so the
 * credential never follows a redirect elsewhere.
 */
export interface RemoteEndpoint {
  readonly url: URL;
  /** Headers carrying the connection's credential (`authorization`, an API key header). */
  readonly headers: Readonly<Record<string, string>>;
  /** Query parameters carrying it (an API key in the query). */
  readonly query: Readonly<Record<string, string>>;
}

export type RemoteFailure = 'unreachable' | 'timeout' | 'http' | 'protocol';

/** What went wrong talking to the server; `status` is the HTTP status when the server answered one. */
export class McpRemoteError extends Error {
  readonly failure: RemoteFailure;
  readonly host: string;
  readonly status: number | undefined;
  /** The JSON-RPC error code when the server answered with one. */
  readonly rpcCode: number | undefined;
  constructor(
    failure: RemoteFailure,
    host: string,
    message: string,
    extra: { status?: number; rpcCode?: number; cause?: unknown } = {},
  ) {
    super(message, extra.cause !== undefined ? { cause: extra.cause } : undefined);
    this.name = 'McpRemoteError';
    this.failure = failure;
    this.host = host;
    this.status = extra.status;
    this.rpcCode = extra.rpcCode;
  }
}

export interface RemoteOptions {
  readonly fetch: FetchLike;
  readonly timeoutMs?: number;
  readonly clientInfo?: { readonly name: string; readonly version: string };
  /** Bounds paging through tools/list (a server that never stops paging is a server fault). */
  readonly maxPages?: number;
}

export interface RemoteSession {
  /** The server's name and title from its initialize result. */
  readonly server: { readonly name: string; readonly title?: string } | undefined;
  listTools(): Promise<RemoteTool[]>;
  callTool(name: string, args: Readonly<Record<string, unknown>>): Promise<CallToolResult>;
}

function credentialFetch(endpoint: RemoteEndpoint, base: FetchLike): FetchLike {
  return (input, init) => {
    const url = new URL(String(input));
    for (const [name, value] of Object.entries(endpoint.query)) url.searchParams.set(name, value);
    const headers = new Headers(init?.headers);
    for (const [name, value] of Object.entries(endpoint.headers)) headers.set(name, value);
    return base(url, { ...init, headers });
  };
}

const NETWORK_CODES = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ENOTFOUND',
  'EAI_AGAIN',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'UND_ERR_SOCKET',
  'UND_ERR_CONNECT_TIMEOUT',
  'CERT_HAS_EXPIRED',
  'DEPTH_ZERO_SELF_SIGNED_CERT',
  'SELF_SIGNED_CERT_IN_CHAIN',
  'UNABLE_TO_VERIFY_LEAF_SIGNATURE',
  'ERR_TLS_CERT_ALTNAME_INVALID',
]);

/** The system or undici error code behind a fetch failure (`ECONNREFUSED`, `ENOTFOUND`, …). */
export function causeCode(error: unknown): string | undefined {
  for (let e: unknown = error, depth = 0; e && depth < 5; depth++) {
    const code = (e as { code?: unknown }).code;
    if (typeof code === 'string') return code;
    e = (e as { cause?: unknown }).cause;
  }
  return undefined;
}

/** Classifies whatever the SDK or fetch threw; the message never carries the server's body. */
export function classify(error: unknown, host: string): McpRemoteError {
  if (error instanceof McpRemoteError) return error;
  if (error instanceof StreamableHTTPError && typeof error.code === 'number' && error.code >= 100)
    return new McpRemoteError('http', host, `${host} answered HTTP ${error.code}.`, {
      status: error.code,
      cause: error,
    });
  if (error instanceof McpError) {
    if (error.code === ErrorCode.RequestTimeout)
      return new McpRemoteError('timeout', host, `${host} did not answer in time.`, { cause: error });
    return new McpRemoteError('protocol', host, `${host}: ${error.message.split('\n')[0]!.slice(0, 300)}`, {
      rpcCode: error.code,
      cause: error,
    });
  }
  const code = causeCode(error);
  if (code === 'UND_ERR_CONNECT_TIMEOUT' || code === 'UND_ERR_HEADERS_TIMEOUT' || code === 'ABORT_ERR')
    return new McpRemoteError('timeout', host, `${host} did not answer in time.`, { cause: error });
  if (
    (code !== undefined && NETWORK_CODES.has(code)) ||
    (error instanceof TypeError && /fetch/i.test(error.message))
  )
    return new McpRemoteError('unreachable', host, `could not reach ${host}${code ? ` (${code})` : ''}`, {
      cause: error,
    });
  return new McpRemoteError('protocol', host, `${host} did not speak MCP as expected.`, { cause: error });
}

/** Opens a session, runs `work`, and ends the session (DELETE; servers may refuse it, which is fine). */
export async function withRemoteServer<T>(
  endpoint: RemoteEndpoint,
  options: RemoteOptions,
  work: (session: RemoteSession) => Promise<T>,
): Promise<T> {
  const host = endpoint.url.host;
  const timeout = options.timeoutMs ?? 30_000;
  const transport = new StreamableHTTPClientTransport(endpoint.url, {
    fetch: credentialFetch(endpoint, options.fetch),
    // One attempt: a failing stream is reported, not retried behind the person's back.
    reconnectionOptions: {
      initialReconnectionDelay: 1000,
      maxReconnectionDelay: 1000,
      reconnectionDelayGrowFactor: 1,
      maxRetries: 0,
    },
  });
  const client = new Client(options.clientInfo ?? { name: 'behalf', version: '0.1.0' }, { capabilities: {} });
  // Errors of the background SSE stream are not the request's; the request's own promise reports those.
  client.onerror = () => undefined;
  try {
    await client.connect(transport, { timeout });
  } catch (error) {
    await client.close().catch(() => undefined);
    throw classify(error, host);
  }
  try {
    const info = client.getServerVersion();
    return await work({
      server: info
        ? { name: info.name, ...(info.title !== undefined ? { title: info.title } : {}) }
        : undefined,
      async listTools() {
        const tools: RemoteTool[] = [];
        let cursor: string | undefined;
        for (let page = 0; page < (options.maxPages ?? 20); page++) {
          const result = await client.listTools(cursor !== undefined ? { cursor } : {}, { timeout });
          for (const tool of result.tools)
            tools.push({
              name: tool.name,
              ...(tool.title !== undefined ? { title: tool.title } : {}),
              ...(tool.description !== undefined ? { description: tool.description } : {}),
              inputSchema: tool.inputSchema,
              ...(tool.annotations
                ? {
                    annotations: {
                      ...(tool.annotations.title !== undefined ? { title: tool.annotations.title } : {}),
                      ...(tool.annotations.readOnlyHint !== undefined
                        ? { readOnlyHint: tool.annotations.readOnlyHint }
                        : {}),
                      ...(tool.annotations.destructiveHint !== undefined
                        ? { destructiveHint: tool.annotations.destructiveHint }
                        : {}),
                    },
                  }
                : {}),
            });
          cursor = result.nextCursor;
          if (cursor === undefined) return tools;
        }
        return tools;
      },
      async callTool(name, args) {
        return (await client.callTool({ name, arguments: { ...args } }, undefined, {
          timeout,
        })) as CallToolResult;
      },
    });
  } catch (error) {
    throw classify(error, host);
  } finally {
    await transport.terminateSession().catch(() => undefined);
    await client.close().catch(() => undefined);
  }
}
