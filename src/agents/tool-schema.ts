import type { Operation, Parameter } from '../connectors/model.ts';
import type { JsonSchema } from './tool-model.ts';

/**
 * The input JSON Schema of a tool, built from an operation's parameters.
 *
 * Copilot Studio filters out tools whose inputs use `$ref` and truncates multi-type `type` arrays
 * (connector-format.md §6.2, learn.microsoft.com/microsoft-copilot-studio/mcp-troubleshooting); we do
 * neither: local `$ref`s are inlined (a recursive one becomes an open schema at the point it recurs),
 * unions (`anyOf`, `oneOf`, `type` arrays) and enums are kept as written.
 */
export interface SchemaSource {
  /** The API definition document, where `#/definitions/…` and `#/components/…` refs point. */
  readonly document: unknown;
}

export interface BuiltSchema {
  readonly schema: JsonSchema;
  /** Hidden parameters' values (internal with a default, or fixed by the maker). */
  readonly preset: Record<string, unknown>;
}

// Keys a JSON Schema consumer understands; vendor extensions (x-ms-*) and Swagger-only keys are dropped.
const SCHEMA_KEYS = new Set([
  'type',
  'format',
  'title',
  'description',
  'default',
  'enum',
  'const',
  'items',
  'properties',
  'required',
  'additionalProperties',
  'anyOf',
  'oneOf',
  'allOf',
  'not',
  'minimum',
  'maximum',
  'exclusiveMinimum',
  'exclusiveMaximum',
  'minLength',
  'maxLength',
  'pattern',
  'minItems',
  'maxItems',
  'uniqueItems',
  'multipleOf',
  'minProperties',
  'maxProperties',
  'nullable',
  'readOnly',
  'examples',
]);
// Swagger 2 non-body parameters carry their schema inline on the parameter object.
const PARAMETER_SCHEMA_KEYS = [
  'type',
  'format',
  'enum',
  'items',
  'minimum',
  'maximum',
  'minLength',
  'maxLength',
  'pattern',
];

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function pointerTarget(document: unknown, ref: string): unknown {
  if (!ref.startsWith('#')) return undefined; // remote and cross-file refs are reported by the validator
  const segments = ref
    .slice(1)
    .split('/')
    .filter((s) => s !== '')
    .map((s) => decodeURIComponent(s).replace(/~1/g, '/').replace(/~0/g, '~'));
  let node: unknown = document;
  for (const segment of segments) {
    if (!isObject(node) && !Array.isArray(node)) return undefined;
    node = (node as Record<string, unknown>)[segment];
  }
  return node;
}

/** Inlines local `$ref`s; `seen` holds the refs on the current path so recursion terminates. */
export function inlineSchema(node: unknown, source: SchemaSource, seen: readonly string[] = []): unknown {
  if (Array.isArray(node)) return node.map((item) => inlineSchema(item, source, seen));
  if (!isObject(node)) return node;
  if (typeof node.$ref === 'string') {
    const ref = node.$ref;
    if (seen.includes(ref)) return { description: `Recursive structure (${ref.split('/').pop()}).` };
    const target = pointerTarget(source.document, ref);
    if (target === undefined) return {};
    const inlined = inlineSchema(target, source, [...seen, ref]);
    // Sibling keys of a $ref (a description beside it) refine the target.
    const siblings = Object.fromEntries(Object.entries(node).filter(([k]) => k !== '$ref'));
    return isObject(inlined) ? clean({ ...inlined, ...siblings }, source, seen) : inlined;
  }
  return clean(node, source, seen);
}

function clean(
  node: Record<string, unknown>,
  source: SchemaSource,
  seen: readonly string[],
): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(node)) {
    if (!SCHEMA_KEYS.has(key)) continue;
    if (key === 'properties' && isObject(value))
      out.properties = Object.fromEntries(
        Object.entries(value).map(([name, schema]) => [name, inlineSchema(schema, source, seen)]),
      );
    else if (key === 'items' || key === 'additionalProperties' || key === 'not')
      out[key] = typeof value === 'boolean' ? value : inlineSchema(value, source, seen);
    else if (key === 'anyOf' || key === 'oneOf' || key === 'allOf')
      out[key] = Array.isArray(value) ? value.map((v) => inlineSchema(v, source, seen)) : value;
    else out[key] = value;
  }
  // Swagger's `x-ms-summary` is the human label; JSON Schema calls it title.
  if (typeof node['x-ms-summary'] === 'string' && out.title === undefined) out.title = node['x-ms-summary'];
  return out;
}

function parameterSchema(parameter: Parameter, source: SchemaSource): Record<string, unknown> {
  const base: Record<string, unknown> =
    parameter.schema !== undefined
      ? ((inlineSchema(parameter.schema, source) as Record<string, unknown>) ?? {})
      : {};
  const at = pointerTarget(source.document, `#${parameter.pointer}`);
  const raw = isObject(at) && typeof at.$ref === 'string' ? pointerTarget(source.document, at.$ref) : at;
  if (parameter.schema === undefined && isObject(raw)) {
    const inline = inlineSchema(
      Object.fromEntries(PARAMETER_SCHEMA_KEYS.filter((k) => k in raw).map((k) => [k, raw[k]])),
      source,
    ) as Record<string, unknown>;
    Object.assign(base, inline);
  } else if (parameter.schema === undefined && parameter.type !== undefined) base.type = parameter.type;
  if (base.type === 'file') base.type = 'string';
  const description = parameter.description ?? parameter.summary;
  if (description !== undefined && base.description === undefined) base.description = description;
  if (parameter.summary !== undefined && base.title === undefined) base.title = parameter.summary;
  if (parameter.default !== undefined && base.default === undefined) base.default = parameter.default;
  return base;
}

/**
 * Hidden: fixed by the maker, or `x-ms-visibility: internal` with a value to send (Copilot Studio hides
 * internal parameters; Power Automate sends their defaults). A required internal parameter without a
 * default stays visible: hiding it would make the tool impossible to call.
 */
function isHidden(parameter: Parameter, fixed: Readonly<Record<string, unknown>>): boolean {
  if (Object.hasOwn(fixed, parameter.name)) return true;
  if (parameter.visibility !== 'internal') return false;
  return parameter.default !== undefined || !parameter.required;
}

export function buildInputSchema(
  operation: Operation,
  source: SchemaSource,
  fixed: Readonly<Record<string, unknown>> = {},
): BuiltSchema {
  const properties: Record<string, unknown> = {};
  const required: string[] = [];
  const preset: Record<string, unknown> = {};
  for (const parameter of operation.parameters) {
    if (parameter.name === '' || Object.hasOwn(properties, parameter.name)) continue;
    if (isHidden(parameter, fixed)) {
      if (Object.hasOwn(fixed, parameter.name)) preset[parameter.name] = fixed[parameter.name];
      else if (parameter.default !== undefined) preset[parameter.name] = parameter.default;
      continue;
    }
    properties[parameter.name] = parameterSchema(parameter, source);
    if (parameter.required) required.push(parameter.name);
  }
  // Closed: an argument the operation does not take is a model mistake to report, not to drop silently.
  const schema: Record<string, unknown> = { type: 'object', properties, additionalProperties: false };
  if (required.length > 0) schema.required = required;
  return { schema, preset };
}
