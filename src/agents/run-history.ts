import type { Clock } from '../core/clock.ts';
import type { Random } from '../core/ids.ts';
import { timeOrderedId } from '../core/ids.ts';
import type { Caller, DocumentStore } from './ports.ts';
import type { IdentityMode } from './tool-model.ts';

export const RUN_KIND = 'agent-run';

/**
 * Run history: who ran which tool, as whom (identity mode and connection), how it ended and how long it
 * took (issue 8; seed 003's "Mixed identity confusion": label delegated and app-only runs clearly).
 * Arguments and results are not kept: they may hold personal data, and the audit log already records
 * the outbound call.
 */
export type RunOutcome =
  | 'succeeded'
  | 'failed'
  | 'forbidden'
  | 'consent-required'
  | 'awaiting-confirmation'
  | 'cancelled'
  | 'invalid-arguments';

export type Channel = 'chat' | 'mcp';

export interface ToolRun {
  readonly tenantId: string;
  readonly agent: string;
  readonly channel: Channel;
  readonly userObjectId: string;
  readonly userName?: string;
  readonly tool: string;
  readonly connectorId: string;
  readonly operationId: string;
  readonly identity: IdentityMode;
  readonly connectionId?: string;
  readonly outcome: RunOutcome;
  /** Downstream HTTP status, when there was a call. */
  readonly status?: number;
  readonly errorCode?: string;
  readonly startedAt: number;
  readonly durationMs: number;
}

export interface RunView extends Omit<ToolRun, 'startedAt'> {
  readonly id: string;
  readonly startedAt: string;
}

export interface RunQuery {
  readonly agent?: string;
  readonly limit?: number;
  /** The last id of the previous page (newest first). */
  readonly before?: string;
}

export interface RunHistory {
  record(run: ToolRun): Promise<RunView>;
  /** The caller's own runs, or everyone's in the tenant for an administrator. */
  list(viewer: Caller, query?: RunQuery): Promise<RunView[]>;
}

const userKey = (tenantId: string, oid: string) => `user:${tenantId}:${oid}`;
const agentKey = (tenantId: string, agent: string) => `agent:${tenantId}:${agent}`;
const userAgentKey = (tenantId: string, oid: string, agent: string) =>
  `user-agent:${tenantId}:${oid}:${agent}`;

export function createRunHistory(options: {
  store: DocumentStore;
  clock: Clock;
  random: Random;
}): RunHistory {
  const { store, clock, random } = options;
  return {
    async record(run) {
      const id = timeOrderedId(clock.now(), random);
      await store.insert({
        kind: RUN_KIND,
        id,
        partition: run.tenantId,
        data: run,
        indexKeys: [
          userKey(run.tenantId, run.userObjectId),
          agentKey(run.tenantId, run.agent),
          userAgentKey(run.tenantId, run.userObjectId, run.agent),
        ],
      });
      return toView(id, run);
    },
    async list(viewer, query = {}) {
      const page = {
        descending: true,
        limit: Math.min(Math.max(query.limit ?? 50, 1), 500),
        ...(query.before !== undefined ? { after: query.before } : {}),
      };
      const records = viewer.isAdministrator
        ? query.agent !== undefined
          ? await store.findByIndex<ToolRun>(RUN_KIND, agentKey(viewer.tenantId, query.agent), page)
          : await store.list<ToolRun>(RUN_KIND, { ...page, partition: viewer.tenantId })
        : await store.findByIndex<ToolRun>(
            RUN_KIND,
            query.agent !== undefined
              ? userAgentKey(viewer.tenantId, viewer.userObjectId, query.agent)
              : userKey(viewer.tenantId, viewer.userObjectId),
            page,
          );
      return records.map((r) => toView(r.id, r.data));
    },
  };
}

function toView(id: string, run: ToolRun): RunView {
  return { ...run, id, startedAt: new Date(run.startedAt).toISOString() };
}
