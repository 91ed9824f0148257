import type { Operation } from '../connectors/model.ts';

/**
 * Who a tool runs as (seed 003, "Identity"): `delegated` uses the caller's own per-user connection (OBO,
 * the user's permissions); `app-only` uses a shared connection (the app's permissions, never the
 * user's). The seeds' best practice: delegated for reads, app-only for writes with confirmation.
 */
export type IdentityMode = 'delegated' | 'app-only';

export const IDENTITY_MODES: readonly IdentityMode[] = ['delegated', 'app-only'];

/** A tool as an agent's maker configures it (stored with the agent). */
export interface ToolConfig {
  /** Unique in the agent; `[A-Za-z0-9_.-]{1,64}` so it is a valid MCP and OpenAI function name. */
  readonly name: string;
  readonly connectorId: string;
  readonly operationId: string;
  /** Display name; defaults to the operation summary (Copilot Studio's modelDisplayName). */
  readonly title?: string;
  /** What the model reads to choose the tool; defaults to the operation description. */
  readonly description?: string;
  readonly identity: IdentityMode;
  /** The shared connection an app-only tool runs with. */
  readonly connectionId?: string;
  /** Values the maker fixes (Copilot Studio's ManualTaskInput): hidden from the model, always sent. */
  readonly fixedValues?: Readonly<Record<string, unknown>>;
  /** Forces a confirmation even where the operation does not ask for one. */
  readonly requireConfirmation?: boolean;
  /** What a 403 is about, for the plain permission message ("this mailbox"). */
  readonly resourceNoun?: string;
  /**
   * For an MCP connector (an operation marked `x-ms-agentic-protocol`): the server's tool this tool
   * exposes. Absent, every tool the server lists to the person becomes a tool, as Copilot Studio does.
   */
  readonly mcpTool?: string;
}

/**
 * A tool served by an external MCP server behind a connector. `tool` is the server's tool name; absent,
 * this is the stand-in that becomes the server's tools once they are listed with the person's connection.
 */
export interface McpToolBinding {
  readonly tool?: string;
  readonly config: ToolConfig;
}

/** JSON Schema (2020-12 subset) as plain data. */
export type JsonSchema = Readonly<Record<string, unknown>>;

/** A tool ready to list and run: its configuration resolved against the connector's operation. */
export interface Tool {
  readonly name: string;
  readonly title: string;
  readonly description: string;
  readonly connectorId: string;
  readonly operationId: string;
  readonly identity: IdentityMode;
  readonly connectionId?: string;
  readonly inputSchema: JsonSchema;
  /** Values sent without the model choosing them: fixed values and the defaults of hidden parameters. */
  readonly presetArguments: Readonly<Record<string, unknown>>;
  readonly requiresConfirmation: boolean;
  /** Anything but GET/HEAD/OPTIONS changes state. */
  readonly isWrite: boolean;
  readonly resourceNoun: string;
  readonly operation: Operation;
  /** Present when the tool runs on an external MCP server (tools/call) rather than as an operation. */
  readonly mcp?: McpToolBinding;
}

export const TOOL_NAME = /^[A-Za-z0-9_.-]{1,64}$/;

/** "Get 10 latest emails" → "get-10-latest-emails". */
export function toolNameFrom(text: string): string {
  const slug = text
    .normalize('NFKD')
    .replace(/[^\w\s.-]/g, '')
    .trim()
    .toLowerCase()
    .replace(/[\s_]+/g, '-')
    .replace(/-+/g, '-')
    .slice(0, 64)
    .replace(/-$/, '');
  return slug === '' ? 'tool' : slug;
}
