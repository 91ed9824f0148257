/**
 * The one interface every language model sits behind. Messages follow the chat-completions shape
 * (system / user / assistant with tool calls / tool results), the common denominator of OpenAI, Azure
 * OpenAI, Ollama, vLLM and llama.cpp's server.
 */
export interface LlmToolCall {
  readonly id: string;
  readonly name: string;
  /** The JSON text the model produced; parsed and validated by the runtime, never trusted. */
  readonly arguments: string;
}

export type LlmMessage =
  | { readonly role: 'system' | 'user'; readonly content: string }
  | { readonly role: 'assistant'; readonly content: string; readonly toolCalls?: readonly LlmToolCall[] }
  | { readonly role: 'tool'; readonly toolCallId: string; readonly content: string };

export interface LlmToolSpec {
  readonly name: string;
  readonly description: string;
  readonly parameters: Readonly<Record<string, unknown>>;
}

export interface LlmReply {
  readonly content: string;
  readonly toolCalls: readonly LlmToolCall[];
}

export interface LlmProvider {
  readonly description: string;
  complete(request: { messages: readonly LlmMessage[]; tools: readonly LlmToolSpec[] }): Promise<LlmReply>;
}

/**
 * The model could not answer: unreachable, timed out, refused the key, or replied with something that
 * is not a chat completion. `reason` is safe to show (no key, no response body).
 */
export class LlmUnavailableError extends Error {
  readonly reason: string;
  constructor(reason: string, options?: { cause?: unknown }) {
    super(`language model unavailable: ${reason}`, options);
    this.reason = reason;
    this.name = 'LlmUnavailableError';
  }
}

/** Used when no model is configured: every request fails plainly, direct mode keeps working. */
export const noLlm: LlmProvider = {
  description: 'none configured',
  complete() {
    return Promise.reject(
      new LlmUnavailableError('no language model is configured (set llmBaseUrl and llmModel)'),
    );
  },
};
