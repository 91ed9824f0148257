import { HTTP_METHODS, PARAMETER_LOCATIONS } from '../import-operations.ts';
import type { PathSegment } from '../pointer.ts';
import { fromPointer, isObject } from '../pointer.ts';
import type { Finding, Rule, RuleContext } from './types.ts';

function doc(ctx: RuleContext): Record<string, unknown> {
  return isObject(ctx.definition.value) ? ctx.definition.value : {};
}

/** Every raw parameter object of the definition with its path (shared, per path and per operation). */
function* rawParameters(ctx: RuleContext): Generator<[Record<string, unknown>, PathSegment[]]> {
  const d = doc(ctx);
  if (isObject(d.parameters))
    for (const [k, v] of Object.entries(d.parameters)) if (isObject(v)) yield [v, ['parameters', k]];
  const paths = isObject(d.paths) ? d.paths : {};
  for (const [route, item] of Object.entries(paths)) {
    if (!isObject(item)) continue;
    const lists: [unknown, PathSegment[]][] = [[item.parameters, ['paths', route, 'parameters']]];
    for (const m of HTTP_METHODS)
      if (isObject(item[m]))
        lists.push([(item[m] as Record<string, unknown>).parameters, ['paths', route, m, 'parameters']]);
    for (const [list, path] of lists)
      if (Array.isArray(list))
        for (const [i, p] of list.entries()) if (isObject(p) && p.$ref === undefined) yield [p, [...path, i]];
  }
}

function suggestId(method: string, path: string): string {
  const words = path.split(/[^A-Za-z0-9]+/).filter((w) => w !== '');
  return (
    method[0]!.toUpperCase() + method.slice(1) + words.map((w) => w[0]!.toUpperCase() + w.slice(1)).join('')
  );
}

