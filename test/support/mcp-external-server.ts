import { createServer } from 'node:https';
import type { IncomingMessage, Server as HttpsServer, ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Server } from '@modelcontextprotocol/sdk/server/index.js';
import { StreamableHTTPServerTransport } from '@modelcontextprotocol/sdk/server/streamableHttp.js';
import { CallToolRequestSchema, ListToolsRequestSchema } from '@modelcontextprotocol/sdk/types.js';
import type { CallToolResult, Tool } from '@modelcontextprotocol/sdk/types.js';
import { createTokenValidator } from '../../src/easyauth/validator.ts';
import type { Principal } from '../../src/easyauth/principal.ts';

/**
 * "A small MCP server written in the test with the SDK, protected by Behalf" (issue 8): the SDK's own
 * Server and Streamable HTTP transport (stateless) behind node:https with Behalf's certificate, and:
 *
 * - `/mcp`: protected by Behalf's identity provider the way the MCP authorization spec asks: a 401 with
 *   `resource_metadata` (RFC 9728) naming Behalf's tenant as authorization server, Behalf-issued tokens
 *   validated for this server's own audience only (Easy Auth's validator). `whoami` answers with the
 *   token's identity and audience; `payroll` is refused to Bob with HTTP 403 (insufficient_scope).
 * - `/open/mcp`: no authentication; `echo`.
 * - `/keyed/mcp`: an API key in `x-api-key`; `stamp`.
 * - `/generic/mcp`: always 401, its metadata pointing at a small non-Entra authorization server under
 *   `/as` with RFC 8414 metadata and RFC 7591 registration (records the registration requests).
 *
 * Every request is recorded with what it carried (never the token itself: its audience and subject).
 */
export interface SeenRequest {
  readonly path: string;
  readonly hadAuthorization: boolean;
  readonly apiKey?: string;
  readonly aud?: string;
  readonly upn?: string;
  readonly oid?: string;
  readonly rpcMethod?: string;
  readonly tool?: string;
}

export interface ExternalMcpServer {
  readonly url: string;
  readonly seen: SeenRequest[];
  readonly registrations: Record<string, unknown>[];
  close(): Promise<void>;
}

export interface ExternalMcpServerOptions {
  readonly tls: { readonly key: string; readonly cert: string };
  /** Behalf's local CA, to fetch its discovery documents and keys. */
  readonly ca: string;
  /** `https://behalf/{tenantId}`: the authority whose tokens /mcp accepts. */
  readonly authority: string;
  /** This server's audiences (its appId and identifier URI). */
  readonly audiences: readonly string[];
  readonly scopes: readonly string[];
  readonly apiKey: string;
}

const TOOLS: Readonly<Record<string, Tool[]>> = {
  oauth: [
    {
      name: 'whoami',
      title: 'Who am I',
      description: 'Tells who the MCP server sees calling: the signed-in person of the token it received.',
      inputSchema: { type: 'object', properties: {} },
      annotations: { readOnlyHint: true },
    },
    {
      name: 'payroll',
      description: 'Reads the payroll of the team (people in payroll only).',
      inputSchema: { type: 'object', properties: { month: { type: 'string', pattern: '^\\d{4}-\\d{2}$' } } },
      annotations: { readOnlyHint: true },
    },
  ],
  open: [
    {
      name: 'echo',
      description: 'Says the text back.',
      inputSchema: { type: 'object', properties: { text: { type: 'string' } }, required: ['text'] },
      annotations: { readOnlyHint: true },
    },
  ],
  keyed: [
    {
      name: 'stamp',
      description: 'Stamps a document with the key holder’s seal.',
      inputSchema: { type: 'object', properties: { document: { type: 'string' } }, required: ['document'] },
      annotations: { readOnlyHint: true },
    },
  ],
};

