import type { LlmMessage } from './llm/provider.ts';
import type { ConsentCard } from './ports.ts';

export const CONVERSATION_KIND = 'agent-conversation';

/** What the chat page shows: the person's words, the agent's replies, cards and confirmations. */
export interface ChatEntry {
  readonly role: 'user' | 'assistant';
  readonly text: string;
  readonly at: number;
  readonly card?: ConsentCard;
  /** A call waiting for the person's explicit confirmation. */
  readonly confirmation?: { readonly id: string; readonly tool: string; readonly prompt: string };
  /** A permission or run failure, shown with its remediation. */
  readonly problem?: { readonly code: string; readonly remediation: string };
  /** The model was unavailable: the reply is Behalf's, not the agent's. */
  readonly notice?: boolean;
}

/** A tool call the conversation is waiting on: a confirmation, or a retry after consent. */
export interface PendingCall {
  readonly id: string;
  readonly reason: 'confirmation' | 'consent';
  readonly tool: string;
  readonly arguments: Readonly<Record<string, unknown>>;
  /** Set when the call came from the model: its tool message must be answered before the next turn. */
  readonly toolCallId?: string;
  /**
   * The connector a consent wait is for: an MCP connector's stand-in tool gives way to the server's
   * own tools once the person is connected, so "try again" then names those instead.
   */
  readonly connectorId?: string;
}

export interface ConversationData {
  readonly tenantId: string;
  readonly agent: string;
  readonly userObjectId: string;
  readonly entries: readonly ChatEntry[];
  /** The model's view of the conversation (with tool calls and results). */
  readonly llmMessages: readonly LlmMessage[];
  readonly pending?: PendingCall;
  readonly createdAt: number;
  readonly updatedAt: number;
}

export interface ConversationView {
  readonly id: string;
  readonly agent: string;
  readonly entries: readonly ChatEntry[];
  readonly pending?: { readonly id: string; readonly reason: PendingCall['reason']; readonly tool: string };
}
