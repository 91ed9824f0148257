import { parse as parseYaml } from 'yaml';
import { DiagnosticSink } from './diagnostics.ts';
import type { JsonSource, ParsedSource } from './json-source.ts';
import { parseJsonSource } from './json-source.ts';
import type { ConnectorModel, Operation } from './model.ts';
import { readOperations, reportTyposDeep } from './import-operations.ts';
import { readProperties } from './import-properties.ts';
import { serverUrl, synthesiseProperties } from './openapi3.ts';
import type { ImportedConnector, PackageFiles, TextFile } from './package.ts';
import { API_DEFINITION, API_PROPERTIES } from './package.ts';
import { isObject } from './pointer.ts';
import { checkRefs } from './refs.ts';
import { validate } from './validate.ts';

/** Parses JSON tolerantly, or YAML when the text is not JSON-shaped (OpenAPI and MCP samples use YAML). */
export function parseDocument(file: TextFile): ParsedSource {
  const body = file.text.replace(/^\uFEFF/, '').trimStart();
  if (body.startsWith('{') || body.startsWith('[') || body === '' || /\.json$/i.test(file.name))
    return parseJsonSource(file.name, file.text);
  try {
    const value: unknown = parseYaml(body);
    return {
      source: {
        file: file.name,
        text: file.text,
        tree: undefined,
        value,
        repaired: false,
        hadBom: false,
        lineStarts: [0],
      },
      diagnostics: [],
      usable: true,
    };
  } catch (error) {
    const { line, col } = (error as { linePos?: [{ line: number; col: number }] }).linePos?.[0] ?? {
      line: 1,
      col: 1,
    };
    return {
      source: {
        file: file.name,
        text: file.text,
        tree: undefined,
        value: undefined,
        repaired: false,
        hadBom: false,
        lineStarts: [0],
      },
      diagnostics: [
        {
          severity: 'error',
          rule: 'yaml.syntax',
          file: file.name,
          pointer: '',
          line,
          column: col,
          message: `Not valid YAML: ${(error as Error).message.split('\n')[0]}`,
          fix: 'Correct the YAML syntax at this position.',
        },
      ],
      usable: false,
    };
  }
}

function missing(sink: DiagnosticSink, file: string, what: string): void {
  sink.push({
    severity: 'error',
    rule: 'package.missing-file',
    file,
    pointer: '',
    message: `The package has no ${file} (${what}).`,
    fix: `Add ${file} to the package (paconn: --${file === API_DEFINITION ? 'api-def' : 'api-prop'}).`,
  });
}

/**
 * Imports a package: parses the original documents (kept for export), builds the model and validates
 * it. Never throws on bad input: every problem becomes a diagnostic.
 */
