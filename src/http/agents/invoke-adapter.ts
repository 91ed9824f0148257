import { createHash } from 'node:crypto';
import type { Caller, InvokeTool, ToolOutcome } from '../../agents/ports.ts';
import type { Clock } from '../../core/clock.ts';
import { isWireError } from '../../core/errors.ts';
import type { Logger } from '../../core/logger.ts';
import type { InvokeOperation } from '../../gateway/invoke-operation.ts';
import type { TokenService } from '../../idp/token-service.ts';
import type { McpResourceApps } from '../idp-mcp/mcp-resource-app.ts';

/**
 * The agents' InvokeTool port over the gateway's in-process invokeOperation. The gateway accepts only
 * tokens for Behalf Connections: a chat token already is one; an MCP token (audience: the agent's MCP
 * URL) is first exchanged on-behalf-of by the tenant's Behalf MCP app, in process, through the token
 * service's own OBO grant (same checks as over HTTP: signature, audience, consent). The MCP client's token
 * never reaches the gateway or anything downstream (MCP authorization 2025-11-25, "Token Passthrough").
 */
export interface InvokeAdapterOptions {
  readonly invokeOperation: InvokeOperation;
  readonly tokens: TokenService;
  readonly resourceApps: McpResourceApps;
  readonly behalfConnectionsAppId: () => string;
  readonly clock: Clock;
  readonly logger: Logger;
  /** Shared with the MCP connectors' runtime, so one person's token is exchanged once for both. */
  readonly connectionsToken?: ConnectionsToken;
}

const OBO_GRANT = 'urn:ietf:params:oauth:grant-type:jwt-bearer';

function claimsOf(token: string): Record<string, unknown> {
  try {
    return JSON.parse(Buffer.from(token.split('.')[1] ?? '', 'base64url').toString('utf8')) as Record<
      string,
      unknown
    >;
  } catch {
    return {};
  }
}

/** An agent caller's token for Behalf Connections: the caller's own, or one exchanged on-behalf-of. */
export type ConnectionsToken = (caller: Caller, assertion: string) => Promise<string>;

/**
 * The in-process OBO hop from an MCP token (audience: the agent's MCP URL) to a token for Behalf
 * Connections, by the tenant's Behalf MCP app; a chat token already is one and is used as is.
 */
export function createConnectionsTokenExchange(
  options: Pick<InvokeAdapterOptions, 'tokens' | 'resourceApps' | 'behalfConnectionsAppId' | 'clock'>,
): ConnectionsToken {
  const { tokens, clock } = options;
  // Exchanged tokens by a hash of the MCP token, until a minute before they expire.
  const exchanged = new Map<string, { token: string; until: number }>();

  return async function connectionsToken(caller: Caller, assertion: string): Promise<string> {
    const connections = options.behalfConnectionsAppId();
    const aud = String(claimsOf(assertion)['aud'] ?? '');
    if (aud === connections || aud === `api://${connections}`) return assertion;
    const key = createHash('sha256').update(assertion).digest('base64url');
    const hit = exchanged.get(key);
    if (hit && hit.until > clock.now()) return hit.token;
    const app = await options.resourceApps.ensure(caller.tenantId);
    const body = (await tokens.token({
      endpoint: 2,
      tenantSegment: caller.tenantId,
      form: {
        grant_type: OBO_GRANT,
        client_id: app.appId,
        client_secret: app.clientSecret,
        assertion,
        scope: `api://${connections}/user_impersonation`,
        requested_token_use: 'on_behalf_of',
      },
    })) as { access_token?: unknown; expires_in?: unknown };
    if (typeof body.access_token !== 'string') throw new Error('the OBO response has no access token');
    const lifetime = typeof body.expires_in === 'number' ? body.expires_in : Number(body.expires_in ?? 0);
    if (exchanged.size > 5_000) exchanged.clear();
    exchanged.set(key, { token: body.access_token, until: clock.now() + Math.max(0, lifetime - 60) * 1000 });
    return body.access_token;
  };
}

export function createInvokeAdapter(options: InvokeAdapterOptions): InvokeTool {
  const { invokeOperation } = options;
  const connectionsToken = options.connectionsToken ?? createConnectionsTokenExchange(options);

  return async (caller, invocation): Promise<ToolOutcome> => {
    const { tool } = invocation;
    if (caller.assertion === undefined)
      return { kind: 'failed', status: 401, code: 'NoSignIn', message: 'Sign in again to use this tool.' };
    let token: string;
    try {
      token = await connectionsToken(caller, caller.assertion);
    } catch (error) {
      if (!isWireError(error)) throw error;
      const body = error.body() as { error?: string; error_description?: string };
      options.logger.info('agent tool token exchange refused', {
        tenantId: caller.tenantId,
        error: body.error,
      });
      return {
        kind: 'failed',
        status: 401,
        code: body.error ?? 'TokenExchangeFailed',
        message: `Behalf could not use your sign-in for "${tool.title}": ${(body.error_description ?? '').split('\r\n')[0]}`,
      };
    }
    const outcome = await invokeOperation(token, {
      connectorId: tool.connectorId,
      operationId: tool.operationId,
      arguments: invocation.arguments,
      ...(invocation.identity === 'app-only' && tool.connectionId !== undefined
        ? { connectionId: tool.connectionId }
        : {}),
    });
    switch (outcome.kind) {
      case 'ok':
        return { kind: 'ok', status: outcome.status, body: outcome.body, connectionId: outcome.connectionId };
      case 'consent-required':
        return {
          kind: 'consent-required',
          card: {
            connectorId: tool.connectorId,
            connectorName: outcome.card.connectorName,
            url: outcome.card.consentUrl,
            message: outcome.card.text || outcome.message,
          },
        };
      case 'failed':
        return {
          kind: 'failed',
          // The API's own status decides the person's message (403: "You might not have access to …").
          status: outcome.upstreamStatus ?? outcome.status,
          code: outcome.code,
          message: outcome.message,
        };
    }
  };
}