export const DEFINITION_RULES: readonly Rule[] = [
  {
    id: 'definition.version',
    severity: 'error',
    fix: 'Set "swagger": "2.0" (Power Platform definitions are Swagger 2.0), or "openapi": "3.0.x".',
    *check(ctx) {
      const d = doc(ctx);
      if (ctx.model.format === 'swagger2' && d.swagger !== '2.0')
        yield {
          in: 'definition',
          path: ['swagger'],
          message: `The definition declares ${d.swagger === undefined ? 'no version' : `version ${JSON.stringify(d.swagger)}`}; "swagger": "2.0" is required.`,
        };
    },
  },
  {
    id: 'definition.info-title',
    severity: 'error',
    fix: 'Add "info": { "title": "<connector name>", "version": "1.0" }; the title becomes the connector name.',
    *check(ctx) {
      if (ctx.model.title.trim() === '')
        yield { in: 'definition', path: ['info', 'title'], message: 'info.title is missing or empty.' };
    },
  },
  {
    id: 'definition.paths',
    severity: 'error',
    fix: 'Add at least one operation under "paths".',
    *check(ctx) {
      if (!isObject(doc(ctx).paths))
        yield { in: 'definition', path: ['paths'], message: 'The definition has no "paths" object.' };
    },
  },
  {
    id: 'definition.host',
    severity: 'warning',
    fix: 'Set "host" (and "basePath"), or add a dynamichosturl policy that supplies the host.',
    *check(ctx) {
      const dynamic = ctx.model.policies.some(
        (p) => p.templateId === 'dynamichosturl' && p.operationIds === undefined,
      );
      if (ctx.model.baseUrl === undefined && !dynamic)
        yield {
          in: 'definition',
          path: [ctx.model.format === 'openapi3' ? 'servers' : 'host'],
          message: 'The definition names no backend host.',
        };
    },
  },
  {
    id: 'operation.id-missing',
    severity: 'error',
    fix: 'Add a unique "operationId".',
    *check(ctx) {
      for (const op of ctx.model.operations)
        if (op.operationId === '')
          yield {
            in: 'definition',
            path: [...fromPointer(op.pointer), 'operationId'],
            message: `${op.method.toUpperCase()} ${op.path} has no operationId; connectors, flows and agent tools address operations by it.`,
            fix: `Add "operationId": "${suggestId(op.method, op.path)}" (any name unique in the definition).`,
          };
    },
  },
  {
    id: 'operation.id-duplicate',
    severity: 'error',
    fix: 'Rename one of the operations; operationIds are unique, compared case-insensitively.',
    *check(ctx) {
      const seen = new Map<string, string>();
      for (const op of ctx.model.operations) {
        const key = op.operationId.toLowerCase();
        if (key === '') continue;
        const first = seen.get(key);
        if (first !== undefined)
          yield {
            in: 'definition',
            path: [...fromPointer(op.pointer), 'operationId'],
            message: `operationId "${op.operationId}" is also used by ${first}.`,
          };
        else seen.set(key, `${op.method.toUpperCase()} ${op.path}`);
      }
    },
  },
  {
    id: 'parameter.location',
    severity: 'error',
    fix: `Set "in" to one of ${PARAMETER_LOCATIONS.join(', ')}.`,
    *check(ctx) {
      const allowed: readonly string[] =
        ctx.model.format === 'openapi3' ? ['query', 'header', 'path', 'cookie'] : PARAMETER_LOCATIONS;
      for (const [p, path] of rawParameters(ctx))
        if (typeof p.in !== 'string' || !allowed.includes(p.in))
          yield {
            in: 'definition',
            path: [...path, 'in'],
            message: `Parameter "${String(p.name)}" has location ${JSON.stringify(p.in)}, which is not valid.`,
          };
    },
  },
  {
    id: 'parameter.name',
    severity: 'error',
    fix: 'Give the parameter a "name".',
    *check(ctx) {
      for (const [p, path] of rawParameters(ctx))
        if (typeof p.name !== 'string' || p.name === '')
          yield { in: 'definition', path: [...path, 'name'], message: 'A parameter has no name.' };
    },
  },
  {
    id: 'parameter.path-required',
    severity: 'error',
    fix: 'Add "required": true (Swagger 2.0: path parameters are always required).',
    *check(ctx) {
      for (const [p, path] of rawParameters(ctx))
        if (p.in === 'path' && p.required !== true)
          yield {
            in: 'definition',
            path: [...path, 'required'],
            message: `Path parameter "${String(p.name)}" is not marked required.`,
          };
    },
  },
  {
    id: 'parameter.path-undeclared',
    severity: 'error',
    fix: 'Declare a parameter with "in": "path" for every {name} in the path, or remove the placeholder.',
    *check(ctx) {
      for (const op of ctx.model.operations) {
        const declared = new Set(op.parameters.filter((p) => p.in === 'path').map((p) => p.name));
        for (const m of op.path.matchAll(/\{([^}]+)\}/g))
          if (!declared.has(m[1]!))
            yield {
              in: 'definition',
              path: fromPointer(op.pointer),
              message: `${op.method.toUpperCase()} ${op.path} uses {${m[1]}} but declares no path parameter with that name.`,
            };
      }
    },
  },
  {
    id: 'parameter.internal-required-default',
    severity: 'error',
    fix: 'Add a "default" value, make the parameter optional, or make it visible.',
    *check(ctx) {
      for (const op of ctx.model.operations)
        for (const p of op.parameters)
          if (p.visibility === 'internal' && p.required && p.in !== 'body' && !('default' in p))
            yield {
              in: 'definition',
              path: fromPointer(p.pointer),
              message: `Parameter "${p.name}" of ${op.operationId || op.path} is internal (hidden from the user) and required, but has no default, so no caller can ever supply it.`,
            };
    },
  },
  {
    id: 'parameter.body-count',
    severity: 'error',
    fix: 'Merge the body parameters into one schema (Swagger 2.0 allows one body parameter, and not with formData).',
    *check(ctx) {
      for (const op of ctx.model.operations) {
        const bodies = op.parameters.filter((p) => p.in === 'body').length;
        const forms = op.parameters.some((p) => p.in === 'formData');
        if (bodies > 1 || (bodies === 1 && forms))
          yield {
            in: 'definition',
            path: [...fromPointer(op.pointer), 'parameters'],
            message: `${op.operationId || op.path} declares ${bodies} body parameters${forms ? ' and formData parameters' : ''}.`,
          };
      }
    },
  },
  {
    id: 'operation.agentic-protocol',
    severity: 'warning',
    fix: 'Use "x-ms-agentic-protocol": "mcp-streamable-1.0" (the only transport Copilot Studio supports).',
    *check(ctx) {
      for (const op of ctx.model.operations)
        if (op.agenticProtocol !== undefined && op.agenticProtocol !== 'mcp-streamable-1.0')
          yield {
            in: 'definition',
            path: [...fromPointer(op.pointer), 'x-ms-agentic-protocol'],
            message: `Unknown agentic protocol "${op.agenticProtocol}".`,
          };
    },
  },
];

export type { Finding };
