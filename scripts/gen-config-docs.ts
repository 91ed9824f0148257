// Writes docs/configuration.md from the configuration schema (src/core/config.ts).
// `npm run docs` regenerates it; a test fails when the committed file is out of date.
import { writeFileSync } from 'node:fs';
import { renderConfigurationDoc } from './config-doc.ts';

writeFileSync(new URL('../docs/configuration.md', import.meta.url), renderConfigurationDoc());
console.log('wrote docs/configuration.md');
