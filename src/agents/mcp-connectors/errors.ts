import { WireError } from '../../core/errors.ts';

/**
 * Errors of MCP server registration, in the management API's envelope (`{ error: { code, message } }`,
 * as the connectors and agents APIs answer). A bad URL or a server that is not an MCP server is the
 * maker's to fix (4xx); a server that cannot be reached is 502 and names the host.
 */
export class McpRegistrationError extends WireError {
  readonly status: number;
  readonly code: string;
  readonly details: readonly { path: string; message: string }[] | undefined;
  constructor(
    status: number,
    code: string,
    message: string,
    details?: readonly { path: string; message: string }[],
  ) {
    super(message);
    this.name = 'McpRegistrationError';
    this.status = status;
    this.code = code;
    this.details = details;
  }
  body(): unknown {
    return {
      error: {
        code: this.code,
        message: this.message,
        ...(this.details !== undefined ? { details: this.details } : {}),
      },
    };
  }
}

export const registrationErrors = {
  invalid: (details: readonly { path: string; message: string }[]) =>
    new McpRegistrationError(
      400,
      'InvalidMcpServer',
      `The MCP server registration is not valid: ${details.map((d) => `${d.path} ${d.message}`).join('; ')}`,
      details,
    ),
  badUrl: (message: string) =>
    new McpRegistrationError(400, 'InvalidMcpServerUrl', message, [{ path: '/url', message }]),
  unreachable: (host: string, why: string) =>
    new McpRegistrationError(
      502,
      'McpServerUnreachable',
      `${host} cannot be reached (${why}); check that the MCP server is running and its URL is right.`,
    ),
  timeout: (host: string) =>
    new McpRegistrationError(504, 'McpServerTimeout', `${host} did not answer in time; retry later.`),
  notMcp: (url: string, status: number) =>
    new McpRegistrationError(
      422,
      'NotAnMcpServer',
      `${url} answered HTTP ${status} to an MCP initialize request; give the URL of a Streamable HTTP MCP endpoint (often ending in /mcp).`,
    ),
  serverFailed: (host: string, status: number) =>
    new McpRegistrationError(
      502,
      'McpServerError',
      `${host} answered HTTP ${status} to an MCP initialize request; retry later or tell its owner.`,
    ),
  needsAuth: (host: string, status: number) =>
    new McpRegistrationError(
      400,
      'McpServerRequiresAuthentication',
      `${host} answered HTTP ${status} without credentials: register it with auth "apiKey" or "oauth".`,
    ),
  keyRefused: (host: string, status: number) =>
    new McpRegistrationError(
      400,
      'ApiKeyRefused',
      `${host} refused the API key (HTTP ${status}); check the key and where it goes (header or query, and its name).`,
    ),
  oauth: (message: string, status = 422) => new McpRegistrationError(status, 'OAuthDiscoveryFailed', message),
} as const;
