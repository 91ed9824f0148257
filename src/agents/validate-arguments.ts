import type { JsonSchema } from './tool-model.ts';

/**
 * Checks tool arguments against the tool's input schema before anything runs (a model's arguments are
 * untrusted input). The subset covers what connector schemas use: type (and type arrays), enum, const,
 * required, properties, additionalProperties, items, anyOf/oneOf/allOf, string/number/array bounds.
 */
export interface ArgumentProblem {
  /** JSON pointer into the arguments. */
  readonly path: string;
  readonly message: string;
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function typeOf(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'array';
  if (typeof value === 'number') return Number.isInteger(value) ? 'integer' : 'number';
  return typeof value;
}

function matchesType(value: unknown, type: string): boolean {
  const actual = typeOf(value);
  return actual === type || (type === 'number' && actual === 'integer');
}

const at = (path: string, key: string | number) =>
  `${path}/${String(key).replace(/~/g, '~0').replace(/\//g, '~1')}`;

export function validateArguments(schema: JsonSchema, value: unknown, path = ''): ArgumentProblem[] {
  const problems: ArgumentProblem[] = [];
  const push = (message: string) => problems.push({ path: path === '' ? '/' : path, message });

  if (value === null && schema.nullable === true) return problems;
  const types = Array.isArray(schema.type)
    ? (schema.type as string[])
    : typeof schema.type === 'string'
      ? [schema.type]
      : [];
  if (types.length > 0 && !types.some((t) => matchesType(value, t))) {
    push(`must be ${types.join(' or ')}, got ${typeOf(value)}`);
    return problems;
  }
  if (Array.isArray(schema.enum) && !schema.enum.some((e) => JSON.stringify(e) === JSON.stringify(value)))
    push(`must be one of ${schema.enum.map((e) => JSON.stringify(e)).join(', ')}`);
  if ('const' in schema && JSON.stringify(schema.const) !== JSON.stringify(value))
    push(`must be ${JSON.stringify(schema.const)}`);

  if (typeof value === 'string') {
    if (typeof schema.minLength === 'number' && value.length < schema.minLength)
      push(`must be at least ${schema.minLength} characters`);
    if (typeof schema.maxLength === 'number' && value.length > schema.maxLength)
      push(`must be at most ${schema.maxLength} characters`);
    if (typeof schema.pattern === 'string' && !safePattern(schema.pattern, value))
      push(`must match ${schema.pattern}`);
  }
  if (typeof value === 'number') {
    if (typeof schema.minimum === 'number' && value < schema.minimum) push(`must be ≥ ${schema.minimum}`);
    if (typeof schema.maximum === 'number' && value > schema.maximum) push(`must be ≤ ${schema.maximum}`);
    if (typeof schema.exclusiveMinimum === 'number' && value <= schema.exclusiveMinimum)
      push(`must be > ${schema.exclusiveMinimum}`);
    if (typeof schema.exclusiveMaximum === 'number' && value >= schema.exclusiveMaximum)
      push(`must be < ${schema.exclusiveMaximum}`);
  }
  if (Array.isArray(value)) {
    if (typeof schema.minItems === 'number' && value.length < schema.minItems)
      push(`must have at least ${schema.minItems} items`);
    if (typeof schema.maxItems === 'number' && value.length > schema.maxItems)
      push(`must have at most ${schema.maxItems} items`);
    if (isObject(schema.items))
      value.forEach((item, i) =>
        problems.push(...validateArguments(schema.items as JsonSchema, item, at(path, i))),
      );
  }
  if (isObject(value)) {
    const properties = isObject(schema.properties) ? schema.properties : {};
    for (const name of Array.isArray(schema.required) ? (schema.required as string[]) : [])
      if (value[name] === undefined) problems.push({ path: at(path, name), message: 'is required' });
    for (const [name, item] of Object.entries(value)) {
      const propertySchema = properties[name];
      if (isObject(propertySchema)) problems.push(...validateArguments(propertySchema, item, at(path, name)));
      else if (schema.additionalProperties === false)
        problems.push({ path: at(path, name), message: 'is not a parameter of this tool' });
      else if (isObject(schema.additionalProperties))
        problems.push(...validateArguments(schema.additionalProperties, item, at(path, name)));
    }
  }
  if (Array.isArray(schema.allOf))
    for (const part of schema.allOf)
      if (isObject(part)) problems.push(...validateArguments(part, value, path));
  for (const key of ['anyOf', 'oneOf'] as const) {
    const options = schema[key];
    if (!Array.isArray(options) || options.length === 0) continue;
    const passing = options.filter(
      (o) => isObject(o) && validateArguments(o, value, path).length === 0,
    ).length;
    if (passing === 0 || (key === 'oneOf' && passing > 1))
      push(
        key === 'oneOf' && passing > 1
          ? 'matches more than one alternative'
          : 'matches none of the alternatives',
      );
  }
  return problems;
}

function safePattern(pattern: string, value: string): boolean {
  try {
    return new RegExp(pattern, 'u').test(value);
  } catch {
    return true; // an unparsable pattern in a connector is the maker's error, not the caller's
  }
}
