import type { Clock } from '../core/clock.ts';
import type { Caller, ConsentCard, InvokeTool } from './ports.ts';
import { operationArguments } from './resolve-tool.ts';
import type { Channel, RunHistory, RunOutcome } from './run-history.ts';
import type { Tool } from './tool-model.ts';
import type { ArgumentProblem } from './validate-arguments.ts';
import { validateArguments } from './validate-arguments.ts';

/**
 * Runs one tool call for one person, the same way for the chat agent and the MCP server: validate the
 * arguments against the schema before anything runs, stop for confirmation where required, invoke
 * through the connection machinery, turn a permission failure into a message a person can act on, and
 * record the run with its identity.
 */
export type ToolResult =
  | { readonly kind: 'ok'; readonly status: number; readonly body: unknown }
  | { readonly kind: 'invalid-arguments'; readonly problems: readonly ArgumentProblem[] }
  | { readonly kind: 'needs-confirmation'; readonly prompt: string }
  | { readonly kind: 'consent-required'; readonly card: ConsentCard }
  | {
      readonly kind: 'failed';
      readonly code: string;
      readonly message: string;
      readonly remediation: string;
      readonly status?: number;
    };

export interface ToolCallRequest {
  readonly caller: Caller;
  readonly agent: string;
  readonly channel: Channel;
  readonly tool: Tool;
  readonly arguments: unknown;
  /** The person has explicitly confirmed this call (chat button, MCP form elicitation). */
  readonly confirmed?: boolean;
}

export type ToolRunner = (request: ToolCallRequest) => Promise<ToolResult>;

// Seed 003, "Clear feedback": summarise permission errors and suggest remediation.
const FAILURES: Readonly<Record<number, (tool: Tool) => { message: string; remediation: string }>> = {
  401: (tool) => ({
    message: `The service behind "${tool.title}" did not accept your sign-in.`,
    remediation:
      'Sign in to the connection again; if it keeps failing, ask an administrator to check consent for the connector.',
  }),
  403: (tool) => ({
    message: `You might not have access to ${tool.resourceNoun}.`,
    remediation: `Ask the owner of ${tool.resourceNoun} to grant you access, or check any conditional access policies with an administrator.`,
  }),
  404: (tool) => ({
    message: `"${tool.title}" found nothing at that address.`,
    remediation: 'Check the values you gave (ids, names) and try again.',
  }),
  429: () => ({ message: 'The service is busy right now.', remediation: 'Wait a minute and try again.' }),
};

export function confirmationPrompt(tool: Tool, args: Readonly<Record<string, unknown>>): string {
  const who = tool.identity === 'app-only' ? "the app's own identity (app-only), not yours" : 'your identity';
  const shown = Object.entries(args)
    .map(([k, v]) => `${k}=${JSON.stringify(v)}`)
    .join(', ');
  return `"${tool.title}" ${tool.isWrite ? 'changes data' : 'runs'} with ${who}${shown ? ` (${shown})` : ''}. Confirm to run it.`;
}

export function createToolRunner(options: {
  invoke: InvokeTool;
  history: RunHistory;
  clock: Clock;
}): ToolRunner {
  const { invoke, history, clock } = options;
  return async (request) => {
    const { caller, tool } = request;
    const startedAt = clock.now();
    const record = (
      outcome: RunOutcome,
      extra: { connectionId?: string; status?: number; errorCode?: string } = {},
    ) =>
      history.record({
        tenantId: caller.tenantId,
        agent: request.agent,
        channel: request.channel,
        userObjectId: caller.userObjectId,
        ...(caller.userPrincipalName !== undefined ? { userName: caller.userPrincipalName } : {}),
        tool: tool.name,
        connectorId: tool.connectorId,
        operationId: tool.operationId,
        identity: tool.identity,
        ...(tool.connectionId !== undefined ? { connectionId: tool.connectionId } : {}),
        ...extra,
        outcome,
        startedAt,
        durationMs: clock.now() - startedAt,
      });

    const args = request.arguments ?? {};
    const problems = validateArguments(tool.inputSchema, args);
    if (problems.length > 0) {
      await record('invalid-arguments');
      return { kind: 'invalid-arguments', problems };
    }
    const final = operationArguments(tool, args as Record<string, unknown>);
    if (tool.requiresConfirmation && request.confirmed !== true) {
      await record('awaiting-confirmation');
      return {
        kind: 'needs-confirmation',
        prompt: confirmationPrompt(tool, args as Record<string, unknown>),
      };
    }
    const outcome = await invoke(caller, { tool, identity: tool.identity, arguments: final });
    const connection =
      outcome.kind !== 'consent-required' && outcome.connectionId !== undefined
        ? { connectionId: outcome.connectionId }
        : {};
    if (outcome.kind === 'ok') {
      await record(outcome.status < 400 ? 'succeeded' : 'failed', { ...connection, status: outcome.status });
      if (outcome.status < 400) return { kind: 'ok', status: outcome.status, body: outcome.body };
      return failure(
        tool,
        outcome.status,
        `Http${outcome.status}`,
        `The service answered HTTP ${outcome.status}.`,
      );
    }
    if (outcome.kind === 'consent-required') {
      await record('consent-required');
      return { kind: 'consent-required', card: outcome.card };
    }
    await record(outcome.status === 401 || outcome.status === 403 ? 'forbidden' : 'failed', {
      ...connection,
      ...(outcome.status !== undefined ? { status: outcome.status } : {}),
      errorCode: outcome.code,
    });
    return failure(tool, outcome.status, outcome.code, outcome.message);
  };
}

function failure(tool: Tool, status: number | undefined, code: string, message: string): ToolResult {
  const known = status !== undefined ? FAILURES[status]?.(tool) : undefined;
  return {
    kind: 'failed',
    code,
    message: known?.message ?? message,
    remediation:
      known?.remediation ??
      'Try again later; if it keeps failing, an administrator can look it up in the run history.',
    ...(status !== undefined ? { status } : {}),
  };
}
