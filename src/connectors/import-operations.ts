import type { DiagnosticSink } from './diagnostics.ts';
import type { JsonSource } from './json-source.ts';
import type { HttpMethod, Operation, Parameter, ParameterLocation, Response, Visibility } from './model.ts';
import { KEY_TYPOS, str } from './normalise.ts';
import type { PathSegment } from './pointer.ts';
import { isObject, toPointer } from './pointer.ts';
import { resolveRef } from './refs.ts';
import { readDynamicValues } from './dynamic-values.ts';

export const HTTP_METHODS: readonly HttpMethod[] = [
  'get',
  'put',
  'post',
  'delete',
  'patch',
  'head',
  'options',
];
export const PARAMETER_LOCATIONS: readonly ParameterLocation[] = [
  'query',
  'header',
  'path',
  'formData',
  'body',
];
const VISIBILITIES: readonly Visibility[] = ['important', 'advanced', 'internal', 'none', ''];

export interface OperationContext {
  readonly source: JsonSource;
  readonly documents: ReadonlyMap<string, JsonSource>;
  readonly sink: DiagnosticSink;
  readonly format: 'swagger2' | 'openapi3';
}

/** Reads a key that real files sometimes misspell (`x-ms-visibilty`); reportTyposDeep warns about it. */
export function readExtension(object: Record<string, unknown>, name: string): unknown {
  if (Object.hasOwn(object, name)) return object[name];
  for (const [typo, canonicalName] of Object.entries(KEY_TYPOS))
    if (canonicalName === name && Object.hasOwn(object, typo)) return object[typo];
  return undefined;
}

function deref(ctx: OperationContext, value: unknown): unknown {
  if (isObject(value) && typeof value.$ref === 'string') {
    const resolved = resolveRef(ctx.documents, ctx.source.file, value.$ref);
    return typeof resolved === 'string' ? undefined : resolved.value;
  }
  return value;
}

function visibility(ctx: OperationContext, object: Record<string, unknown>, path: PathSegment[]): Visibility {
  const raw = readExtension(object, 'x-ms-visibility');
  if (raw === undefined) return '';
  const lower = typeof raw === 'string' ? raw.toLowerCase() : undefined;
  const known = VISIBILITIES.find((v) => v === lower);
  if (known === undefined) {
    ctx.sink.add(ctx.source, ctx.source.file, {
      severity: 'warning',
      rule: 'definition.visibility',
      path: [...path, 'x-ms-visibility'],
      message: `x-ms-visibility ${JSON.stringify(raw)} is not one of important, advanced, internal, none.`,
      fix: 'Use "important", "advanced" or "internal", or remove the key.',
    });
    return '';
  }
  if (raw !== known)
    ctx.sink.add(ctx.source, ctx.source.file, {
      severity: 'warning',
      rule: 'normalise.case',
      path: [...path, 'x-ms-visibility'],
      message: `x-ms-visibility "${String(raw)}" was read as "${known}".`,
      fix: `Write "${known}" in lower case.`,
    });
  return known;
}

function readParameter(ctx: OperationContext, raw: unknown, path: PathSegment[]): Parameter | undefined {
  const value = deref(ctx, raw);
  if (!isObject(value)) return undefined;
  const location = str(value.in) ?? '';
  const schema = isObject(value.schema) ? value.schema : undefined;
  const dynamicValues = readDynamicValues(value);
  const parameter: Parameter = {
    name: str(value.name) ?? '',
    in: (PARAMETER_LOCATIONS as readonly string[]).includes(location)
      ? (location as ParameterLocation)
      : 'query',
    required: value.required === true,
    type: str(value.type) ?? str(schema?.type),
    ...('default' in value
      ? { default: value.default }
      : schema && 'default' in schema
        ? { default: schema.default }
        : {}),
    visibility: visibility(ctx, value, path),
    summary: str(readExtension(value, 'x-ms-summary')),
    description: str(value.description),
    ...(schema ? { schema } : {}),
    ...(location === 'path' && readExtension(value, 'x-ms-url-encoding') === 'double'
      ? { urlEncoding: 'double' as const }
      : {}),
    ...(dynamicValues ? { dynamicValues } : {}),
    pointer: toPointer(path),
  };
  return parameter;
}

