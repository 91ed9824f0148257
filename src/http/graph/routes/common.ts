import { isGuid } from '../../../core/ids.ts';
import { graphError } from '../errors.ts';
import type { GraphContext } from '../router.ts';

export function guidParam(context: GraphContext, name = 'id'): string {
  const id = context.params[name]!;
  if (!isGuid(id)) throw graphError.invalidId(id);
  return id.toLowerCase();
}

/** Graph's `@odata.type` annotations are accepted on input and dropped. */
export function withoutAnnotations<T>(value: T): T {
  return JSON.parse(JSON.stringify(value, (key, v: unknown) => (key === '@odata.type' ? undefined : v))) as T;
}
