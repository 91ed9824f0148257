import type { JsonSchema, Tool } from '../tool-model.ts';
import { TOOL_NAME } from '../tool-model.ts';
import { inlineSchema } from '../tool-schema.ts';
import type { RemoteTool } from './ports.ts';

/**
 * An MCP server's tools as agent tools. "Name, description, inputs, and outputs are inherited from the
 * server" (Copilot Studio, connector-format.md §6.2); the maker's tool configuration adds what a
 * connector operation tool has: identity, a shared connection, confirmation, fixed values (only when
 * the configuration names one tool, since fixed values belong to one schema) and overrides.
 *
 * Unlike Copilot Studio, tools whose schemas use `$ref` are kept (local refs inlined) and unions are
 * kept as written (the same rule as operation tools, tool-schema.ts).
 */
export function toolsFromRemote(standIn: Tool, remote: readonly RemoteTool[]): Tool[] {
  const config = standIn.mcp?.config;
  if (!config) return [standIn];
  const chosen = config.mcpTool !== undefined ? remote.filter((t) => t.name === config.mcpTool) : remote;
  const tools: Tool[] = [];
  for (const server of chosen) {
    const one = config.mcpTool !== undefined;
    const fixed = one ? (config.fixedValues ?? {}) : {};
    const { schema, unknown } = withoutFixed(objectSchema(server.inputSchema), Object.keys(fixed));
    // A fixed value for an input the server no longer has: the tool is dropped rather than called wrong.
    if (unknown.length > 0) continue;
    const name = one ? config.name : toolName(server.name);
    if (!TOOL_NAME.test(name)) continue;
    const title =
      (one ? config.title : undefined) ?? server.annotations?.title ?? server.title ?? server.name;
    // MCP's default readOnlyHint is false: a tool that does not say it only reads is treated as a write.
    const isWrite = server.annotations?.readOnlyHint !== true;
    tools.push({
      name,
      title,
      description: (one ? config.description : undefined) ?? server.description ?? title,
      connectorId: standIn.connectorId,
      operationId: standIn.operationId,
      identity: standIn.identity,
      ...(standIn.connectionId !== undefined ? { connectionId: standIn.connectionId } : {}),
      inputSchema: schema,
      presetArguments: fixed,
      requiresConfirmation:
        config.requireConfirmation === true || (standIn.identity === 'app-only' && isWrite),
      isWrite,
      resourceNoun: config.resourceNoun ?? standIn.resourceNoun,
      operation: standIn.operation,
      mcp: { tool: server.name, config },
    });
  }
  return tools;
}

/** Server names may hold characters MCP allows and function-calling models do not (`/`, spaces). */
export function toolName(serverName: string): string {
  return serverName.replace(/[^A-Za-z0-9_.-]+/g, '-').slice(0, 64) || 'tool';
}

function objectSchema(schema: Readonly<Record<string, unknown>>): JsonSchema {
  // Local `$ref`s (`#/$defs/…`, `#/definitions/…`) point into the tool's own input schema.
  const inlined = inlineSchema(schema, { document: schema });
  const result =
    typeof inlined === 'object' && inlined !== null && !Array.isArray(inlined)
      ? (inlined as Record<string, unknown>)
      : {};
  return { ...result, type: 'object' };
}

function withoutFixed(
  schema: JsonSchema,
  fixed: readonly string[],
): { schema: JsonSchema; unknown: string[] } {
  if (fixed.length === 0) return { schema, unknown: [] };
  const properties = { ...((schema.properties as Record<string, unknown> | undefined) ?? {}) };
  const unknown = fixed.filter((name) => !Object.hasOwn(properties, name));
  for (const name of fixed) delete properties[name];
  const required = Array.isArray(schema.required)
    ? (schema.required as unknown[]).filter((r) => typeof r === 'string' && !fixed.includes(r))
    : undefined;
  return {
    schema: { ...schema, properties, ...(required !== undefined ? { required } : {}) },
    unknown,
  };
}
