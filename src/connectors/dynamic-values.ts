import type { DynamicArgument, DynamicValues } from './model.ts';
import { str } from './normalise.ts';
import { isObject } from './pointer.ts';

/**
 * `x-ms-dynamic-values` and its newer form `x-ms-dynamic-list` (connector-format.md §2.4), read into
 * one shape: the choices of a parameter come from calling another operation of the same connector.
 *
 *   x-ms-dynamic-values: { operationId, parameters: { p: { parameter: "x" } | literal },
 *                          value-collection, value-path, value-title }
 *   x-ms-dynamic-list:   { operationId, parameters: { p: { parameterReference: "body/x" } | { value } },
 *                          itemsPath, itemValuePath, itemTitlePath }
 *
 * The forms Behalf cannot run (`builtInOperation`, `capability: "file-picker"`) and shapes without an
 * operation read as undefined: the parameter is then an ordinary free-text one.
 */
export function readDynamicValues(object: Record<string, unknown>): DynamicValues | undefined {
  const list = object['x-ms-dynamic-list'];
  if (isObject(list)) {
    const operationId = str(list.operationId);
    if (!operationId) return undefined;
    return {
      operationId,
      parameters: readArguments(list.parameters),
      itemsPath: str(list.itemsPath) ?? '',
      valuePath: str(list.itemValuePath),
      titlePath: str(list.itemTitlePath),
    };
  }
  const values = object['x-ms-dynamic-values'];
  if (isObject(values)) {
    const operationId = str(values.operationId);
    if (!operationId) return undefined;
    return {
      operationId,
      parameters: readArguments(values.parameters),
      itemsPath: str(values['value-collection']) ?? '',
      valuePath: str(values['value-path']),
      titlePath: str(values['value-title']),
    };
  }
  return undefined;
}

function readArguments(raw: unknown): Record<string, DynamicArgument> {
  const out: Record<string, DynamicArgument> = {};
  if (!isObject(raw)) return out;
  for (const [name, spec] of Object.entries(raw)) {
    if (isObject(spec)) {
      const reference = str(spec.parameter) ?? str(spec.parameterReference);
      if (reference !== undefined) out[name] = { reference };
      else if ('value' in spec) out[name] = { value: spec.value };
    } else if (spec !== undefined && spec !== null) {
      out[name] = { value: spec };
    }
  }
  return out;
}

/**
 * Follows a slash path (`value`, `data/items`) into a JSON value; '' is the value itself. Connector
 * authors write both `a/b` and `a.b`; only `/` separates here, as the Power Platform designer reads it.
 */
export function atPath(value: unknown, path: string | undefined): unknown {
  if (path === undefined || path === '') return value;
  let current = value;
  for (const segment of path.split('/')) {
    if (!isObject(current)) return undefined;
    current = current[segment];
  }
  return current;
}
