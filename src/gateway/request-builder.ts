import { ConnectionError } from '../connections/errors.ts';
import type { Operation, Parameter } from '../connectors/model.ts';
import type { OutboundRequest } from '../connectors/policies/types.ts';

/**
 * Builds the outbound request of an operation from the caller's JSON arguments and the definition:
 * path, query, header and body parameters (OpenAPI 2.0 §Parameter Object), defaults for parameters
 * the caller may not see (`x-ms-visibility: internal`), and a 400 that names the parameter and what
 * the definition expects whenever an argument is missing or of the wrong type, never a 500.
 */
export type Arguments = Readonly<Record<string, unknown>>;

function invalid(parameter: Parameter, problem: string): ConnectionError {
  const expected = parameter.type ?? (parameter.in === 'body' ? 'object' : 'string');
  return new ConnectionError(
    400,
    'InvalidArgument',
    `Parameter '${parameter.name}' (${parameter.in}) ${problem}; the definition expects ${expected}.`,
    {
      parameter: parameter.name,
      remediation: `Pass '${parameter.name}' as ${expected}.`,
    },
  );
}

// A table of type checks; query/path/header values arrive as JSON and are sent as text.
const CHECKS: Readonly<Record<string, (value: unknown) => boolean>> = {
  string: (v) => typeof v === 'string',
  integer: (v) => Number.isInteger(typeof v === 'string' && v.trim() !== '' ? Number(v) : v),
  number: (v) =>
    typeof v === 'number' || (typeof v === 'string' && v.trim() !== '' && Number.isFinite(Number(v))),
  boolean: (v) => typeof v === 'boolean' || v === 'true' || v === 'false',
  array: (v) => Array.isArray(v),
  object: (v) => v !== null && typeof v === 'object' && !Array.isArray(v),
  file: () => true,
};

function valueOf(parameter: Parameter, args: Arguments): unknown {
  // Internal parameters are the connector's, not the caller's: always the definition's default.
  if (parameter.visibility === 'internal') return parameter.default;
  return args[parameter.name] ?? parameter.default;
}

function text(value: unknown): string {
  return Array.isArray(value) ? value.map(String).join(',') : String(value);
}

// The names an operation accepts, once per operation object (a connector version's model is immutable).
const names = new WeakMap<Operation, ReadonlySet<string>>();
function parameterNames(operation: Operation): ReadonlySet<string> {
  let known = names.get(operation);
  if (!known) {
    known = new Set(operation.parameters.map((p) => p.name));
    names.set(operation, known);
  }
  return known;
}

export function buildRequest(operation: Operation, baseUrl: string, args: Arguments): OutboundRequest {
  let path = operation.path;
  const query: Record<string, string> = {};
  const headers: Record<string, string> = {};
  let body: unknown;
  const known = parameterNames(operation);
  for (const name of Object.keys(args))
    if (!known.has(name))
      throw new ConnectionError(
        400,
        'UnknownArgument',
        `Operation '${operation.operationId}' has no parameter '${name}'.`,
        { parameter: name },
      );

  for (const parameter of operation.parameters) {
    const value = valueOf(parameter, args);
    if (value === undefined || value === null) {
      if (parameter.required || parameter.in === 'path') throw invalid(parameter, 'is required');
      continue;
    }
    const check = CHECKS[parameter.type ?? (parameter.in === 'body' ? 'object' : 'string')];
    if (parameter.in !== 'body' && check && !check(value))
      throw invalid(parameter, `has the wrong type (${Array.isArray(value) ? 'array' : typeof value})`);
    switch (parameter.in) {
      case 'path': {
        // x-ms-url-encoding: double encodes twice (`a/b` → `a%252Fb`), for APIs that decode a path
        // segment once before routing, so that a slash in the value survives as %2F.
        const once = encodeURIComponent(text(value));
        path = path
          .split(`{${parameter.name}}`)
          .join(parameter.urlEncoding === 'double' ? encodeURIComponent(once) : once);
        break;
      }
      case 'query':
        query[parameter.name] = text(value);
        break;
      case 'header':
        headers[parameter.name] = text(value);
        break;
      case 'body':
        body = value;
        break;
      case 'formData':
        body = { ...(body as Record<string, unknown> | undefined), [parameter.name]: value };
        break;
    }
  }
  if (body !== undefined && operation.parameters.some((p) => p.in === 'body'))
    headers['content-type'] ??= 'application/json';
  return {
    method: operation.method.toUpperCase(),
    url: baseUrl.replace(/\/+$/, '') + path,
    headers,
    query,
    body,
  };
}
