import type { Caller, ToolOutcome } from '../ports.ts';

/**
 * What agents/ needs to reach an external MCP server as a person: list its tools and call one, through
 * that person's connection to the connector (or the tool's shared connection). The composition root
 * implements it over the connections machinery (http/agents/mcp-connector-gateway.ts); agents/ never
 * sees a credential.
 */

/** A tool as the server lists it (MCP 2025-11-25, server/tools, "Tool"). */
export interface RemoteTool {
  readonly name: string;
  readonly title?: string;
  readonly description?: string;
  readonly inputSchema: Readonly<Record<string, unknown>>;
  readonly annotations?: {
    readonly title?: string;
    readonly readOnlyHint?: boolean;
    readonly destructiveHint?: boolean;
  };
}

export interface McpTarget {
  readonly connectorId: string;
  /** The shared connection of an app-only tool; absent, the person's own connection (or a shared one). */
  readonly connectionId?: string;
  /** The agent the call is for (recorded in the audit as the client). */
  readonly agent?: string;
}

export type McpListOutcome =
  | { readonly kind: 'ok'; readonly tools: readonly RemoteTool[]; readonly connectionId?: string }
  | Exclude<ToolOutcome, { kind: 'ok' }>;

export interface McpConnectorPort {
  listTools(caller: Caller, target: McpTarget): Promise<McpListOutcome>;
  callTool(
    caller: Caller,
    target: McpTarget,
    tool: string,
    args: Readonly<Record<string, unknown>>,
  ): Promise<ToolOutcome>;
}
