import { createServer } from 'node:https';
import type { Server } from 'node:https';
import type { AddressInfo } from 'node:net';
import { InMemoryOAuthProvider } from './agents-mcp-oauth.ts';

/**
 * Where an MCP host publishes its client ID metadata document (draft-ietf-oauth-client-id-metadata-
 * document): a small HTTPS server on loopback, with a certificate from Behalf's local CA, serving
 * whatever each path is set to and recording every request, so a test can tell whether (and how often)
 * Behalf fetched a document.
 */
export interface ServedDocument {
  readonly status?: number;
  readonly headers?: Readonly<Record<string, string>>;
  readonly body: string;
}

export interface ClientMetadataServer {
  /** `https://127.0.0.1:{port}`: the origin to allowlist. */
  readonly origin: string;
  readonly port: number;
  /** Paths requested, in order. */
  readonly hits: string[];
  url(path: string): string;
  serve(path: string, document: ServedDocument): void;
  /** A JSON document served with `application/json` (and `cache-control` when given). */
  serveJson(path: string, json: unknown, cacheControl?: string): void;
  close(): Promise<void>;
}

export async function startClientMetadataServer(tls: {
  readonly key: string;
  readonly cert: string;
}): Promise<ClientMetadataServer> {
  const documents = new Map<string, ServedDocument>();
  const hits: string[] = [];
  const server: Server = createServer({ key: tls.key, cert: tls.cert }, (request, response) => {
    const path = new URL(request.url ?? '/', 'https://localhost').pathname;
    hits.push(path);
    const document = documents.get(path);
    if (!document) {
      response.writeHead(404, { 'content-type': 'text/plain' }).end('not found');
      return;
    }
    response.writeHead(document.status ?? 200, { ...document.headers }).end(document.body);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as AddressInfo).port;
  const origin = `https://127.0.0.1:${port}`;
  return {
    origin,
    port,
    hits,
    url: (path) => `${origin}${path}`,
    serve: (path, document) => void documents.set(path, document),
    serveJson(path, json, cacheControl) {
      documents.set(path, {
        headers: {
          'content-type': 'application/json',
          ...(cacheControl ? { 'cache-control': cacheControl } : {}),
        },
        body: JSON.stringify(json),
      });
    },
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

/**
 * The SDK's OAuthClientProvider as a host that publishes a metadata document writes it: the same
 * in-memory provider, plus `clientMetadataUrl`, which the SDK uses as client_id when the authorization
 * server advertises `client_id_metadata_document_supported` (instead of registering).
 */
export class MetadataUrlOAuthProvider extends InMemoryOAuthProvider {
  readonly clientMetadataUrl: string;
  constructor(redirectUrl: string, clientMetadataUrl: string) {
    super(redirectUrl);
    this.clientMetadataUrl = clientMetadataUrl;
  }
}