function mcpServer(kind: string, principal: Principal | undefined, claims: Record<string, unknown>): Server {
  const server = new Server(
    { name: `contoso-${kind}`, title: `Contoso ${kind} tools`, version: '1.0.0' },
    {
      capabilities: { tools: {} },
    },
  );
  server.setRequestHandler(ListToolsRequestSchema, async () => ({ tools: TOOLS[kind] ?? [] }));
  server.setRequestHandler(CallToolRequestSchema, async (request): Promise<CallToolResult> => {
    const args = (request.params.arguments ?? {}) as Record<string, unknown>;
    switch (request.params.name) {
      case 'whoami': {
        const who = { oid: principal?.oid, upn: principal?.upn, name: principal?.name, aud: claims['aud'] };
        return { content: [{ type: 'text', text: JSON.stringify(who) }], structuredContent: who };
      }
      case 'payroll':
        return {
          content: [{ type: 'text', text: JSON.stringify({ month: args['month'] ?? 'current', total: 42 }) }],
        };
      case 'echo':
        return { content: [{ type: 'text', text: String(args['text']) }] };
      case 'stamp':
        return { content: [{ type: 'text', text: `stamped: ${String(args['document'])}` }] };
      default:
        return { content: [{ type: 'text', text: `No tool ${request.params.name}.` }], isError: true };
    }
  });
  return server;
}

async function readJson(req: IncomingMessage): Promise<unknown> {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  const text = Buffer.concat(chunks).toString('utf8');
  return text ? (JSON.parse(text) as unknown) : undefined;
}

function send(
  res: ServerResponse,
  status: number,
  body: unknown,
  headers: Record<string, string> = {},
): void {
  res.writeHead(status, { 'content-type': 'application/json', ...headers }).end(JSON.stringify(body));
}

const claimsOf = (token: string) =>
  JSON.parse(Buffer.from(token.split('.')[1] ?? '', 'base64url').toString('utf8')) as Record<string, unknown>;

