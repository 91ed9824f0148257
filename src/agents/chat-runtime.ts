import type { Clock } from '../core/clock.ts';
import type { Random } from '../core/ids.ts';
import { opaqueToken } from '../core/ids.ts';
import type { AgentRepository } from './agent-repository.ts';
import type { ChatEntry, ConversationData, ConversationView, PendingCall } from './conversation.ts';
import { CONVERSATION_KIND } from './conversation.ts';
import { directHelp, isDirectCommand, parseDirectCommand } from './direct-mode.ts';
import { AgentNotFoundError } from './errors.ts';
import type { LlmMessage, LlmProvider } from './llm/provider.ts';
import { LlmUnavailableError } from './llm/provider.ts';
import type { Caller, DocumentStore, StoredDocument } from './ports.ts';
import type { ToolResult, ToolRunner } from './tool-runner.ts';
import type { Tool } from './tool-model.ts';
import { ConversationNotFoundError } from './chat-errors.ts';
import { describeResult, toolMessage } from './chat-text.ts';

/** Model turns per message: enough for call → result → answer chains, bounded against loops. */
const MAX_STEPS = 6;

export interface ChatRuntime {
  send(
    caller: Caller,
    input: { agent: string; conversationId?: string; text: string },
  ): Promise<ConversationView>;
  /** The person's answer to a pending call: run it (confirm / retry after consent) or drop it. */
  decide(
    caller: Caller,
    input: { conversationId: string; pendingId: string; decision: 'confirm' | 'cancel' | 'retry' },
  ): Promise<ConversationView>;
  get(caller: Caller, conversationId: string): Promise<ConversationView>;
}

export interface ChatRuntimeOptions {
  readonly store: DocumentStore;
  readonly agents: AgentRepository;
  readonly runTool: ToolRunner;
  readonly llm: LlmProvider;
  readonly clock: Clock;
  readonly random: Random;
}

const SYSTEM_RULES =
  'You act for the signed-in person with the tools listed; never invent tool results. ' +
  'When a tool reports a permission problem, summarise it briefly and suggest the remediation it gives.';

