/** `--json` prints the API's objects verbatim; otherwise a readable table or a key/value block. */
export type Row = Record<string, unknown>;

function cell(value: unknown): string {
  if (value === null || value === undefined) return '';
  if (Array.isArray(value)) return value.map(cell).join(', ');
  if (typeof value === 'object') return JSON.stringify(value);
  return String(value);
}

export function table(rows: readonly Row[], columns: readonly string[]): string {
  if (rows.length === 0) return '(none)\n';
  const cells = rows.map((row) => columns.map((c) => cell(row[c])));
  const widths = columns.map((c, i) => Math.max(c.length, ...cells.map((r) => r[i]!.length)));
  const line = (values: readonly string[]) =>
    values
      .map((v, i) => v.padEnd(widths[i]!))
      .join('  ')
      .trimEnd();
  return [line(columns), line(widths.map((w) => '-'.repeat(w))), ...cells.map(line)].join('\n') + '\n';
}

export function details(row: Row, fields: readonly string[]): string {
  const width = Math.max(...fields.map((f) => f.length));
  return fields.map((f) => `${f.padEnd(width)}  ${cell(row[f])}`).join('\n') + '\n';
}

export interface Printer {
  list(rows: readonly Row[], columns: readonly string[]): void;
  item(row: Row, fields: readonly string[]): void;
  message(text: string, json?: unknown): void;
}

export function printer(
  json: boolean | undefined,
  write: (text: string) => void = (t) => process.stdout.write(t),
): Printer {
  const strip = (row: Row) =>
    Object.fromEntries(Object.entries(row).filter(([k]) => !k.startsWith('@odata.context')));
  return {
    list: (rows, columns) =>
      write(json ? JSON.stringify(rows.map(strip), null, 2) + '\n' : table(rows, columns)),
    item: (row, fields) => write(json ? JSON.stringify(strip(row), null, 2) + '\n' : details(row, fields)),
    message: (text, value) =>
      write(json ? JSON.stringify(value ?? { message: text }, null, 2) + '\n' : text + '\n'),
  };
}
