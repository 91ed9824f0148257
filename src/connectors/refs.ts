import type { DiagnosticSink } from './diagnostics.ts';
import type { JsonSource } from './json-source.ts';
import type { PathSegment } from './pointer.ts';
import { fromPointer, isObject, valueAt } from './pointer.ts';

export interface ResolvedRef {
  readonly file: string;
  readonly path: readonly string[];
  readonly value: unknown;
}

export type RefProblem = 'remote' | 'missing-file' | 'missing-target' | 'cycle';

/**
 * `$ref` resolution inside a package: `#/…` within the same document, `other.json#/…` into another
 * file of the package. Chains of refs are followed; a chain that returns to a ref already visited is a
 * cycle (a recursive schema reached through `properties` is fine; only a ref that resolves to itself
 * forever is not).
 */
export function resolveRef(
  documents: ReadonlyMap<string, JsonSource>,
  fromFile: string,
  ref: string,
): ResolvedRef | RefProblem {
  const seen = new Set<string>();
  let file = fromFile;
  let current = ref;
  for (;;) {
    if (/^[a-z][a-z0-9+.-]*:/i.test(current)) return 'remote';
    const hash = current.indexOf('#');
    const target = hash === -1 ? current : current.slice(0, hash);
    const pointer = hash === -1 ? '' : current.slice(hash + 1);
    if (target !== '') file = normaliseName(target);
    const key = `${file}#${pointer}`;
    if (seen.has(key)) return 'cycle';
    seen.add(key);
    const doc = documents.get(file);
    if (!doc) return 'missing-file';
    const path = fromPointer(pointer);
    const value = valueAt(doc.value, path);
    if (value === undefined) return 'missing-target';
    if (isObject(value) && typeof value.$ref === 'string') {
      current = value.$ref;
      continue;
    }
    return { file, path, value };
  }
}

function normaliseName(name: string): string {
  return name.replace(/^\.\//, '');
}

const FIXES: Record<RefProblem, string> = {
  remote: 'Inline the referenced definition or copy it into the package; Behalf never fetches remote $refs.',
  'missing-file': 'Add the referenced file to the package or correct the file name in the $ref.',
  'missing-target': 'Add the referenced definition or correct the pointer in the $ref.',
  cycle: 'Break the cycle: one $ref in the chain must point at a real definition.',
};

const MESSAGES: Record<RefProblem, (ref: string) => string> = {
  remote: (ref) => `The $ref "${ref}" points outside the package.`,
  'missing-file': (ref) => `The $ref "${ref}" names a file that is not in the package.`,
  'missing-target': (ref) => `The $ref "${ref}" points at nothing.`,
  cycle: (ref) => `The $ref "${ref}" leads to a cycle of references.`,
};

/** Checks every `$ref` in a document and reports the ones that do not resolve. */
export function checkRefs(
  documents: ReadonlyMap<string, JsonSource>,
  source: JsonSource,
  sink: DiagnosticSink,
): void {
  const walk = (node: unknown, path: PathSegment[]): void => {
    if (Array.isArray(node)) {
      node.forEach((item, i) => walk(item, [...path, i]));
      return;
    }
    if (!isObject(node)) return;
    for (const [key, value] of Object.entries(node)) {
      if (key === '$ref' && typeof value === 'string') {
        const result = resolveRef(documents, source.file, value);
        if (typeof result === 'string')
          sink.add(source, source.file, {
            severity: 'error',
            rule: `ref.${result}`,
            path: [...path, key],
            message: MESSAGES[result](value),
            fix: FIXES[result],
          });
      } else walk(value, [...path, key]);
    }
  };
  walk(source.value, []);
}
