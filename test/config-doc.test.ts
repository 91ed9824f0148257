import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { it } from 'node:test';
import { renderConfigurationDoc } from '../scripts/config-doc.ts';

it('docs/configuration.md matches the configuration schema (run `npm run docs` after changing it)', () => {
  assert.equal(
    readFileSync(new URL('../docs/configuration.md', import.meta.url), 'utf8'),
    renderConfigurationDoc(),
  );
});
