import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { it } from 'node:test';
import { renderErrorsTable } from './errors-doc.ts';

it('docs/errors.md lists exactly the AADSTS data table', () => {
  const doc = readFileSync(new URL('../../../docs/errors.md', import.meta.url), 'utf8');
  const start = doc.indexOf('<!-- aadsts:start -->');
  const end = doc.indexOf('<!-- aadsts:end -->');
  assert.ok(start >= 0 && end > start, 'docs/errors.md needs the aadsts markers');
  const table = doc.slice(start + '<!-- aadsts:start -->'.length, end).trim();
  assert.equal(
    table,
    renderErrorsTable(),
    'docs/errors.md is out of date: node --import tsx scripts/gen-errors-doc.ts (or paste renderErrorsTable())',
  );
});
