import type { ToolResult } from './tool-runner.ts';
import type { Tool } from './tool-model.ts';

/** Tool results as the model reads them; bounded so one large mailbox cannot flood the context. */
const MODEL_LIMIT = 12_000;
/** Tool results as a person reads them in direct mode. */
const PERSON_LIMIT = 4_000;

function clip(text: string, limit: number): string {
  return text.length <= limit ? text : `${text.slice(0, limit)}\n… (${text.length - limit} more characters)`;
}

export function toolMessage(result: ToolResult): string {
  switch (result.kind) {
    case 'ok':
      return clip(JSON.stringify(result.body ?? null), MODEL_LIMIT);
    case 'invalid-arguments':
      return `Invalid arguments, nothing was run: ${result.problems.map((p) => `${p.path} ${p.message}`).join('; ')}. Correct them and call the tool again.`;
    case 'needs-confirmation':
      return 'Waiting: the person must confirm this call before it runs. Do not retry it.';
    case 'consent-required':
      return 'Waiting: the person must first sign in to the connection (a consent card is shown). Do not retry it.';
    case 'failed':
      return JSON.stringify({ error: result.code, message: result.message, remediation: result.remediation });
  }
}

export function describeResult(tool: Tool, result: ToolResult): string {
  switch (result.kind) {
    case 'ok':
      return `${tool.title}:\n${clip(JSON.stringify(result.body ?? null, null, 2), PERSON_LIMIT)}`;
    case 'invalid-arguments':
      return `"${tool.title}" was not run: ${result.problems.map((p) => `${p.path === '/' ? 'arguments' : p.path.slice(1)} ${p.message}`).join('; ')}.`;
    case 'failed':
      return `${result.message} ${result.remediation}`;
    case 'needs-confirmation':
      return result.prompt;
    case 'consent-required':
      return result.card.message;
  }
}
