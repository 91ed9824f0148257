#!/usr/bin/env node
// In a source checkout (src/ present, tsx installed) run the TypeScript directly, so the command is
// never stale; in an installed package run the compiled dist/.
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';

const here = new URL('..', import.meta.url);
const source = new URL('src/cli/main.ts', here);
let useSource = existsSync(source);
if (useSource) {
  try {
    createRequire(import.meta.url).resolve('tsx');
  } catch {
    useSource = false;
  }
}
if (useSource) {
  const { register } = await import('tsx/esm/api');
  register();
  await import(source.href);
} else {
  await import(new URL('dist/src/cli/main.js', here).href);
}