export async function startExternalMcpServer(options: ExternalMcpServerOptions): Promise<ExternalMcpServer> {
  const seen: SeenRequest[] = [];
  const registrations: Record<string, unknown>[] = [];
  const validator = createTokenValidator({
    authority: options.authority,
    audiences: options.audiences,
    ca: options.ca,
  });
  let base = '';

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const path = new URL(req.url ?? '/', 'https://x').pathname;
    const challenge = (where: string) =>
      `Bearer resource_metadata="${base}/.well-known/oauth-protected-resource${where}"`;

    if (req.method === 'GET' && path === '/.well-known/oauth-protected-resource/mcp')
      return send(res, 200, {
        resource: `${base}/mcp`,
        authorization_servers: [`${options.authority}/v2.0`],
        scopes_supported: options.scopes,
        bearer_methods_supported: ['header'],
        resource_name: 'Contoso tools',
      });
    if (req.method === 'GET' && path === '/.well-known/oauth-protected-resource/generic/mcp')
      return send(res, 200, {
        resource: `${base}/generic/mcp`,
        authorization_servers: [`${base}/as`],
        scopes_supported: ['tools.read'],
      });
    if (req.method === 'GET' && path === '/.well-known/oauth-authorization-server/as')
      return send(res, 200, {
        issuer: `${base}/as`,
        authorization_endpoint: `${base}/as/authorize`,
        token_endpoint: `${base}/as/token`,
        registration_endpoint: `${base}/as/register`,
        response_types_supported: ['code'],
        grant_types_supported: ['authorization_code', 'refresh_token'],
        code_challenge_methods_supported: ['S256'],
        token_endpoint_auth_methods_supported: ['client_secret_post'],
      });
    if (req.method === 'POST' && path === '/as/register') {
      const body = (await readJson(req)) as Record<string, unknown>;
      registrations.push(body);
      return send(res, 201, { ...body, client_id: 'dcr-client-1', client_secret: 'dcr-secret-1' });
    }

    const kind =
      path === '/mcp'
        ? 'oauth'
        : path === '/open/mcp'
          ? 'open'
          : path === '/keyed/mcp'
            ? 'keyed'
            : path === '/generic/mcp'
              ? 'generic'
              : undefined;
    if (!kind) return send(res, 404, { error: 'not_found' });
    const authorization = req.headers.authorization;
    const apiKey = typeof req.headers['x-api-key'] === 'string' ? req.headers['x-api-key'] : undefined;
    const body = req.method === 'POST' ? await readJson(req).catch(() => undefined) : undefined;
    const rpc = (body ?? {}) as { method?: string; params?: { name?: string } };
    const record: Omit<SeenRequest, 'aud' | 'upn' | 'oid'> = {
      path,
      hadAuthorization: authorization !== undefined,
      ...(apiKey !== undefined ? { apiKey } : {}),
      ...(rpc.method !== undefined ? { rpcMethod: rpc.method } : {}),
      ...(rpc.params?.name !== undefined ? { tool: rpc.params.name } : {}),
    };

    let principal: Principal | undefined;
    let claims: Record<string, unknown> = {};
    if (kind === 'generic') {
      seen.push(record);
      return send(res, 401, { error: 'invalid_token' }, { 'www-authenticate': challenge('/generic/mcp') });
    }
    if (kind === 'keyed' && apiKey !== options.apiKey) {
      seen.push(record);
      return send(res, 401, { error: 'invalid_api_key' });
    }
    if (kind === 'oauth') {
      const token = /^Bearer (\S+)$/i.exec(authorization ?? '')?.[1];
      if (!token) {
        seen.push(record);
        return send(res, 401, { error: 'invalid_token' }, { 'www-authenticate': challenge('/mcp') });
      }
      claims = claimsOf(token);
      try {
        principal = await validator.validate(token);
      } catch (error) {
        seen.push({ ...record, ...(typeof claims['aud'] === 'string' ? { aud: claims['aud'] } : {}) });
        return send(
          res,
          401,
          { error: 'invalid_token', error_description: (error as Error).message },
          {
            'www-authenticate': `${challenge('/mcp')}, error="invalid_token"`,
          },
        );
      }
      seen.push({
        ...record,
        aud: String(claims['aud']),
        ...(principal.upn !== undefined ? { upn: principal.upn } : {}),
        oid: principal.oid,
      });
      // Authorization beyond the token: Bob is not in payroll (MCP 2025-11-25, 403 insufficient_scope).
      if (rpc.method === 'tools/call' && rpc.params?.name === 'payroll' && principal.upn?.startsWith('bob@'))
        return send(
          res,
          403,
          { error: 'insufficient_scope', error_description: 'Not in payroll.' },
          {
            'www-authenticate': `Bearer error="insufficient_scope", scope="${options.scopes.join(' ')}"`,
          },
        );
    } else seen.push(record);

    // A stateless server: no stream for server-initiated messages, no session to end.
    if (req.method !== 'POST') return send(res, 405, { error: 'method_not_allowed' }, { allow: 'POST' });
    const server = mcpServer(kind, principal, claims);
    const transport = new StreamableHTTPServerTransport({ enableJsonResponse: true });
    res.on('close', () => {
      void transport.close();
      void server.close();
    });
    await server.connect(transport);
    await transport.handleRequest(req, res, body);
  }

  const http: HttpsServer = createServer(options.tls, (req, res) => {
    handle(req, res).catch((error: unknown) => {
      if (!res.headersSent) send(res, 500, { error: 'server_error', message: String(error) });
    });
  });
  await new Promise<void>((resolve) => http.listen(0, '127.0.0.1', resolve));
  base = `https://127.0.0.1:${(http.address() as AddressInfo).port}`;
  return {
    url: base,
    seen,
    registrations,
    close: () =>
      new Promise<void>((resolve) => {
        http.closeAllConnections();
        http.close(() => resolve());
      }),
  };
}
