import type { Edit, Node } from 'jsonc-parser';
import { applyEdits, modify, parseTree } from 'jsonc-parser';
import type { JsonSource } from './json-source.ts';
import type { ImportedConnector } from './package.ts';
import { API_DEFINITION, API_PROPERTIES } from './package.ts';
import type { PathSegment } from './pointer.ts';
import { isObject, valueAt } from './pointer.ts';

export interface ExportedPackage {
  readonly apiDefinition: { readonly name: string; readonly text: string };
  readonly apiProperties?: { readonly name: string; readonly text: string };
  readonly icon?: Uint8Array;
  readonly script?: string;
}

/**
 * Writes a package back. A strictly valid original is returned byte for byte (secrets cut out with
 * minimal edits, so key order, spacing and unknown fields survive); a file that needed repairs is
 * re-serialised from its syntax tree, which keeps key order (including numeric keys such as "200",
 * which a JavaScript object would reorder) and every token as written.
 */
export function exportPackage(imported: ImportedConnector): ExportedPackage {
  const { apiDefinition, apiProperties } = imported.documents;
  if (!apiDefinition) throw new Error('cannot export a package without an API definition');
  const isYaml = !apiDefinition.tree;
  return {
    apiDefinition: {
      name: isYaml ? apiDefinition.file : API_DEFINITION,
      text: isYaml ? apiDefinition.text : strictText(apiDefinition),
    },
    ...(apiProperties
      ? { apiProperties: { name: API_PROPERTIES, text: withoutSecrets(strictText(apiProperties)) } }
      : {}),
    ...(imported.icon ? { icon: imported.icon } : {}),
    ...(imported.script !== undefined ? { script: imported.script } : {}),
  };
}

function strictText(source: JsonSource): string {
  if (!source.repaired) return source.text;
  return source.tree ? serialise(source.text, source.tree, '') + '\n' : JSON.stringify(source.value, null, 2);
}

function serialise(text: string, node: Node, indent: string): string {
  const inner = indent + '  ';
  switch (node.type) {
    case 'object': {
      const props = node.children ?? [];
      if (props.length === 0) return '{}';
      const parts = props.map((p) => {
        const [key, value] = p.children ?? [];
        return `${inner}${JSON.stringify(key?.value)}: ${value ? serialise(text, value, inner) : 'null'}`;
      });
      return `{\n${parts.join(',\n')}\n${indent}}`;
    }
    case 'array': {
      const items = node.children ?? [];
      if (items.length === 0) return '[]';
      return `[\n${items.map((c) => inner + serialise(text, c, inner)).join(',\n')}\n${indent}]`;
    }
    case 'string':
    case 'number':
      // The token as written: no float rounding, no re-escaping.
      return text.slice(node.offset, node.offset + node.length);
    default:
      return JSON.stringify(node.value);
  }
}

/** Paths of every clientSecret with a value (top-level and per parameter set). Client secrets are write-only. */
export function secretPaths(properties: unknown): PathSegment[][] {
  const out: PathSegment[][] = [];
  const props = valueAt(properties, ['properties']);
  if (!isObject(props)) return out;
  const scan = (params: unknown, base: PathSegment[]) => {
    if (!isObject(params)) return;
    for (const [name, param] of Object.entries(params)) {
      if (!isObject(param)) continue;
      for (const [key, settings] of Object.entries(param))
        if (key.toLowerCase() === 'oauthsettings' && isObject(settings))
          for (const [k, v] of Object.entries(settings))
            if (k.toLowerCase() === 'clientsecret' && typeof v === 'string' && v !== '')
              out.push([...base, name, key, k]);
    }
  };
  scan(props.connectionParameters, ['properties', 'connectionParameters']);
  const sets = isObject(props.connectionParameterSets) ? props.connectionParameterSets.values : undefined;
  if (Array.isArray(sets))
    sets.forEach((set, i) => {
      if (isObject(set))
        scan(set.parameters, ['properties', 'connectionParameterSets', 'values', i, 'parameters']);
    });
  return out;
}

export function withoutSecrets(text: string): string {
  const tree = parseTree(text);
  if (!tree) return text;
  const paths = secretPaths(JSON.parse(text) as unknown);
  let out = text;
  for (const path of paths.reverse()) {
    const edits: Edit[] = modify(out, path, undefined, {
      formattingOptions: { insertSpaces: true, tabSize: 2 },
    });
    out = applyEdits(out, edits);
  }
  return out;
}
