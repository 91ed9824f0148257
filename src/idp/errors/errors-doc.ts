import { AADSTS } from './aadsts.ts';

/** The AADSTS table of docs/errors.md, rendered from the one data table (errors-doc.test.ts keeps them equal). */
export function renderErrorsTable(): string {
  const rows = Object.entries(AADSTS)
    .map(([code, entry]) => ({ code: Number(code), ...entry }))
    .sort((a, b) => a.code - b.code)
    .map((e) => {
      const suberror = 'suberror' in e && e.suberror ? ` (suberror \`${e.suberror}\`)` : '';
      return `| AADSTS${e.code} | \`${e.error}\`${suberror} | ${e.status} | ${e.message.replace(/\|/g, '\\|')} |`;
    });
  return ['| Code | error | HTTP | Message |', '|---|---|---|---|', ...rows].join('\n');
}
