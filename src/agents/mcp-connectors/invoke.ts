import type { InvokeTool } from '../ports.ts';
import type { McpToolExpander } from './expand.ts';
import type { McpConnectorPort, McpTarget } from './ports.ts';
import { toolsFromRemote } from './remote-tools.ts';

/**
 * The agents' invoke port with MCP connectors: a tool served by an external MCP server runs as a
 * tools/call on that server through the person's connection; every other tool goes to `fallback` (the
 * gateway). The stand-in of a server whose tools could not be listed yet (no connection) lists them
 * now: the person gets the consent card, or, once connected, the names of the tools that appeared.
 */
export function createMcpAwareInvoke(options: {
  readonly port: McpConnectorPort;
  readonly fallback: InvokeTool;
  readonly expander?: McpToolExpander;
}): InvokeTool {
  const { port, fallback } = options;
  return async (caller, invocation) => {
    const { tool } = invocation;
    if (!tool.mcp) return fallback(caller, invocation);
    const target: McpTarget = {
      connectorId: tool.connectorId,
      ...(invocation.identity === 'app-only' && tool.connectionId !== undefined
        ? { connectionId: tool.connectionId }
        : {}),
    };
    if (tool.mcp.tool === undefined) {
      const listed = await port.listTools(caller, target);
      if (listed.kind !== 'ok') return listed;
      options.expander?.forget(caller, tool.connectorId);
      const names = toolsFromRemote(tool, listed.tools).map((t) => t.name);
      return {
        kind: 'ok',
        status: 200,
        body: {
          connected: true,
          tools: names,
          message: `Connected to ${tool.resourceNoun}: list the tools again to use ${names.length === 1 ? 'its tool' : `its ${names.length} tools`}.`,
        },
        ...(listed.connectionId !== undefined ? { connectionId: listed.connectionId } : {}),
      };
    }
    const outcome = await port.callTool(caller, target, tool.mcp.tool, invocation.arguments);
    // The server no longer has the tool: the next list must come from the server, not the cache.
    if (outcome.kind === 'failed' && outcome.code === 'McpInvalidParams')
      options.expander?.forget(caller, tool.connectorId);
    return outcome;
  };
}
