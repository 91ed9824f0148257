import { isObject } from '../pointer.ts';

/**
 * The expression forms real policy values use (connector-format.md §1.3.4):
 * `@connectionParameters('x')`, `@connectionParameters('x','default')`, `@headers('h')`, `@body()`,
 * `@body().a.b`, `@body()['@odata.id']`, `@queryParameters('q')`, `@triggerBody().value[0].x`,
 * `@Request.OriginalHTTPMethod`, and inside text `@{…}`, `{@…}` or a bare `@fn('x')`. `@@` is a literal @.
 */
export interface Scope {
  readonly connectionParameters: Readonly<Record<string, string>>;
  readonly headers: Readonly<Record<string, string>>;
  readonly query: Readonly<Record<string, string>>;
  readonly body: unknown;
  readonly triggerBody?: unknown;
  readonly method: string;
}

export type Accessor = string | number;

export interface Call {
  readonly name: string;
  readonly args: readonly string[];
  readonly accessors: readonly Accessor[];
}

export class ExpressionError extends Error {}

interface Cursor {
  readonly text: string;
  pos: number;
}

/** Parses `name(args)accessors` or `Request.OriginalHTTPMethod` at the cursor (after the `@`). */
export function parseCall(c: Cursor, withAccessors: boolean): Call {
  const ident = /^[A-Za-z_][A-Za-z0-9_]*/.exec(c.text.slice(c.pos));
  if (!ident) throw new ExpressionError(`expected a function name at ${c.pos}`);
  c.pos += ident[0].length;
  if (c.text[c.pos] !== '(') {
    // Identifier form: Request.OriginalHTTPMethod
    const rest = /^(\.[A-Za-z_][A-Za-z0-9_]*)*/.exec(c.text.slice(c.pos))![0];
    c.pos += rest.length;
    return { name: ident[0] + rest, args: [], accessors: [] };
  }
  c.pos++;
  const args: string[] = [];
  for (;;) {
    skipSpace(c);
    if (c.text[c.pos] === ')') {
      c.pos++;
      break;
    }
    if (c.text[c.pos] === "'") args.push(readQuoted(c));
    else {
      const bare = /^[^,)]+/.exec(c.text.slice(c.pos));
      if (!bare) throw new ExpressionError(`unterminated arguments in ${c.text}`);
      args.push(bare[0].trim());
      c.pos += bare[0].length;
    }
    skipSpace(c);
    if (c.text[c.pos] === ',') c.pos++;
    else if (c.text[c.pos] !== ')') throw new ExpressionError(`expected , or ) in ${c.text}`);
  }
  return { name: ident[0], args, accessors: withAccessors ? parseAccessors(c) : [] };
}

export function parseAccessors(c: Cursor): Accessor[] {
  const out: Accessor[] = [];
  for (;;) {
    if (c.text[c.pos] === '.' && /[A-Za-z_@$]/.test(c.text[c.pos + 1] ?? '')) {
      const m = /^[A-Za-z0-9_@$-]+/.exec(c.text.slice(c.pos + 1))!;
      out.push(m[0]);
      c.pos += 1 + m[0].length;
    } else if (c.text[c.pos] === '[') {
      c.pos++;
      skipSpace(c);
      if (c.text[c.pos] === "'") out.push(readQuoted(c));
      else {
        const n = /^\d+/.exec(c.text.slice(c.pos));
        if (!n) throw new ExpressionError(`bad index in ${c.text}`);
        out.push(Number(n[0]));
        c.pos += n[0].length;
      }
      skipSpace(c);
      if (c.text[c.pos] !== ']') throw new ExpressionError(`expected ] in ${c.text}`);
      c.pos++;
    } else return out;
  }
}

function readQuoted(c: Cursor): string {
  let out = '';
  c.pos++;
  while (c.pos < c.text.length) {
    const ch = c.text[c.pos]!;
    if (ch === "'") {
      if (c.text[c.pos + 1] === "'") {
        out += "'";
        c.pos += 2;
        continue;
      }
      c.pos++;
      return out;
    }
    out += ch;
    c.pos++;
  }
  throw new ExpressionError(`unterminated string in ${c.text}`);
}

