import type { Diagnostic } from '../../connectors/diagnostics.ts';
import { sortDiagnostics } from '../../connectors/diagnostics.ts';

export interface ReportOptions {
  readonly color: boolean;
  /** Show info-level findings too. */
  readonly verbose: boolean;
}

const COLORS = { error: '\x1b[31m', warning: '\x1b[33m', info: '\x1b[36m', dim: '\x1b[2m', reset: '\x1b[0m' };

export function counts(diagnostics: readonly Diagnostic[]): {
  errors: number;
  warnings: number;
  infos: number;
} {
  return {
    errors: diagnostics.filter((d) => d.severity === 'error').length,
    warnings: diagnostics.filter((d) => d.severity === 'warning').length,
    infos: diagnostics.filter((d) => d.severity === 'info').length,
  };
}

/** The readable report: one block per finding, `file:line:column severity rule`, then message, pointer and fix. */
export function formatReport(
  label: string,
  diagnostics: readonly Diagnostic[],
  options: ReportOptions,
): string {
  const paint = (color: keyof typeof COLORS, text: string) =>
    options.color ? COLORS[color] + text + COLORS.reset : text;
  const shown = sortDiagnostics(diagnostics).filter((d) => options.verbose || d.severity !== 'info');
  const lines: string[] = [];
  for (const d of shown) {
    const where = d.line !== undefined ? `${d.file}:${d.line}:${d.column ?? 1}` : d.file;
    lines.push(`${where}  ${paint(d.severity, d.severity)}  ${paint('dim', d.rule)}`);
    lines.push(`  ${d.message}`);
    if (d.pointer !== '') lines.push(`  ${paint('dim', 'at')} ${d.pointer}`);
    lines.push(`  ${paint('dim', 'fix:')} ${d.fix}`);
    lines.push('');
  }
  const c = counts(diagnostics);
  const verdict = c.errors === 0 ? paint('info', 'valid') : paint('error', 'invalid');
  lines.push(
    `${label}: ${verdict} — ${c.errors} error(s), ${c.warnings} warning(s), ${c.infos} note(s)${options.verbose || c.infos === 0 ? '' : ' (--verbose shows notes)'}`,
  );
  return lines.join('\n') + '\n';
}
