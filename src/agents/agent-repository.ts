import type { Clock } from '../core/clock.ts';
import { DuplicateKeyError } from '../core/errors.ts';
import type { AgentData, AgentView, NormalisedAgentInput } from './agent-model.ts';
import { parseAgentInput } from './agent-model.ts';
import { AgentConflictError, AgentExistsError, AgentNotFoundError, InvalidAgentError } from './errors.ts';
import type { ExpandMcpTool } from './mcp-connectors/expand.ts';
import type { Caller, DocumentStore, LoadConnector, StoredDocument } from './ports.ts';
import { resolveTool, ToolConfigError } from './resolve-tool.ts';
import type { Tool } from './tool-model.ts';

export const AGENT_KIND = 'agent';

export interface AgentRepository {
  create(tenantId: string, input: unknown): Promise<AgentView>;
  /** Replaces the agent; `expectedVersion` (from a read) makes it a compare-and-swap. */
  replace(tenantId: string, name: string, input: unknown, expectedVersion?: number): Promise<AgentView>;
  get(name: string): Promise<AgentView | undefined>;
  /** As get, but scoped: another tenant's agent reads as absent. */
  getInTenant(tenantId: string, name: string): Promise<AgentView>;
  list(tenantId: string): Promise<AgentView[]>;
  delete(tenantId: string, name: string): Promise<void>;
  /**
   * The agent's tools resolved against their connectors' current versions. With the person, an MCP
   * connector's tools are the ones its server lists to that person (`expandMcpTool`); without, the
   * stand-in of each MCP connector is shown.
   */
  tools(agent: AgentView, caller?: Caller): Promise<Tool[]>;
}

export interface AgentRepositoryOptions {
  readonly store: DocumentStore;
  readonly clock: Clock;
  readonly loadConnector: LoadConnector;
  /** Lists an MCP connector's tools for one person (agents/mcp-connectors). */
  readonly expandMcpTool?: ExpandMcpTool;
}

function view(record: StoredDocument<AgentData>): AgentView {
  const d = record.data;
  return {
    name: d.name,
    tenantId: d.tenantId,
    displayName: d.displayName,
    description: d.description,
    instructions: d.instructions,
    tools: d.tools,
    version: record.version,
    createdAt: new Date(d.createdAt).toISOString(),
    updatedAt: new Date(d.updatedAt).toISOString(),
  };
}

export function createAgentRepository(options: AgentRepositoryOptions): AgentRepository {
  const { store, clock, loadConnector } = options;

  /** Every tool must resolve now: a typo in an operation id is reported when saving, not at chat time. */
  async function check(tenantId: string, input: NormalisedAgentInput): Promise<void> {
    const problems: { path: string; message: string }[] = [];
    for (const [i, tool] of input.tools.entries()) {
      const source = await loadConnector(tenantId, tool.connectorId);
      if (!source) {
        problems.push({
          path: `/tools/${i}/connectorId`,
          message: `connector "${tool.connectorId}" does not exist`,
        });
        continue;
      }
      try {
        resolveTool(tool, source.model, source.document);
      } catch (error) {
        if (!(error instanceof ToolConfigError)) throw error;
        problems.push({ path: `/tools/${i}`, message: error.message });
      }
    }
    if (problems.length > 0) throw new InvalidAgentError(problems);
  }

  function parse(raw: unknown): NormalisedAgentInput {
    const parsed = parseAgentInput(raw);
    if (!parsed.ok) throw new InvalidAgentError(parsed.problems);
    return parsed.value;
  }

  async function load(tenantId: string, name: string): Promise<StoredDocument<AgentData>> {
    const record = await store.get<AgentData>(AGENT_KIND, name);
    if (!record || record.data.tenantId !== tenantId) throw new AgentNotFoundError(name);
    return record;
  }

  return {
    async create(tenantId, raw) {
      const input = parse(raw);
      await check(tenantId, input);
      const now = clock.now();
      const data: AgentData = { tenantId, ...input, createdAt: now, updatedAt: now };
      try {
        const record = await store.insert({ kind: AGENT_KIND, id: input.name, partition: tenantId, data });
        return view(record);
      } catch (error) {
        if (error instanceof DuplicateKeyError) throw new AgentExistsError(input.name);
        throw error;
      }
    },
    async replace(tenantId, name, raw, expectedVersion) {
      const current = await load(tenantId, name);
      const input = parse({ ...(raw as object), name });
      await check(tenantId, input);
      const data: AgentData = { ...current.data, ...input, updatedAt: clock.now() };
      const updated = await store.update(AGENT_KIND, name, expectedVersion ?? current.version, data);
      if (!updated) throw new AgentConflictError();
      return view(updated);
    },
    async get(name) {
      const record = await store.get<AgentData>(AGENT_KIND, name);
      return record ? view(record) : undefined;
    },
    async getInTenant(tenantId, name) {
      return view(await load(tenantId, name));
    },
    async list(tenantId) {
      const records = await store.list<AgentData>(AGENT_KIND, { partition: tenantId, limit: 1000 });
      return records.map(view);
    },
    async delete(tenantId, name) {
      const record = await load(tenantId, name);
      if (!(await store.delete(AGENT_KIND, name, record.version))) throw new AgentConflictError();
    },
    async tools(agent, caller) {
      const tools: Tool[] = [];
      for (const config of agent.tools) {
        const source = await loadConnector(agent.tenantId, config.connectorId);
        // A connector deleted after the agent was saved drops its tools rather than breaking the agent.
        if (!source) continue;
        try {
          const tool = resolveTool(config, source.model, source.document);
          if (tool.mcp && caller && options.expandMcpTool)
            tools.push(...(await options.expandMcpTool(caller, tool, agent.name)));
          else tools.push(tool);
        } catch (error) {
          if (!(error instanceof ToolConfigError)) throw error;
        }
      }
      // A server's tool named like another tool of the agent: the first keeps the name (MCP and model
      // function names must be unique).
      const seen = new Set<string>();
      return tools.filter((t) => !seen.has(t.name) && Boolean(seen.add(t.name)));
    },
  };
}
