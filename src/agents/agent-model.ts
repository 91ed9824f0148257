import { z } from 'zod';
import { IDENTITY_MODES, TOOL_NAME, toolNameFrom } from './tool-model.ts';
import type { ToolConfig } from './tool-model.ts';

/**
 * An agent: a named group of tools with instructions (seed 003's "Admin agent"). Its name is the slug
 * in `/mcp/{name}` and is unique across the installation, so the MCP endpoint can find the agent (and
 * its tenant's authorization server) before any token is presented.
 */
export interface AgentData {
  readonly tenantId: string;
  readonly name: string;
  readonly displayName: string;
  readonly description: string;
  readonly instructions: string;
  readonly tools: readonly ToolConfig[];
  readonly createdAt: number;
  readonly updatedAt: number;
}

export interface AgentView {
  readonly name: string;
  readonly tenantId: string;
  readonly displayName: string;
  readonly description: string;
  readonly instructions: string;
  readonly tools: readonly ToolConfig[];
  readonly version: number;
  readonly createdAt: string;
  readonly updatedAt: string;
}

const toolConfigSchema = z
  .object({
    name: z.string().regex(TOOL_NAME, 'letters, digits, "_", "-" and "." only, at most 64').optional(),
    connectorId: z.string().min(1),
    operationId: z.string().min(1),
    title: z.string().min(1).max(200).optional(),
    description: z.string().max(4000).optional(),
    identity: z.enum(IDENTITY_MODES as unknown as [string, ...string[]]).default('delegated'),
    connectionId: z.string().min(1).optional(),
    fixedValues: z.record(z.string(), z.unknown()).optional(),
    requireConfirmation: z.boolean().optional(),
    resourceNoun: z.string().min(1).max(100).optional(),
    mcpTool: z.string().min(1).max(128).optional(),
  })
  .strict()
  .refine((t) => t.identity !== 'app-only' || t.connectionId !== undefined, {
    message: 'an app-only tool needs connectionId (the shared connection it runs with)',
    path: ['connectionId'],
  });

export const agentInputSchema = z
  .object({
    name: z
      .string()
      .regex(/^[a-z0-9][a-z0-9-]{0,62}$/, 'lower-case letters, digits and "-", at most 63')
      .optional(),
    displayName: z.string().min(1).max(200),
    description: z.string().max(4000).default(''),
    instructions: z.string().max(20000).default(''),
    tools: z.array(toolConfigSchema).max(128).default([]),
  })
  .strict();

export type AgentInput = z.input<typeof agentInputSchema>;

export interface NormalisedAgentInput {
  readonly name: string;
  readonly displayName: string;
  readonly description: string;
  readonly instructions: string;
  readonly tools: readonly ToolConfig[];
}

export type InputProblem = { readonly path: string; readonly message: string };

/** Parses an agent document; tool names default to a slug of their title or operation id. */
export function parseAgentInput(
  raw: unknown,
): { ok: true; value: NormalisedAgentInput } | { ok: false; problems: InputProblem[] } {
  const parsed = agentInputSchema.safeParse(raw);
  if (!parsed.success)
    return {
      ok: false,
      problems: parsed.error.issues.map((i) => ({
        path: '/' + i.path.map(String).join('/'),
        message: i.message,
      })),
    };
  const input = parsed.data;
  const tools: ToolConfig[] = input.tools.map((t) => {
    const {
      name,
      title,
      description,
      connectionId,
      fixedValues,
      requireConfirmation,
      resourceNoun,
      mcpTool,
      ...rest
    } = t;
    return {
      ...rest,
      identity: t.identity as ToolConfig['identity'],
      name: name ?? toolNameFrom(title ?? mcpTool ?? t.operationId),
      ...(title !== undefined ? { title } : {}),
      ...(description !== undefined ? { description } : {}),
      ...(connectionId !== undefined ? { connectionId } : {}),
      ...(fixedValues !== undefined ? { fixedValues } : {}),
      ...(requireConfirmation !== undefined ? { requireConfirmation } : {}),
      ...(resourceNoun !== undefined ? { resourceNoun } : {}),
      ...(mcpTool !== undefined ? { mcpTool } : {}),
    };
  });
  const seen = new Set<string>();
  const problems: InputProblem[] = [];
  tools.forEach((t, i) => {
    if (seen.has(t.name))
      problems.push({ path: `/tools/${i}/name`, message: `tool name "${t.name}" is used twice` });
    seen.add(t.name);
  });
  if (problems.length > 0) return { ok: false, problems };
  return {
    ok: true,
    value: {
      name: input.name ?? toolNameFrom(input.displayName).replace(/[_.]/g, '-').slice(0, 63),
      displayName: input.displayName,
      description: input.description,
      instructions: input.instructions,
      tools,
    },
  };
}
