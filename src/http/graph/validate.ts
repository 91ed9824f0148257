import type { z } from 'zod';
import { graphError } from './errors.ts';

function path(segments: readonly PropertyKey[]): string {
  return segments.map((s, i) => (typeof s === 'number' ? `[${s}]` : (i > 0 ? '.' : '') + String(s))).join('');
}

function valueAt(value: unknown, segments: readonly PropertyKey[]): unknown {
  let current = value;
  for (const segment of segments) {
    if (current === null || typeof current !== 'object') return undefined;
    current = (current as Record<PropertyKey, unknown>)[segment];
  }
  return current;
}

/** Parses a body and turns the first problem into Graph's wording for it. */
export function parseBody<S extends z.ZodType>(schema: S, body: unknown, resource: string): z.output<S> {
  if (body === undefined || body === null || typeof body !== 'object' || Array.isArray(body))
    throw graphError.badRequest('Empty Payload. JSON content expected.');
  const result = schema.safeParse(body);
  if (result.success) return result.data;
  const issue = result.error.issues[0]!;
  const at = path(issue.path);
  const input = valueAt(body, issue.path);
  switch (issue.code) {
    case 'unrecognized_keys': {
      const name = (at ? at + '.' : '') + issue.keys[0];
      throw graphError.badRequest(
        `Property '${name}' does not exist as a declared property or extension property.`,
      );
    }
    case 'invalid_type':
      if (input === undefined) throw graphError.badRequest(`Property '${at}' is required.`);
      throw graphError.badRequest(
        `Invalid value specified for property '${at}' of resource '${resource}': expected ${issue.expected}.`,
      );
    case 'invalid_format':
      throw graphError.badRequest(
        issue.format === 'guid'
          ? `Invalid value specified for property '${at}' of resource '${resource}': '${String(input).slice(0, 80)}' is not a GUID.`
          : `Invalid value specified for property '${at}' of resource '${resource}': expected a ${issue.format}.`,
      );
    case 'too_big':
      throw graphError.badRequest(
        `Property '${at}' of resource '${resource}' exceeds its maximum ${issue.origin === 'array' ? 'count' : 'length'} of ${String(issue.maximum)}.`,
      );
    case 'too_small':
      throw graphError.badRequest(
        `Property '${at}' of resource '${resource}' needs at least ${String(issue.minimum)} ${issue.origin === 'array' ? 'item(s)' : 'character(s)'}.`,
      );
    default:
      throw graphError.badRequest(
        `Invalid value specified for property '${at}' of resource '${resource}': ${issue.message}.`,
      );
  }
}

type NoUndefined<T> = T extends readonly (infer U)[]
  ? NoUndefined<U>[]
  : T extends object
    ? { [K in keyof T]: NoUndefined<Exclude<T[K], undefined>> }
    : T;

/** Drops `undefined` members (zod's optional output) so the value fits exact optional properties. */
export function clean<T>(value: T): NoUndefined<T> {
  return JSON.parse(JSON.stringify(value)) as NoUndefined<T>;
}