export function createChatRuntime(options: ChatRuntimeOptions): ChatRuntime {
  const { store, agents, runTool, llm, clock, random } = options;

  type Conversation = StoredDocument<ConversationData>;
  interface Turn {
    data: ConversationData;
    entries: ChatEntry[];
    llmMessages: LlmMessage[];
    pending: PendingCall | undefined;
  }

  async function load(caller: Caller, id: string): Promise<Conversation> {
    const record = await store.get<ConversationData>(CONVERSATION_KIND, id);
    // Someone else's conversation reads as absent.
    if (
      !record ||
      record.data.tenantId !== caller.tenantId ||
      record.data.userObjectId !== caller.userObjectId
    )
      throw new ConversationNotFoundError();
    return record;
  }

  async function toolsOf(
    agentName: string,
    caller: Caller,
  ): Promise<{ tools: Tool[]; instructions: string }> {
    const agent = await agents.get(agentName);
    if (!agent || agent.tenantId !== caller.tenantId) throw new AgentNotFoundError(agentName);
    return { tools: await agents.tools(agent, caller), instructions: agent.instructions };
  }

  function say(turn: Turn, entry: Omit<ChatEntry, 'at' | 'role'>): void {
    turn.entries.push({ role: 'assistant', at: clock.now(), ...entry });
  }

  /** Shows a tool result in the conversation; returns false when the turn must stop (waiting on the person). */
  function present(
    turn: Turn,
    tool: Tool,
    args: Record<string, unknown>,
    result: ToolResult,
    toolCallId?: string,
  ): boolean {
    if (toolCallId !== undefined)
      turn.llmMessages.push({ role: 'tool', toolCallId, content: toolMessage(result) });
    if (result.kind === 'needs-confirmation' || result.kind === 'consent-required') {
      const pending: PendingCall = {
        id: opaqueToken(random, 12),
        reason: result.kind === 'needs-confirmation' ? 'confirmation' : 'consent',
        tool: tool.name,
        arguments: args,
        ...(toolCallId !== undefined ? { toolCallId } : {}),
        ...(result.kind === 'consent-required' ? { connectorId: tool.connectorId } : {}),
      };
      turn.pending = pending;
      if (result.kind === 'needs-confirmation')
        say(turn, {
          text: result.prompt,
          confirmation: { id: pending.id, tool: tool.name, prompt: result.prompt },
        });
      else say(turn, { text: result.card.message, card: result.card });
      return false;
    }
    if (toolCallId === undefined || result.kind === 'failed') {
      const text = describeResult(tool, result);
      say(
        turn,
        result.kind === 'failed'
          ? { text, problem: { code: result.code, remediation: result.remediation } }
          : { text },
      );
    }
    return true;
  }

  async function converse(
    turn: Turn,
    caller: Caller,
    tools: Tool[],
    instructions: string,
    agent: string,
  ): Promise<void> {
    const system: LlmMessage = { role: 'system', content: `${instructions}\n\n${SYSTEM_RULES}`.trim() };
    const specs = tools.map((t) => ({ name: t.name, description: t.description, parameters: t.inputSchema }));
    for (let step = 0; step < MAX_STEPS; step++) {
      let reply;
      try {
        reply = await llm.complete({ messages: [system, ...turn.llmMessages], tools: specs });
      } catch (error) {
        if (!(error instanceof LlmUnavailableError)) throw error;
        const hint = tools[0]
          ? ` You can still run a tool directly, for example /${tools[0].name}; /help lists them.`
          : '';
        say(turn, {
          text: `The assistant is unavailable right now: ${error.reason}. Your conversation is kept.${hint}`,
          notice: true,
        });
        return;
      }
      turn.llmMessages.push({
        role: 'assistant',
        content: reply.content,
        ...(reply.toolCalls.length > 0 ? { toolCalls: reply.toolCalls } : {}),
      });
      if (reply.toolCalls.length === 0) {
        say(turn, { text: reply.content });
        return;
      }
      let waiting = false;
      for (const call of reply.toolCalls) {
        const tool = tools.find((t) => t.name === call.name);
        if (waiting || !tool) {
          const content = waiting
            ? 'Not run: waiting for the person.'
            : `There is no tool named "${call.name}".`;
          turn.llmMessages.push({ role: 'tool', toolCallId: call.id, content });
          continue;
        }
        let args: unknown;
        try {
          args = JSON.parse(call.arguments || '{}');
        } catch {
          turn.llmMessages.push({
            role: 'tool',
            toolCallId: call.id,
            content: 'The arguments were not valid JSON.',
          });
          continue;
        }
        const result = await runTool({ caller, agent, channel: 'chat', tool, arguments: args });
        const record = typeof args === 'object' && args !== null ? (args as Record<string, unknown>) : {};
        if (!present(turn, tool, record, result, call.id)) waiting = true;
      }
      if (waiting) return;
    }
    say(turn, {
      text: 'The assistant stopped after too many steps; ask again more specifically.',
      notice: true,
    });
  }

  async function save(
    caller: Caller,
    existing: Conversation | undefined,
    agent: string,
    turn: Turn,
  ): Promise<ConversationView> {
    const now = clock.now();
    const { pending: _drop, ...rest } = turn.data;
    void _drop;
    const data: ConversationData = {
      ...rest,
      entries: turn.entries,
      llmMessages: turn.llmMessages,
      ...(turn.pending ? { pending: turn.pending } : {}),
      updatedAt: now,
    };
    let id: string;
    if (existing) {
      const updated = await store.update(CONVERSATION_KIND, existing.id, existing.version, data);
      if (!updated) throw new ConversationNotFoundError('The conversation changed meanwhile; reload it.');
      id = existing.id;
    } else {
      id = opaqueToken(random, 16);
      await store.insert({
        kind: CONVERSATION_KIND,
        id,
        partition: caller.tenantId,
        data,
        indexKeys: [`conversation-user:${caller.tenantId}:${caller.userObjectId}:${agent}`],
      });
    }
    return viewOf(id, data);
  }

  function startTurn(data: ConversationData): Turn {
    return { data, entries: [...data.entries], llmMessages: [...data.llmMessages], pending: data.pending };
  }

  return {
    async send(caller, input) {
      const existing =
        input.conversationId !== undefined ? await load(caller, input.conversationId) : undefined;
      const agent = existing?.data.agent ?? input.agent;
      const { tools, instructions } = await toolsOf(agent, caller);
      const now = clock.now();
      const turn = startTurn(
        existing?.data ?? {
          tenantId: caller.tenantId,
          agent,
          userObjectId: caller.userObjectId,
          entries: [],
          llmMessages: [],
          createdAt: now,
          updatedAt: now,
        },
      );
      const text = input.text.trim();
      turn.entries.push({ role: 'user', text, at: now });
      // A new message supersedes whatever was pending; the model hears that the call was not run.
      if (turn.pending?.toolCallId !== undefined)
        turn.llmMessages.push({
          role: 'tool',
          toolCallId: turn.pending.toolCallId,
          content: 'Not run: the person moved on.',
        });
      turn.pending = undefined;
      if (isDirectCommand(text)) {
        const command = parseDirectCommand(text, tools);
        if (command.kind === 'help') say(turn, { text: directHelp(tools) });
        else if (command.kind === 'error') say(turn, { text: command.message });
        else {
          const tool = tools.find((t) => t.name === command.tool)!;
          present(
            turn,
            tool,
            command.arguments,
            await runTool({ caller, agent, channel: 'chat', tool, arguments: command.arguments }),
          );
        }
      } else {
        turn.llmMessages.push({ role: 'user', content: text });
        await converse(turn, caller, tools, instructions, agent);
      }
      return save(caller, existing, agent, turn);
    },

    async decide(caller, input) {
      const existing = await load(caller, input.conversationId);
      const pending = existing.data.pending;
      if (!pending || pending.id !== input.pendingId)
        throw new ConversationNotFoundError('Nothing is waiting for that answer any more.');
      const { tools, instructions } = await toolsOf(existing.data.agent, caller);
      const turn = startTurn(existing.data);
      turn.pending = undefined;
      const tool = tools.find((t) => t.name === pending.tool);
      // Consent given for an MCP server: its stand-in is gone, the server's own tools are there.
      const arrived =
        !tool && input.decision !== 'cancel' && pending.connectorId !== undefined
          ? tools.filter((t) => t.connectorId === pending.connectorId)
          : [];
      if (arrived.length > 0) {
        const names = arrived.map((t) => `"${t.title}"`).join(', ');
        say(turn, { text: `Connected. Now available: ${names}. Ask again and I will use them.` });
        if (pending.toolCallId !== undefined)
          turn.llmMessages.push({
            role: 'tool',
            toolCallId: pending.toolCallId,
            content: `The person connected. Call one of these tools instead: ${arrived.map((t) => t.name).join(', ')}.`,
          });
        return save(caller, existing, existing.data.agent, turn);
      }
      if (input.decision === 'cancel' || !tool) {
        say(turn, {
          text: tool
            ? `Cancelled: "${tool.title}" was not run.`
            : 'That tool is no longer part of this agent.',
        });
        if (pending.toolCallId !== undefined)
          turn.llmMessages.push({
            role: 'tool',
            toolCallId: pending.toolCallId,
            content: 'The person cancelled this call.',
          });
        return save(caller, existing, existing.data.agent, turn);
      }
      const result = await runTool({
        caller,
        agent: existing.data.agent,
        channel: 'chat',
        tool,
        arguments: pending.arguments,
        confirmed: input.decision === 'confirm',
      });
      if (pending.toolCallId === undefined) present(turn, tool, { ...pending.arguments }, result);
      else {
        // The model's call was answered as "waiting"; its real result continues the conversation.
        turn.llmMessages.push({
          role: 'user',
          content: `(The person ${input.decision === 'confirm' ? 'confirmed' : 'completed sign-in for'} "${tool.title}"; here is its result.)`,
        });
        const stillWaiting = !present(
          turn,
          tool,
          { ...pending.arguments },
          result,
          `${pending.toolCallId}-resumed`,
        );
        // The resumed result is a fresh tool message: give the model the call it answers.
        const idx = turn.llmMessages.length - 1;
        turn.llmMessages.splice(idx, 0, {
          role: 'assistant',
          content: '',
          toolCalls: [
            {
              id: `${pending.toolCallId}-resumed`,
              name: tool.name,
              arguments: JSON.stringify(pending.arguments),
            },
          ],
        });
        if (!stillWaiting) await converse(turn, caller, tools, instructions, existing.data.agent);
      }
      return save(caller, existing, existing.data.agent, turn);
    },

    async get(caller, id) {
      const record = await load(caller, id);
      return viewOf(record.id, record.data);
    },
  };
}

function viewOf(id: string, data: ConversationData): ConversationView {
  return {
    id,
    agent: data.agent,
    entries: data.entries,
    ...(data.pending
      ? { pending: { id: data.pending.id, reason: data.pending.reason, tool: data.pending.tool } }
      : {}),
  };
}
