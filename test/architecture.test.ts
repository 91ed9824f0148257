import assert from 'node:assert/strict';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative, sep } from 'node:path';
import { it } from 'node:test';

/**
 * The dependency table of ARCHITECTURE.md, enforced: a folder may import only the folders listed for it
 * (and itself). Test files are exempt only in that they may import test/ support code.
 */
const ALLOWED: Record<string, readonly string[]> = {
  core: [],
  crypto: ['core'],
  storage: ['core'],
  directory: ['core', 'storage'],
  idp: ['core', 'crypto', 'storage', 'directory'],
  easyauth: ['core', 'crypto'],
  connectors: ['core'],
  connections: ['core', 'crypto', 'storage', 'connectors'],
  gateway: ['core', 'connectors', 'connections'],
  agents: ['core', 'connectors', 'gateway'],
  doctor: ['core', 'directory', 'connectors'],
  http: [
    'core',
    'crypto',
    'storage',
    'directory',
    'idp',
    'easyauth',
    'connectors',
    'connections',
    'gateway',
    'agents',
    'doctor',
  ],
  cli: [
    'core',
    'crypto',
    'storage',
    'directory',
    'idp',
    'easyauth',
    'connectors',
    'connections',
    'gateway',
    'agents',
    'doctor',
  ],
};
// Third-party modules that only one folder may import (the seam rule).
const FRAMEWORK_OWNERS: Record<string, readonly string[]> = {
  fastify: ['http'],
  jose: ['crypto', 'easyauth'],
};

const srcRoot = new URL('../src/', import.meta.url).pathname;

function sourceFiles(dir: string, out: string[] = []): string[] {
  for (const entry of readdirSync(dir)) {
    const path = join(dir, entry);
    if (statSync(path).isDirectory()) sourceFiles(path, out);
    else if (path.endsWith('.ts')) out.push(path);
  }
  return out;
}

function importsOf(file: string): string[] {
  const text = readFileSync(file, 'utf8');
  const found: string[] = [];
  for (const match of text.matchAll(/(?:^|\n)\s*(?:import|export)\s[^'"]*?from\s+['"]([^'"]+)['"]/g))
    found.push(match[1]!);
  for (const match of text.matchAll(/import\(\s*['"]([^'"]+)['"]\s*\)/g)) found.push(match[1]!);
  return found;
}

it('no source file imports across a forbidden edge', () => {
  const violations: string[] = [];
  for (const file of sourceFiles(srcRoot)) {
    const rel = relative(srcRoot, file);
    const folder = rel.split(sep)[0]!;
    if (!rel.includes(sep)) continue; // main.ts: the composition root may import anything
    const allowed = ALLOWED[folder];
    if (!allowed) {
      violations.push(`${rel}: folder ${folder} is not in the architecture table`);
      continue;
    }
    for (const specifier of importsOf(file)) {
      if (specifier.startsWith('.')) {
        const target = relative(srcRoot, join(file, '..', specifier));
        if (target.startsWith('..')) {
          // Only tests reach outside src/, and the CLI may start the demo APIs in examples/ (behalf up --demo).
          const isTest = file.endsWith('.test.ts') || file.endsWith('.suite.ts');
          const cliToExamples = folder === 'cli' && target.startsWith(join('..', 'examples') + sep);
          if (!isTest && !cliToExamples) violations.push(`${rel} imports ${specifier} outside src/`);
          continue;
        }
        const targetFolder = target.split(sep)[0]!;
        if (targetFolder === 'main.ts' && folder !== 'cli')
          violations.push(`${rel} imports the composition root`);
        else if (targetFolder !== folder && targetFolder !== 'main.ts' && !allowed.includes(targetFolder))
          violations.push(`${rel} → ${targetFolder}`);
      } else {
        const pkg = specifier.startsWith('@')
          ? specifier.split('/').slice(0, 2).join('/')
          : specifier.split('/')[0]!;
        const owners = FRAMEWORK_OWNERS[pkg];
        if (owners && !owners.includes(folder) && !file.endsWith('.test.ts'))
          violations.push(`${rel} imports ${pkg}, which only ${owners.join(', ')} may import`);
      }
    }
  }
  assert.deepEqual(violations, []);
});

it('the checker itself catches a forbidden edge', () => {
  assert.deepEqual(
    importsOf(join(srcRoot, 'storage', 'adapters', 'memory.ts')).filter((s) => s.includes('core')).length > 0,
    true,
  );
  assert.equal(ALLOWED['idp']!.includes('connections'), false, 'idp and connections never import each other');
  assert.equal(ALLOWED['connections']!.includes('idp'), false);
  assert.equal(ALLOWED['connectors']!.length, 1, 'connectors is pure: core only');
});
