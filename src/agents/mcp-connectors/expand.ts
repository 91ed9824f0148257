import type { Clock } from '../../core/clock.ts';
import type { Caller } from '../ports.ts';
import type { Tool } from '../tool-model.ts';
import type { McpConnectorPort, RemoteTool } from './ports.ts';
import { toolsFromRemote } from './remote-tools.ts';

/**
 * Turns an MCP connector's stand-in tool into the server's tools for one person, listed through that
 * person's connection (what the server shows Alice may differ from what it shows Bob). Lists are kept
 * per person and connection for `ttlMs`, so a chat turn or an MCP tools/list does not open a session on
 * the server every time; a failed list is never kept.
 *
 * While the person has no connection yet, the stand-in stays: calling it returns the consent card. When
 * the server cannot be listed for another reason, its tools are left out rather than guessed.
 */
export type ExpandMcpTool = (caller: Caller, standIn: Tool, agent: string) => Promise<Tool[]>;

export interface McpToolExpanderOptions {
  readonly port: McpConnectorPort;
  readonly clock: Clock;
  readonly ttlMs?: number;
  readonly maxEntries?: number;
  readonly onListFailed?: (connectorId: string, code: string) => void;
}

export interface McpToolExpander {
  readonly expand: ExpandMcpTool;
  /** The cached list is stale (the person just connected, or a call said the tool is gone). */
  forget(caller: Caller, connectorId: string): void;
}

export function createMcpToolExpander(options: McpToolExpanderOptions): McpToolExpander {
  const { port, clock } = options;
  const ttlMs = options.ttlMs ?? 30_000;
  const maxEntries = options.maxEntries ?? 5_000;
  const cache = new Map<string, { at: number; tools: readonly RemoteTool[] }>();
  const prefix = (caller: Caller, connectorId: string) =>
    `${caller.tenantId}\n${caller.userObjectId}\n${connectorId}\n`;

  return {
    forget(caller, connectorId) {
      const start = prefix(caller, connectorId);
      for (const key of cache.keys()) if (key.startsWith(start)) cache.delete(key);
    },
    async expand(caller, standIn, agent) {
      const key = prefix(caller, standIn.connectorId) + (standIn.connectionId ?? '');
      const hit = cache.get(key);
      if (hit && clock.now() - hit.at < ttlMs) return toolsFromRemote(standIn, hit.tools);
      const listed = await port.listTools(caller, {
        connectorId: standIn.connectorId,
        ...(standIn.connectionId !== undefined ? { connectionId: standIn.connectionId } : {}),
        agent,
      });
      if (listed.kind === 'consent-required') return [standIn];
      if (listed.kind !== 'ok') {
        options.onListFailed?.(standIn.connectorId, listed.code);
        return [];
      }
      if (cache.size >= maxEntries) cache.delete(cache.keys().next().value!);
      cache.set(key, { at: clock.now(), tools: listed.tools });
      return toolsFromRemote(standIn, listed.tools);
    },
  };
}
