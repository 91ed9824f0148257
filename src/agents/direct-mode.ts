import type { JsonSchema, Tool } from './tool-model.ts';

/**
 * Direct mode: `/tool-name arg=value other="two words"` runs a tool without a language model, so the
 * demo works offline. Values are read by the parameter's schema type (`top=5` → 5, `unread=true` →
 * true, `ids=["a","b"]` → an array); anything else stays a string and the schema check reports it.
 */
export type DirectCommand =
  | { readonly kind: 'help' }
  | { readonly kind: 'run'; readonly tool: string; readonly arguments: Record<string, unknown> }
  | { readonly kind: 'error'; readonly message: string };

export function isDirectCommand(text: string): boolean {
  return /^\/[A-Za-z0-9_.?-]/.test(text.trim());
}

function tokens(text: string): string[] | string {
  const out: string[] = [];
  let current = '';
  let quote: string | undefined;
  let started = false;
  for (let i = 0; i < text.length; i++) {
    const ch = text[i]!;
    if (quote) {
      if (ch === '\\' && i + 1 < text.length) current += text[++i];
      else if (ch === quote) quote = undefined;
      else current += ch;
    } else if ((ch === '"' || ch === "'") && (current === '' || current.endsWith('='))) {
      // Quotes group a value only where one starts (`subject="two words"`); inside JSON they are literal.
      quote = ch;
      started = true;
    } else if (/\s/.test(ch)) {
      if (started) out.push(current);
      current = '';
      started = false;
    } else {
      current += ch;
      started = true;
    }
  }
  if (quote) return `unterminated ${quote} quote`;
  if (started) out.push(current);
  return out;
}

function propertySchema(schema: JsonSchema, name: string): JsonSchema | undefined {
  const properties = schema.properties as Record<string, JsonSchema> | undefined;
  return properties && Object.hasOwn(properties, name) ? properties[name] : undefined;
}

function coerce(raw: string, schema: JsonSchema | undefined): unknown {
  const types = Array.isArray(schema?.type) ? (schema.type as string[]) : [schema?.type];
  if ((types.includes('integer') || types.includes('number')) && /^-?\d+(\.\d+)?$/.test(raw))
    return Number(raw);
  if (types.includes('boolean') && /^(true|false|yes|no)$/i.test(raw)) return /^(true|yes)$/i.test(raw);
  if ((types.includes('array') || types.includes('object')) && /^[[{]/.test(raw)) {
    try {
      return JSON.parse(raw) as unknown;
    } catch {
      return raw;
    }
  }
  return raw;
}

export function parseDirectCommand(text: string, tools: readonly Tool[]): DirectCommand {
  const parts = tokens(text.trim().slice(1));
  if (typeof parts === 'string') return { kind: 'error', message: `Could not read the command: ${parts}.` };
  const [name, ...rest] = parts;
  if (name === undefined || name === 'help' || name === '?') return { kind: 'help' };
  const tool = tools.find((t) => t.name === name);
  if (!tool) return { kind: 'error', message: `There is no tool "/${name}". Type /help to list the tools.` };
  const args: Record<string, unknown> = {};
  for (const part of rest) {
    const eq = part.indexOf('=');
    if (eq <= 0) {
      // A bare word is a boolean switch when the schema has such a parameter (`/get-emails unread`).
      if (propertySchema(tool.inputSchema, part)?.type === 'boolean') args[part] = true;
      else
        return {
          kind: 'error',
          message: `"${part}" is not name=value. Type /help for the tools and their parameters.`,
        };
      continue;
    }
    const key = part.slice(0, eq);
    args[key] = coerce(part.slice(eq + 1), propertySchema(tool.inputSchema, key));
  }
  return { kind: 'run', tool: tool.name, arguments: args };
}

/** The /help text: each tool with its parameters. */
export function directHelp(tools: readonly Tool[]): string {
  if (tools.length === 0) return 'This agent has no tools.';
  const lines = tools.map((t) => {
    const properties = Object.keys((t.inputSchema.properties as Record<string, unknown> | undefined) ?? {});
    const required = new Set((t.inputSchema.required as string[] | undefined) ?? []);
    const params = properties.map((p) => (required.has(p) ? `${p}=…` : `[${p}=…]`)).join(' ');
    return `/${t.name}${params ? ' ' + params : ''} — ${t.title}: ${t.description}`;
  });
  return ['Tools you can run directly:', ...lines].join('\n');
}