function skipSpace(c: Cursor): void {
  while (c.text[c.pos] === ' ') c.pos++;
}

function lookup(record: Readonly<Record<string, string>>, name: string): string | undefined {
  if (Object.hasOwn(record, name)) return record[name];
  const lower = name.toLowerCase();
  const key = Object.keys(record).find((k) => k.toLowerCase() === lower);
  return key === undefined ? undefined : record[key];
}

/** The expression functions: a table, not a switch. */
const FUNCTIONS: Record<string, (scope: Scope, args: readonly string[]) => unknown> = {
  connectionparameters: (s, [name = '', fallback]) => lookup(s.connectionParameters, name) ?? fallback ?? '',
  headers: (s, [name = '']) => lookup(s.headers, name),
  queryparameters: (s, [name = '']) => lookup(s.query, name),
  body: (s) => s.body,
  triggerbody: (s) => s.triggerBody ?? s.body,
  'request.originalhttpmethod': (s) => s.method,
};

export function evaluate(call: Call, scope: Scope): unknown {
  const fn = FUNCTIONS[call.name.toLowerCase()];
  if (!fn) throw new ExpressionError(`unknown expression function "${call.name}"`);
  return access(fn(scope, call.args), call.accessors);
}

export function access(value: unknown, accessors: readonly Accessor[]): unknown {
  let node = value;
  for (const step of accessors) {
    if (Array.isArray(node) && typeof step === 'number') node = node[step];
    else if (isObject(node) && typeof step === 'string') node = node[step];
    else return undefined;
  }
  return node;
}

export function isKnownFunction(name: string): boolean {
  return Object.hasOwn(FUNCTIONS, name.toLowerCase());
}

/** Parses a value that is one whole expression (`@body().x`); undefined when it is text. */
export function parseWhole(template: string): Call | undefined {
  const text = template.trim();
  if (!text.startsWith('@') || text.startsWith('@@') || text.startsWith('@{')) return undefined;
  const c = { text, pos: 1 };
  try {
    const call = parseCall(c, true);
    // "@odata.nextLink" is a property name, not an expression.
    return c.pos === text.length && isKnownFunction(call.name) ? call : undefined;
  } catch {
    return undefined;
  }
}

export function stringify(value: unknown): string {
  if (value === undefined || value === null) return '';
  return typeof value === 'string' ? value : JSON.stringify(value);
}

/** The calls a template contains (for validation: unknown functions, unknown connection parameters). */
export function callsIn(template: string): Call[] {
  const calls: Call[] = [];
  walkTemplate(template, (call) => {
    calls.push(call);
    return '';
  });
  return calls;
}

/** Evaluates a template: a whole expression keeps its type, anything else becomes text. */
export function interpolate(template: string, scope: Scope): unknown {
  const whole = parseWhole(template);
  if (whole) return evaluate(whole, scope);
  return walkTemplate(template, (call) => stringify(evaluate(call, scope)));
}

function walkTemplate(template: string, onCall: (call: Call) => string): string {
  let out = '';
  let i = 0;
  const whole = parseWhole(template);
  if (whole) {
    onCall(whole);
    return '';
  }
  while (i < template.length) {
    const ch = template[i]!;
    const next = template[i + 1];
    if (ch === '@' && next === '@') {
      out += '@';
      i += 2;
    } else if ((ch === '@' && next === '{') || (ch === '{' && next === '@')) {
      const c = { text: template, pos: i + 2 };
      const call = parseCall(c, true);
      if (template[c.pos] !== '}') throw new ExpressionError(`expected } in ${template}`);
      out += onCall(call);
      i = c.pos + 1;
    } else if (ch === '@' && next !== undefined && /[A-Za-z]/.test(next)) {
      const c = { text: template, pos: i + 1 };
      const call = parseCall(c, false);
      if (!isKnownFunction(call.name)) {
        // An address or a literal such as "@odata.nextLink", not an expression.
        out += template.slice(i, c.pos);
      } else out += onCall(call);
      i = c.pos;
    } else {
      out += ch;
      i++;
    }
  }
  return out;
}