/** The operations of a Swagger 2.0 or OpenAPI 3 `paths` object, path-level parameters merged in. */
export function readOperations(ctx: OperationContext, document: Record<string, unknown>): Operation[] {
  const operations: Operation[] = [];
  const paths = isObject(document.paths) ? document.paths : {};
  for (const [route, rawItem] of Object.entries(paths)) {
    const item = deref(ctx, rawItem);
    if (!isObject(item)) continue;
    const shared = Array.isArray(item.parameters) ? item.parameters : [];
    for (const method of HTTP_METHODS) {
      const op = item[method];
      if (!isObject(op)) continue;
      const opPath: PathSegment[] = ['paths', route, method];
      const byKey = new Map<string, Parameter>();
      shared.forEach((p, i) => {
        const parameter = readParameter(ctx, p, ['paths', route, 'parameters', i]);
        if (parameter) byKey.set(`${parameter.in}:${parameter.name}`, parameter);
      });
      (Array.isArray(op.parameters) ? op.parameters : []).forEach((p, i) => {
        const parameter = readParameter(ctx, p, [...opPath, 'parameters', i]);
        if (parameter) byKey.set(`${parameter.in}:${parameter.name}`, parameter);
      });
      if (ctx.format === 'openapi3') {
        const body = deref(ctx, op.requestBody);
        if (isObject(body)) byKey.set('body:body', openApiBody(body, [...opPath, 'requestBody']));
      }
      operations.push({
        operationId: str(op.operationId) ?? '',
        method,
        path: route,
        summary: str(op.summary) ?? '',
        description: str(op.description) ?? '',
        visibility: visibility(ctx, op, opPath),
        deprecated: op.deprecated === true,
        trigger:
          op['x-ms-trigger'] === 'single' || op['x-ms-trigger'] === 'batch' ? op['x-ms-trigger'] : undefined,
        agenticProtocol: str(op['x-ms-agentic-protocol']),
        requiresUserConfirmation: op['x-ms-require-user-confirmation'] === true,
        parameters: [...byKey.values()],
        responses: readResponses(ctx, op.responses),
        needsCustomCode: false,
        pointer: toPointer(opPath),
      });
    }
  }
  return operations;
}

function openApiBody(body: Record<string, unknown>, path: PathSegment[]): Parameter {
  const content = isObject(body.content) ? body.content : {};
  const json = Object.entries(content).find(([type]) => /json/i.test(type)) ?? Object.entries(content)[0];
  const schema = json && isObject(json[1]) ? json[1].schema : undefined;
  return {
    name: 'body',
    in: 'body',
    required: body.required === true,
    type: 'object',
    visibility: '',
    summary: undefined,
    description: str(body.description),
    ...(schema !== undefined ? { schema } : {}),
    pointer: toPointer(path),
  };
}

function readResponses(ctx: OperationContext, raw: unknown): Record<string, Response> {
  const out: Record<string, Response> = {};
  if (!isObject(raw)) return out;
  for (const [status, value] of Object.entries(raw)) {
    const response = deref(ctx, value);
    if (!isObject(response)) continue;
    let schema: unknown = response.schema;
    if (ctx.format === 'openapi3' && isObject(response.content)) {
      const first = Object.values(response.content)[0];
      schema = isObject(first) ? first.schema : undefined;
    }
    out[status] = {
      description: str(response.description) ?? '',
      ...(schema !== undefined ? { schema } : {}),
    };
  }
  return out;
}

/** Warns about misspelt extension keys anywhere in the document (they are read as the canonical key). */
export function reportTyposDeep(ctx: OperationContext): void {
  const walk = (node: unknown, path: PathSegment[]): void => {
    if (Array.isArray(node)) return node.forEach((v, i) => walk(v, [...path, i]));
    if (!isObject(node)) return;
    for (const [key, value] of Object.entries(node)) {
      const canonicalName = KEY_TYPOS[key];
      if (canonicalName)
        ctx.sink.add(ctx.source, ctx.source.file, {
          severity: 'warning',
          rule: 'normalise.typo',
          path: [...path, key],
          atKey: true,
          message: `"${key}" is a misspelling of "${canonicalName}"; it was read as "${canonicalName}".`,
          fix: `Rename the key to "${canonicalName}".`,
        });
      walk(value, [...path, key]);
    }
  };
  walk(ctx.source.value, []);
}
