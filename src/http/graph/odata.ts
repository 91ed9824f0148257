import { graphError } from './errors.ts';

/**
 * The OData query subset Behalf's management API understands: `$top`, `$skiptoken`, `$select` and a
 * `$filter` of `eq` / `startswith` / `any(x:x eq …)` clauses joined by `and` — what Graph scripts use
 * to find an application by appId, displayName or identifier URI.
 */
export interface FilterSpec {
  /** Property name → how to read it (string or string[] for lambda `any`). */
  readonly [property: string]: (item: never) => string | null | readonly string[];
}

type Clause =
  | { op: 'eq'; property: string; value: string | boolean | null }
  | { op: 'startswith'; property: string; value: string }
  | { op: 'any'; property: string; value: string };

const STRING = String.raw`'((?:[^']|'')*)'`;
const LITERAL = String.raw`(?:${STRING}|(true|false|null))`;
const CLAUSES: { pattern: RegExp; build: (m: RegExpMatchArray) => Clause }[] = [
  {
    pattern: new RegExp(String.raw`^([A-Za-z][\w/]*)\s+eq\s+${LITERAL}$`),
    build: (m) => ({ op: 'eq', property: m[1]!, value: literal(m[2], m[3]) }),
  },
  {
    pattern: new RegExp(String.raw`^startswith\(\s*([A-Za-z]\w*)\s*,\s*${STRING}\s*\)$`, 'i'),
    build: (m) => ({ op: 'startswith', property: m[1]!, value: unquote(m[2]!) }),
  },
  {
    pattern: new RegExp(String.raw`^([A-Za-z]\w*)/any\(\s*(\w+)\s*:\s*(\w+)\s+eq\s+${STRING}\s*\)$`),
    build: (m) => {
      if (m[2] !== m[3]) throw graphError.unsupportedQuery(`Invalid lambda expression in filter '${m[0]}'.`);
      return { op: 'any', property: m[1]!, value: unquote(m[4]!) };
    },
  },
];

function unquote(value: string): string {
  return value.replace(/''/g, "'");
}

function literal(quoted: string | undefined, bare: string | undefined): string | boolean | null {
  if (quoted !== undefined) return unquote(quoted);
  return bare === 'null' ? null : bare === 'true';
}

/** Splits on ` and ` outside quoted strings. */
function splitAnd(filter: string): string[] {
  const parts: string[] = [];
  let current = '';
  let quoted = false;
  for (let i = 0; i < filter.length; i++) {
    const c = filter[i]!;
    if (c === "'") quoted = !quoted;
    if (!quoted && /^\s+and\s+/i.test(filter.slice(i)) && /\s/.test(c)) {
      parts.push(current.trim());
      current = '';
      i += filter.slice(i).match(/^\s+and\s+/i)![0].length - 1;
      continue;
    }
    current += c;
  }
  parts.push(current.trim());
  return parts;
}

export function parseFilter<T>(
  filter: string | undefined,
  spec: FilterSpec,
  resource: string,
): ((item: T) => boolean) | undefined {
  if (filter === undefined || filter.trim() === '') return undefined;
  if (filter.length > 2000) throw graphError.unsupportedQuery('The $filter expression is too long.');
  const clauses = splitAnd(filter.trim()).map((text) => {
    for (const { pattern, build } of CLAUSES) {
      const match = text.match(pattern);
      if (match) return build(match);
    }
    throw graphError.unsupportedQuery(
      `Invalid filter clause: '${text}'. Supported: eq, startswith(), any(x:x eq ...), joined by 'and'.`,
    );
  });
  const predicates = clauses.map((clause) => {
    const read = spec[clause.property] as
      ((item: T) => string | boolean | null | readonly string[]) | undefined;
    if (!read)
      throw graphError.unsupportedQuery(
        `Unsupported or invalid query filter clause specified for property '${clause.property}' of resource '${resource}'.`,
      );
    return (item: T) => {
      const actual = read(item);
      switch (clause.op) {
        case 'eq':
          return typeof actual === 'string' && typeof clause.value === 'string'
            ? actual.toLowerCase() === clause.value.toLowerCase()
            : actual === clause.value;
        case 'startswith':
          return typeof actual === 'string' && actual.toLowerCase().startsWith(clause.value.toLowerCase());
        case 'any':
          return (
            Array.isArray(actual) &&
            actual.some((v: string) => v.toLowerCase() === clause.value.toLowerCase())
          );
      }
    };
  });
  return (item) => predicates.every((p) => p(item));
}

export interface ListQuery {
  readonly top: number;
  readonly after?: string;
  readonly filter?: string;
  readonly select?: readonly string[];
}

const MAX_TOP = 999;

export function parseListQuery(query: Record<string, unknown>): ListQuery {
  const single = (name: string) => {
    const value = query[name];
    if (Array.isArray(value))
      throw graphError.badRequest(`Query option '${name}' was specified more than once.`);
    return typeof value === 'string' ? value : undefined;
  };
  const topText = single('$top');
  let top = 100;
  if (topText !== undefined) {
    if (!/^\d{1,4}$/.test(topText) || Number(topText) < 1 || Number(topText) > MAX_TOP)
      throw graphError.badRequest(
        `Invalid page size specified: '${topText}'. Must be between 1 and ${MAX_TOP} inclusive.`,
      );
    top = Number(topText);
  }
  const token = single('$skiptoken');
  let after: string | undefined;
  if (token !== undefined) {
    after = Buffer.from(token, 'base64url').toString('utf8');
    if (!/^[\w-]{1,200}$/.test(after)) throw graphError.badRequest('The $skiptoken is not valid.');
  }
  const select = single('$select')
    ?.split(',')
    .map((s) => s.trim())
    .filter((s) => s !== '');
  const filter = single('$filter');
  return {
    top,
    ...(after ? { after } : {}),
    ...(filter !== undefined ? { filter } : {}),
    ...(select ? { select } : {}),
  };
}

export function skipToken(lastId: string): string {
  return Buffer.from(lastId, 'utf8').toString('base64url');
}

/** `$select`: only the named properties (and `id`, which Graph always returns). */
export function selectFields(
  view: Record<string, unknown>,
  select: readonly string[] | undefined,
  type: string,
) {
  if (!select) return view;
  const out: Record<string, unknown> = {};
  for (const name of select) {
    if (!(name in view))
      throw graphError.badRequest(
        `Could not find a property named '${name}' on type 'microsoft.graph.${type}'.`,
      );
    out[name] = view[name];
  }
  if ('id' in view) out.id = view.id;
  return out;
}
