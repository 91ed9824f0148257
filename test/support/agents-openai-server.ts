import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';

/**
 * A real HTTP server speaking the OpenAI chat-completions protocol, replying from a script: each
 * request is answered by the first rule whose `when` matches the conversation so far. It records every
 * request body so a test can assert what the runtime sent (tools, tool results, no secrets).
 */
export interface ChatRequest {
  readonly model: string;
  readonly messages: readonly {
    role: string;
    content?: string | null;
    tool_call_id?: string;
    tool_calls?: unknown[];
  }[];
  readonly tools?: readonly {
    type: string;
    function: { name: string; description: string; parameters: unknown };
  }[];
}

export type ScriptedReply =
  | { readonly content: string }
  | { readonly toolCalls: readonly { readonly name: string; readonly arguments: unknown }[] }
  | { readonly status: number };

export interface ScriptRule {
  readonly when: (request: ChatRequest) => boolean;
  readonly reply: (request: ChatRequest) => ScriptedReply;
}

export interface ScriptedOpenAiServer {
  readonly baseUrl: string;
  readonly requests: ChatRequest[];
  /** Authorization headers seen, to check the key is sent (and only to this server). */
  readonly authorizations: (string | undefined)[];
  close(): Promise<void>;
}

/** The last message is a tool result (the runtime answered our tool call). */
export const afterToolResult = (r: ChatRequest) => r.messages.at(-1)?.role === 'tool';
export const lastUserSays = (pattern: RegExp) => (r: ChatRequest) =>
  r.messages.at(-1)?.role === 'user' && pattern.test(String(r.messages.at(-1)?.content ?? ''));

export async function startScriptedOpenAiServer(rules: readonly ScriptRule[]): Promise<ScriptedOpenAiServer> {
  const requests: ChatRequest[] = [];
  const authorizations: (string | undefined)[] = [];
  let calls = 0;
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      if (req.method !== 'POST' || !req.url?.startsWith('/v1/chat/completions')) {
        res.writeHead(404, { 'content-type': 'application/json' }).end('{"error":{"message":"not found"}}');
        return;
      }
      const body = JSON.parse(Buffer.concat(chunks).toString('utf8')) as ChatRequest;
      requests.push(body);
      authorizations.push(req.headers.authorization);
      const rule = rules.find((r) => r.when(body));
      const reply: ScriptedReply = rule
        ? rule.reply(body)
        : { content: 'I have no scripted answer for that.' };
      if ('status' in reply) {
        res
          .writeHead(reply.status, { 'content-type': 'application/json' })
          .end('{"error":{"message":"scripted failure"}}');
        return;
      }
      const message =
        'content' in reply
          ? { role: 'assistant', content: reply.content }
          : {
              role: 'assistant',
              content: null,
              tool_calls: reply.toolCalls.map((c) => ({
                id: `call_${++calls}`,
                type: 'function',
                function: { name: c.name, arguments: JSON.stringify(c.arguments) },
              })),
            };
      res.writeHead(200, { 'content-type': 'application/json' }).end(
        JSON.stringify({
          id: `chatcmpl-${calls}`,
          object: 'chat.completion',
          created: Math.floor(Date.now() / 1000),
          model: body.model,
          choices: [{ index: 0, message, finish_reason: 'content' in reply ? 'stop' : 'tool_calls' }],
        }),
      );
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    baseUrl: `http://127.0.0.1:${port}/v1`,
    requests,
    authorizations,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}
