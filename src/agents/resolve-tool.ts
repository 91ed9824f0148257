import type { ConnectorModel, Operation } from '../connectors/model.ts';
import { WireError } from '../core/errors.ts';
import type { Tool, ToolConfig } from './tool-model.ts';
import { buildInputSchema } from './tool-schema.ts';

const READ_METHODS = new Set(['get', 'head', 'options']);

export class ToolConfigError extends WireError {
  readonly status = 400;
  readonly code: string;
  constructor(code: string, message: string) {
    super(message);
    this.code = code;
  }
  body() {
    return { error: { code: this.code, message: this.message } };
  }
}

export function findOperation(model: ConnectorModel, operationId: string): Operation | undefined {
  return model.operations.find((o) => o.operationId === operationId);
}

/**
 * A tool ready to list and run. Confirmation is required when the operation says so
 * (`x-ms-require-user-confirmation`), when the maker asks for it, or for any write run app-only: the
 * seeds' rule that app-only writes need explicit confirmation (seed 003, "Mixed identity patterns"),
 * because such a write acts with the app's rights, not the person's.
 */
export function resolveTool(config: ToolConfig, model: ConnectorModel, document: unknown): Tool {
  const operation = findOperation(model, config.operationId);
  if (!operation)
    throw new ToolConfigError(
      'OperationNotFound',
      `The connector has no operation "${config.operationId}" (tool "${config.name}").`,
    );
  if (operation.agenticProtocol !== undefined) return mcpStandIn(config, model, operation);
  if (config.mcpTool !== undefined)
    throw new ToolConfigError(
      'NotAnMcpOperation',
      `Tool "${config.name}" names the MCP tool "${config.mcpTool}", but operation "${operation.operationId}" is not an MCP server (x-ms-agentic-protocol).`,
    );
  const fixed = config.fixedValues ?? {};
  const known = new Set(operation.parameters.map((p) => p.name));
  const unknown = Object.keys(fixed).filter((k) => !known.has(k));
  if (unknown.length > 0)
    throw new ToolConfigError(
      'UnknownParameter',
      `Tool "${config.name}" fixes ${unknown.map((k) => `"${k}"`).join(', ')}, which operation "${operation.operationId}" does not take.`,
    );
  const { schema, preset } = buildInputSchema(operation, { document }, fixed);
  const isWrite = !READ_METHODS.has(operation.method);
  return {
    name: config.name,
    title: config.title ?? (operation.summary || operation.operationId),
    description: config.description ?? (operation.description || operation.summary || operation.operationId),
    connectorId: config.connectorId,
    operationId: operation.operationId,
    identity: config.identity,
    ...(config.connectionId !== undefined ? { connectionId: config.connectionId } : {}),
    inputSchema: schema,
    presetArguments: preset,
    requiresConfirmation:
      operation.requiresUserConfirmation ||
      config.requireConfirmation === true ||
      (config.identity === 'app-only' && isWrite),
    isWrite,
    resourceNoun: config.resourceNoun ?? 'this resource',
    operation,
  };
}

/** What the operation receives: the model's arguments under the maker's fixed values and hidden defaults. */
export function operationArguments(
  tool: Tool,
  args: Readonly<Record<string, unknown>>,
): Record<string, unknown> {
  return { ...args, ...tool.presetArguments };
}

/**
 * An MCP connector's operation (`x-ms-agentic-protocol`, connector-format.md §6.2) is not called as an
 * operation: the server's own tools are, and which ones exist is known only by listing them with the
 * person's connection (agents/mcp-connectors). Until then the tool is this stand-in, whose call asks the
 * person to connect; fixed values are checked against the server's schema when the tools are listed.
 */
function mcpStandIn(config: ToolConfig, model: ConnectorModel, operation: Operation): Tool {
  if (operation.agenticProtocol !== 'mcp-streamable-1.0')
    throw new ToolConfigError(
      'UnsupportedAgenticProtocol',
      `Operation "${operation.operationId}" speaks ${operation.agenticProtocol}; Behalf supports mcp-streamable-1.0.`,
    );
  return {
    name: config.name,
    title: config.title ?? `Connect to ${model.title}`,
    description:
      config.description ??
      `Connects you to ${model.title} so its tools can be used; call it to get the sign-in link.`,
    connectorId: config.connectorId,
    operationId: operation.operationId,
    identity: config.identity,
    ...(config.connectionId !== undefined ? { connectionId: config.connectionId } : {}),
    inputSchema: { type: 'object', properties: {} },
    presetArguments: {},
    requiresConfirmation: false,
    isWrite: false,
    resourceNoun: config.resourceNoun ?? model.title,
    operation,
    mcp: { config },
  };
}
