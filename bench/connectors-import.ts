// Connectors: import (tolerant parse + model + every validation rule) and export of a folder of 1,000
// packages, generated as copies of the 25 real fixtures in a temp dir. Baseline in the same process:
// reading the same files and parsing them with jsonc-parser alone, so the ratio shows what the
// pipeline adds on top of the unavoidable I/O and parse. Bounded: a few seconds.
import { cpSync, mkdtempSync, readdirSync, rmSync, existsSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseTree } from 'jsonc-parser';
import { loadPackage, packageFolders } from '../src/cli/connector/load-package.ts';
import { exportPackage } from '../src/connectors/export.ts';
import { importPackage } from '../src/connectors/import-package.ts';

const COUNT = Number(process.env.BENCH_PACKAGES ?? 1000);
const fixtures = new URL('../../shared/fixtures/power-platform-connectors/', import.meta.url).pathname;
const sources = readdirSync(fixtures)
  .map((d) => join(fixtures, d))
  .filter((d) => existsSync(join(d, 'apiProperties.json')));
const dir = mkdtempSync(join(tmpdir(), 'behalf-connectors-'));
try {
  for (let i = 0; i < COUNT; i++)
    cpSync(sources[i % sources.length]!, join(dir, `pkg-${String(i).padStart(4, '0')}`), { recursive: true });
  const folders = packageFolders(dir);

  const t0 = performance.now();
  let bytes = 0;
  for (const folder of folders)
    for (const name of readdirSync(folder))
      if (name.toLowerCase().endsWith('.json')) {
        const text = readFileSync(join(folder, name), 'utf8');
        bytes += text.length;
        parseTree(text, [], { allowTrailingComma: true });
      }
  const baseline = performance.now() - t0;

  const t1 = performance.now();
  let errors = 0;
  let warnings = 0;
  let operations = 0;
  for (const folder of folders) {
    const loaded = loadPackage(folder, {});
    const imported = importPackage(loaded.files);
    errors += imported.diagnostics.filter((d) => d.severity === 'error').length;
    warnings += imported.diagnostics.filter((d) => d.severity === 'warning').length;
    operations += imported.model?.operations.length ?? 0;
    exportPackage(imported);
  }
  const full = performance.now() - t1;

  console.log(
    `packages: ${folders.length} (${(bytes / 1e6).toFixed(1)} MB of JSON, ${operations} operations)`,
  );
  console.log(`baseline (read + jsonc parse): ${(baseline / 1000).toFixed(2)} s`);
  console.log(
    `import + validate + export:    ${(full / 1000).toFixed(2)} s  (${(full / folders.length).toFixed(1)} ms/package, ${(full / baseline).toFixed(1)}x baseline)`,
  );
  console.log(`diagnostics: ${errors} errors, ${warnings} warnings`);
  if (errors > 0) process.exitCode = 1;
} finally {
  rmSync(dir, { recursive: true, force: true });
}
