import type { JsonSource } from './json-source.ts';
import { locate } from './json-source.ts';
import type { PathSegment } from './pointer.ts';
import { toPointer } from './pointer.ts';

export type Severity = 'error' | 'warning' | 'info';

/**
 * One finding about a package: where (file, JSON pointer, line:column in the ORIGINAL text), what, and
 * how to fix it. `rule` is a stable id so tools and tests can match findings without parsing prose.
 */
export interface Diagnostic {
  readonly severity: Severity;
  readonly rule: string;
  readonly file: string;
  readonly pointer: string;
  readonly line?: number;
  readonly column?: number;
  readonly message: string;
  readonly fix: string;
}

export interface DiagnosticInput {
  readonly severity: Severity;
  readonly rule: string;
  readonly path: readonly PathSegment[];
  readonly message: string;
  readonly fix: string;
  /** Point at the property name rather than its value (for renamed or misspelt keys). */
  readonly atKey?: boolean;
}

/** Collects diagnostics for one file, resolving each pointer to a line and column of its text. */
export class DiagnosticSink {
  readonly items: Diagnostic[] = [];
  readonly #seen = new Set<string>();
  add(source: JsonSource | undefined, file: string, input: DiagnosticInput): void {
    const pointer = toPointer(input.path);
    // A $ref'd parameter read by many operations is reported once.
    const key = `${input.rule}|${file}|${pointer}|${input.message}`;
    if (this.#seen.has(key)) return;
    this.#seen.add(key);
    const where = source ? locate(source, input.path, input.atKey ?? false) : undefined;
    this.items.push({
      severity: input.severity,
      rule: input.rule,
      file,
      pointer,
      ...(where ? { line: where.line, column: where.column } : {}),
      message: input.message,
      fix: input.fix,
    });
  }
  push(...diagnostics: Diagnostic[]): void {
    this.items.push(...diagnostics);
  }
}

export function hasErrors(diagnostics: readonly Diagnostic[]): boolean {
  return diagnostics.some((d) => d.severity === 'error');
}

const ORDER: Record<Severity, number> = { error: 0, warning: 1, info: 2 };

export function sortDiagnostics(diagnostics: readonly Diagnostic[]): Diagnostic[] {
  return [...diagnostics].sort(
    (a, b) =>
      ORDER[a.severity] - ORDER[b.severity] ||
      a.file.localeCompare(b.file) ||
      (a.line ?? 0) - (b.line ?? 0) ||
      (a.column ?? 0) - (b.column ?? 0),
  );
}
