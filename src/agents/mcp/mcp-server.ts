import { Server } from '@modelcontextprotocol/sdk/server/index.js';
import type { CallToolResult, ClientCapabilities } from '@modelcontextprotocol/sdk/types.js';
import {
  CallToolRequestSchema,
  ElicitResultSchema,
  ErrorCode,
  ListToolsRequestSchema,
  McpError,
  UrlElicitationRequiredError,
} from '@modelcontextprotocol/sdk/types.js';
import type { Random } from '../../core/ids.ts';
import { opaqueToken } from '../../core/ids.ts';
import type { AgentView } from '../agent-model.ts';
import { describeResult } from '../chat-text.ts';
import type { Caller } from '../ports.ts';
import type { Tool } from '../tool-model.ts';
import type { ToolResult, ToolRunner } from '../tool-runner.ts';

/**
 * One agent as an MCP server (tools only, like Copilot Studio: connector-format.md §6.2), for one
 * authenticated person. Built on the official SDK's low-level Server so the input schemas we derive from
 * connector operations are served verbatim (JSON Schema, not zod).
 */
export interface AgentMcpServerOptions {
  readonly agent: AgentView;
  readonly caller: Caller;
  /** The tools this person may use: tools/list shows nothing else and tools/call refuses the rest. */
  readonly tools: () => Promise<readonly Tool[]>;
  readonly runTool: ToolRunner;
  readonly random: Random;
  readonly version: string;
}

/** Form-mode elicitation: a yes/no the client shows to the person, never answered by the model. */
const CONFIRM_SCHEMA = {
  type: 'object',
  properties: { confirm: { type: 'boolean', title: 'Run it', description: 'Yes, run this now.' } },
  required: ['confirm'],
} as const;

// 2025-11-25 client capabilities: `elicitation: {}` means form only; `url` must be declared.
const supportsForm = (c: ClientCapabilities | undefined) =>
  c?.elicitation !== undefined && (Object.keys(c.elicitation).length === 0 || 'form' in c.elicitation);
const supportsUrl = (c: ClientCapabilities | undefined) =>
  c?.elicitation !== undefined && 'url' in c.elicitation;

function text(result: ToolResult, tool: Tool, isError: boolean): CallToolResult {
  return { content: [{ type: 'text', text: describeResult(tool, result) }], isError };
}

export function createAgentMcpServer(options: AgentMcpServerOptions): Server {
  const { agent, caller, runTool, random } = options;
  const server = new Server(
    { name: `behalf-${agent.name}`, title: agent.displayName, version: options.version },
    {
      capabilities: { tools: { listChanged: false } },
      ...(agent.instructions ? { instructions: agent.instructions } : {}),
    },
  );

  server.setRequestHandler(ListToolsRequestSchema, async () => ({
    tools: (await options.tools()).map((tool) => ({
      name: tool.name,
      title: tool.title,
      description: tool.description,
      inputSchema: tool.inputSchema as { type: 'object'; [key: string]: unknown },
      annotations: {
        title: tool.title,
        readOnlyHint: !tool.isWrite,
        // Connector operations reach outside Behalf: an open world by MCP's definition.
        openWorldHint: true,
      },
    })),
  }));

  server.setRequestHandler(CallToolRequestSchema, async (request, extra): Promise<CallToolResult> => {
    const tool = (await options.tools()).find((t) => t.name === request.params.name);
    // An unknown tool is a protocol error (MCP 2025-11-25 server/tools, "Error Handling").
    if (!tool) throw new McpError(ErrorCode.InvalidParams, `Unknown tool: ${request.params.name}`);
    const args = request.params.arguments ?? {};
    const run = (confirmed: boolean) =>
      runTool({ caller, agent: agent.name, channel: 'mcp', tool, arguments: args, confirmed });
    let result = await run(false);
    const capabilities = server.getClientCapabilities();

    if (result.kind === 'needs-confirmation') {
      if (!supportsForm(capabilities))
        return text(
          {
            kind: 'failed',
            code: 'ConfirmationRequired',
            message: result.prompt,
            remediation:
              'This client cannot ask you to confirm; run the tool from the Behalf chat page instead.',
          },
          tool,
          true,
        );
      const answer = await extra.sendRequest(
        {
          method: 'elicitation/create',
          params: { mode: 'form', message: result.prompt, requestedSchema: CONFIRM_SCHEMA },
        },
        ElicitResultSchema,
      );
      if (answer.action !== 'accept' || answer.content?.confirm !== true)
        return {
          content: [{ type: 'text', text: `Not run: "${tool.title}" was not confirmed.` }],
          isError: true,
        };
      result = await run(true);
    }

    switch (result.kind) {
      case 'ok': {
        const structured =
          typeof result.body === 'object' && result.body !== null && !Array.isArray(result.body)
            ? { structuredContent: result.body as Record<string, unknown> }
            : {};
        return { content: [{ type: 'text', text: JSON.stringify(result.body ?? null) }], ...structured };
      }
      case 'consent-required':
        // URL-mode elicitation (SEP-1036): the person opens the consent URL in their browser; the
        // third-party credential never transits the MCP client.
        if (supportsUrl(capabilities))
          throw new UrlElicitationRequiredError(
            [
              {
                mode: 'url',
                elicitationId: opaqueToken(random, 16),
                url: result.card.url,
                message: result.card.message,
              },
            ],
            result.card.message,
          );
        return {
          content: [
            {
              type: 'text',
              text: `${result.card.message}\nOpen this link to connect, then call the tool again: ${result.card.url}`,
            },
          ],
          structuredContent: {
            consentRequired: { connector: result.card.connectorName, url: result.card.url },
          },
          isError: true,
        };
      default:
        // Input validation and run failures are tool execution errors the model can read and correct.
        return text(result, tool, true);
    }
  });
  return server;
}
