import type { Dispatcher } from 'undici';
import { request } from 'undici';
import type { LlmMessage, LlmProvider, LlmReply, LlmToolCall } from './provider.ts';
import { LlmUnavailableError } from './provider.ts';

export interface OpenAiCompatibleOptions {
  /** e.g. https://api.openai.com/v1, http://127.0.0.1:11434/v1 (Ollama), or an Azure deployment URL. */
  readonly baseUrl: string;
  readonly apiKey?: string;
  readonly model: string;
  readonly timeoutMs: number;
  /** Azure OpenAI wants `?api-version=` and an `api-key` header instead of a bearer token. */
  readonly azureApiVersion?: string;
  readonly dispatcher?: Dispatcher;
}

function wireMessage(message: LlmMessage): Record<string, unknown> {
  switch (message.role) {
    case 'tool':
      return { role: 'tool', tool_call_id: message.toolCallId, content: message.content };
    case 'assistant':
      return {
        role: 'assistant',
        content: message.content,
        ...(message.toolCalls && message.toolCalls.length > 0
          ? {
              tool_calls: message.toolCalls.map((c) => ({
                id: c.id,
                type: 'function',
                function: { name: c.name, arguments: c.arguments },
              })),
            }
          : {}),
      };
    default:
      return { role: message.role, content: message.content };
  }
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** Reads choices[0].message; anything else is a provider fault, reported without echoing the body. */
function readReply(body: unknown): LlmReply {
  const choice = isObject(body) && Array.isArray(body.choices) ? body.choices[0] : undefined;
  const message = isObject(choice) ? choice.message : undefined;
  if (!isObject(message)) throw new LlmUnavailableError('the model returned no message');
  const toolCalls: LlmToolCall[] = [];
  for (const [i, call] of (Array.isArray(message.tool_calls) ? message.tool_calls : []).entries()) {
    const fn = isObject(call) && isObject(call.function) ? call.function : undefined;
    if (!fn || typeof fn.name !== 'string') continue;
    toolCalls.push({
      id: isObject(call) && typeof call.id === 'string' ? call.id : `call_${i}`,
      name: fn.name,
      // Some servers (older Ollama) send arguments as an object rather than a JSON string.
      arguments: typeof fn.arguments === 'string' ? fn.arguments : JSON.stringify(fn.arguments ?? {}),
    });
  }
  return { content: typeof message.content === 'string' ? message.content : '', toolCalls };
}

export function createOpenAiCompatibleProvider(options: OpenAiCompatibleOptions): LlmProvider {
  const base = options.baseUrl.replace(/\/+$/, '');
  const url = options.azureApiVersion
    ? `${base}/chat/completions?api-version=${encodeURIComponent(options.azureApiVersion)}`
    : `${base}/chat/completions`;
  const auth: Record<string, string> = options.apiKey
    ? options.azureApiVersion
      ? { 'api-key': options.apiKey }
      : { authorization: `Bearer ${options.apiKey}` }
    : {};
  return {
    description: `${options.model} at ${new URL(base).host}`,
    async complete({ messages, tools }) {
      const payload = {
        model: options.model,
        messages: messages.map(wireMessage),
        ...(tools.length > 0
          ? {
              tools: tools.map((t) => ({
                type: 'function',
                function: { name: t.name, description: t.description, parameters: t.parameters },
              })),
              tool_choice: 'auto',
            }
          : {}),
      };
      let response: Dispatcher.ResponseData;
      try {
        response = await request(url, {
          method: 'POST',
          headers: { 'content-type': 'application/json', accept: 'application/json', ...auth },
          body: JSON.stringify(payload),
          headersTimeout: options.timeoutMs,
          bodyTimeout: options.timeoutMs,
          signal: AbortSignal.timeout(options.timeoutMs),
          ...(options.dispatcher ? { dispatcher: options.dispatcher } : {}),
        });
      } catch (error) {
        const timedOut = error instanceof Error && /timeout|abort/i.test(`${error.name} ${error.message}`);
        throw new LlmUnavailableError(
          timedOut ? 'the model did not answer in time' : 'the model could not be reached',
          {
            cause: error,
          },
        );
      }
      const text = await response.body.text().catch(() => '');
      if (response.statusCode === 401 || response.statusCode === 403)
        throw new LlmUnavailableError(`the model refused the configured key (HTTP ${response.statusCode})`);
      if (response.statusCode === 404)
        throw new LlmUnavailableError(
          `the model endpoint or model "${options.model}" was not found (HTTP 404)`,
        );
      if (response.statusCode === 429) throw new LlmUnavailableError('the model is rate-limited (HTTP 429)');
      if (response.statusCode >= 400)
        throw new LlmUnavailableError(`the model failed (HTTP ${response.statusCode})`);
      let body: unknown;
      try {
        body = JSON.parse(text);
      } catch (error) {
        throw new LlmUnavailableError('the model returned something that is not JSON', { cause: error });
      }
      return readReply(body);
    },
  };
}