export function importPackage(files: PackageFiles): ImportedConnector {
  const sink = new DiagnosticSink();
  const documents = new Map<string, JsonSource>();
  const load = (file: TextFile | undefined): JsonSource | undefined => {
    if (!file) return undefined;
    const parsed = parseDocument(file);
    sink.push(...parsed.diagnostics);
    documents.set(file.name, parsed.source);
    return parsed.usable ? parsed.source : undefined;
  };
  const definition = load(files.apiDefinition);
  let properties = load(files.apiProperties);
  const extra = (files.extra ?? []).map((f) => load(f)).filter((s): s is JsonSource => s !== undefined);
  const base = {
    documents: {
      ...(definition ? { apiDefinition: definition } : {}),
      ...(properties ? { apiProperties: properties } : {}),
      extra,
    },
    ...(files.icon ? { icon: files.icon } : {}),
    ...(files.script !== undefined ? { script: files.script } : {}),
  };
  if (!files.apiDefinition) missing(sink, API_DEFINITION, 'the Swagger 2.0 or OpenAPI 3 definition');
  if (!definition || !isObject(definition.value)) {
    if (definition)
      sink.add(definition, definition.file, {
        severity: 'error',
        rule: 'definition.not-object',
        path: [],
        message: 'The API definition is not a JSON object.',
        fix: 'The file must contain one object with "swagger": "2.0" (or "openapi": "3.x"), "info" and "paths".',
      });
    return { ...base, model: undefined, diagnostics: sink.items };
  }
  const doc = definition.value;
  const format = typeof doc.openapi === 'string' && doc.openapi.startsWith('3') ? 'openapi3' : 'swagger2';
  if (format === 'openapi3' && !files.apiProperties) {
    const synthesised = JSON.stringify(synthesiseProperties(definition, sink), null, 2);
    properties = parseJsonSource(API_PROPERTIES, synthesised).source;
    documents.set(API_PROPERTIES, properties);
    (base.documents as { apiProperties?: JsonSource }).apiProperties = properties;
  } else if (!files.apiProperties) missing(sink, API_PROPERTIES, 'auth, policies and brand colour');
  if (files.apiProperties && properties && !isObject(properties.value))
    sink.add(properties, properties.file, {
      severity: 'error',
      rule: 'properties.not-object',
      path: [],
      message: 'apiProperties.json is not a JSON object.',
      fix: 'The file must contain one object: { "properties": { … } }.',
    });
  const ctx = { source: definition, documents, sink, format } as const;
  reportTyposDeep(ctx);
  for (const source of documents.values())
    if (source.tree || source.value !== undefined) checkRefs(documents, source, sink);
  const operations = readOperations(ctx, doc);
  const props = properties && isObject(properties.value) ? readProperties(properties, sink) : undefined;
  const hasScript = files.script !== undefined;
  const scriptOps = props?.scriptOperations;
  const routedToScript = (op: Operation): boolean => {
    if (scriptOps === undefined || scriptOps.length === 0) return hasScript; // [] (or none, with a script) = all
    return scriptOps.some((id) => id.toLowerCase() === op.operationId.toLowerCase());
  };
  const info = isObject(doc.info) ? doc.info : {};
  const model: ConnectorModel = {
    format,
    title: typeof info.title === 'string' ? info.title : '',
    description: typeof info.description === 'string' ? info.description : '',
    version: typeof info.version === 'string' ? info.version : '',
    baseUrl: format === 'openapi3' ? serverUrl(doc) : swaggerBaseUrl(doc),
    operations: operations.map((op) => ({ ...op, needsCustomCode: routedToScript(op) })),
    connectionParameters: props?.connectionParameters ?? {},
    connectionParameterSets: props?.connectionParameterSets ?? [],
    policies: props?.policies ?? [],
    iconBrandColor: props?.iconBrandColor,
    capabilities: props?.capabilities ?? [],
    publisher: props?.publisher,
    stackOwner: props?.stackOwner,
    hasScript,
    scriptOperations: operations.filter(routedToScript).map((o) => o.operationId),
    isMcp: operations.some((o) => o.agenticProtocol !== undefined),
    aiMetadata: {
      ...(doc['x-ms-openai-data'] !== undefined ? { openAiData: doc['x-ms-openai-data'] } : {}),
      ...(doc['x-ms-openai-manifest'] !== undefined ? { openAiManifest: doc['x-ms-openai-manifest'] } : {}),
    },
  };
  validate({
    definition,
    properties: files.apiProperties ? properties : undefined,
    model,
    sink,
    scriptOperationsDeclared: scriptOps,
  });
  return { ...base, model, diagnostics: sink.items };
}

/** `schemes[0]://host/basePath`, as paconn computes the backend service URL (connector-format.md §1.2). */
function swaggerBaseUrl(doc: Record<string, unknown>): string | undefined {
  if (typeof doc.host !== 'string' || doc.host === '') return undefined;
  const scheme = Array.isArray(doc.schemes) && typeof doc.schemes[0] === 'string' ? doc.schemes[0] : 'https';
  const basePath = typeof doc.basePath === 'string' ? doc.basePath : '';
  return `${scheme}://${doc.host}${basePath.startsWith('/') || basePath === '' ? '' : '/'}${basePath}`.replace(
    /\/+$/,
    '',
  );
}
