import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { it } from 'node:test';
import fc from 'fast-check';
import type { Diagnostic } from './diagnostics.ts';
import { exportPackage } from './export.ts';
import { importPackage } from './import-package.ts';
import { applyRequestPolicies, applyResponsePolicies } from './policies/apply.ts';
import { PolicyError } from './policies/types.ts';
import { isObject } from './pointer.ts';

const ROOT = new URL('../../../shared/fixtures/power-platform-connectors/', import.meta.url).pathname;
const SEEDS = ['AzureKeyVault', 'SoloSign', '3E Events', 'CO2 Signal', 'Miro', 'AzureAD'].map((name) => ({
  name,
  def: readFileSync(join(ROOT, name, 'apiDefinition.swagger.json'), 'utf8'),
  props: readFileSync(join(ROOT, name, 'apiProperties.json'), 'utf8'),
}));

function wellFormed(d: Diagnostic): boolean {
  return (
    ['error', 'warning', 'info'].includes(d.severity) &&
    d.rule.length > 0 &&
    d.message.length > 0 &&
    d.fix.length > 0 &&
    (d.pointer === '' || d.pointer.startsWith('/')) &&
    (d.line === undefined || (d.line >= 1 && (d.column ?? 1) >= 1))
  );
}

function strictJson(text: string): boolean {
  try {
    JSON.parse(text);
    return true;
  } catch {
    return false;
  }
}

/** Text mutations: cut, insert, truncate, duplicate: what a broken editor or a bad merge does. */
const textMutation = fc.oneof(
  fc.record({ kind: fc.constant('cut' as const), at: fc.nat(), length: fc.integer({ min: 1, max: 40 }) }),
  fc.record({ kind: fc.constant('insert' as const), at: fc.nat(), text: fc.string({ maxLength: 6 }) }),
  fc.record({ kind: fc.constant('truncate' as const), at: fc.nat() }),
  fc.record({
    kind: fc.constant('insert' as const),
    at: fc.nat(),
    text: fc.constantFrom(',', '}', ']', '"', ':', '{', '\uFEFF', '//x\n'),
  }),
);

function mutateText(text: string, m: { kind: string; at: number; length?: number; text?: string }): string {
  const at = m.at % (text.length + 1);
  if (m.kind === 'cut') return text.slice(0, at) + text.slice(at + (m.length ?? 1));
  if (m.kind === 'truncate') return text.slice(0, at);
  return text.slice(0, at) + (m.text ?? '') + text.slice(at);
}

/** Structural mutations: drop a member, replace a value with anything, at a random place. */
function mutateValue(
  root: unknown,
  choices: readonly number[],
  replacement: unknown,
  drop: boolean,
): unknown {
  const copy = structuredClone(root);
  let node: unknown = copy;
  for (const choice of choices) {
    const keys = Array.isArray(node) ? node.map((_, i) => i) : isObject(node) ? Object.keys(node) : [];
    if (keys.length === 0) break;
    const key = keys[choice % keys.length]!;
    const child = (node as Record<string | number, unknown>)[key];
    if (!(isObject(child) || Array.isArray(child)) || choice % 5 === 0) {
      if (drop && isObject(node)) delete node[key as string];
      else (node as Record<string | number, unknown>)[key] = replacement;
      return copy;
    }
    node = child;
  }
  return copy;
}

it('thousands of text-mutated packages: never a crash; broken JSON always gets a located diagnostic', () => {
  fc.assert(
    fc.property(
      fc.nat({ max: SEEDS.length - 1 }),
      fc.boolean(),
      fc.array(textMutation, { minLength: 1, maxLength: 3 }),
      (seed, which, mutations) => {
        const s = SEEDS[seed]!;
        let def = s.def;
        let props = s.props;
        for (const m of mutations) {
          if (which) def = mutateText(def, m);
          else props = mutateText(props, m);
        }
        const imported = importPackage({
          apiDefinition: { name: 'apiDefinition.swagger.json', text: def },
          apiProperties: { name: 'apiProperties.json', text: props },
        });
        assert.ok(imported.diagnostics.every(wellFormed));
        const mutated = which ? def : props;
        const file = which ? 'apiDefinition.swagger.json' : 'apiProperties.json';
        if (!strictJson(mutated))
          assert.ok(
            imported.diagnostics.some((d) => d.file === file && d.line !== undefined),
            'a file that is not strict JSON is always reported, with a place',
          );
        if (!imported.diagnostics.some((d) => d.severity === 'error')) {
          const exported = exportPackage(imported);
          JSON.parse(exported.apiDefinition.text);
        }
      },
    ),
    { numRuns: Number(process.env.FUZZ_RUNS ?? 1000), interruptAfterTimeLimit: 20_000 },
  );
});

it('thousands of structurally mutated packages: never a crash, diagnostics well formed, policies fail only with PolicyError', async () => {
  await fc.assert(
    fc.asyncProperty(
      fc.nat({ max: SEEDS.length - 1 }),
      fc.boolean(),
      fc.array(fc.nat(), { minLength: 1, maxLength: 8 }),
      fc.jsonValue({ maxDepth: 2 }),
      fc.boolean(),
      async (seed, which, choices, replacement, drop) => {
        const s = SEEDS[seed]!;
        const def = JSON.parse(s.def.replace(/^\uFEFF/, '')) as unknown;
        const props = JSON.parse(s.props.replace(/^\uFEFF/, '')) as unknown;
        const files = {
          apiDefinition: {
            name: 'apiDefinition.swagger.json',
            text: JSON.stringify(which ? mutateValue(def, choices, replacement, drop) : def),
          },
          apiProperties: {
            name: 'apiProperties.json',
            text: JSON.stringify(which ? props : mutateValue(props, choices, replacement, drop)),
          },
        };
        const imported = importPackage(files);
        assert.ok(imported.diagnostics.every(wellFormed));
        const model = imported.model;
        if (!model) return;
        for (const op of model.operations.slice(0, 3)) {
          const ctx = {
            operationId: op.operationId,
            connectionParameters: { keyVaultName: 'v', hostName: 'h' },
            baseUrl: 'https://h.example/api',
          };
          try {
            const req = await applyRequestPolicies(
              model.policies,
              { method: 'GET', url: 'https://h.example/api/x', headers: {}, query: {}, body: { a: [1] } },
              ctx,
            );
            assert.equal(typeof req.url, 'string');
            await applyResponsePolicies(
              model.policies,
              { status: 200, headers: {}, body: { value: [{ a: 1 }] } },
              ctx,
            );
          } catch (error) {
            assert.ok(error instanceof PolicyError, String(error));
          }
        }
      },
    ),
    { numRuns: Number(process.env.FUZZ_RUNS ?? 1000), interruptAfterTimeLimit: 20_000 },
  );
});
