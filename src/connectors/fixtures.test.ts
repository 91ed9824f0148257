import assert from 'node:assert/strict';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { parse as parseLoose } from 'jsonc-parser';
import { exportPackage } from './export.ts';
import { importPackage } from './import-package.ts';
import type { PackageFiles } from './package.ts';

const ROOT = new URL('../../../shared/fixtures/power-platform-connectors/', import.meta.url).pathname;
const PROPS = '/properties/connectionParameters/token/oAuthSettings';

/**
 * The warnings each real package must produce, worked out by reading the files (see SOURCE.md and
 * connector-format.md), as rule + file + pointer. Every other package imports without a warning.
 */
const EXPECTED_WARNINGS: Record<string, readonly string[]> = {
  // Sets aadProd and aadPreview carry "clientSecret": "[[DUMMY]]" (lines 24 and 124); aadNonprod has none.
  '3E Events': [
    `auth.client-secret-in-file apiProperties.json /properties/connectionParameterSets/values/0/parameters/token/oAuthSettings/clientSecret`,
    `auth.client-secret-in-file apiProperties.json /properties/connectionParameterSets/values/1/parameters/token/oAuthSettings/clientSecret`,
  ],
  'Azure Communication Services Email': ['script.custom-code script.csx '],
  // "templateId": "SetProperty" (first policy).
  AzureAD: ['normalise.case apiProperties.json /properties/policyTemplateInstances/0/templateId'],
  // "templateId": "dynamicHostUrl" (first policy); script.csx without scriptOperations = all operations.
  CognitiveServicesQuestionAnswering: [
    'normalise.case apiProperties.json /properties/policyTemplateInstances/0/templateId',
    'script.custom-code script.csx ',
  ],
  'Cradl AI': ['script.custom-code script.csx '],
  Data8: ['script.custom-code script.csx '],
  // `"x-ms-summary": "Document",` followed by `}` in the 200 response.
  DocuMotor: [
    'json.trailing-comma apiDefinition.swagger.json /paths/~1template~1{templateId}~1generate/post/responses/200',
  ],
  // customParameters LoginUri, TenantId, ResourceUri, EnableOnbehalfOfLogin are capitalised.
  'Microsoft 365 Lighthouse': ['LoginUri', 'TenantId', 'ResourceUri', 'EnableOnbehalfOfLogin'].map(
    (k) => `normalise.case apiProperties.json ${PROPS}/customParameters/${k}`,
  ),
  // The definition starts with EF BB BF.
  'Microsoft Bookings': ['json.bom apiDefinition.swagger.json '],
  // AzureActiveDirectoryResourceId https://graph.microsoft.com vs resourceUri https://graph.microsoft.com/.
  Office365GroupsMail: [
    `auth.resource-trailing-slash apiProperties.json ${PROPS}/customParameters/resourceUri`,
  ],
  // apiProperties.json ends without the final closing brace of the root object.
  Shopranos: ['json.unclosed apiProperties.json '],
  'Snowflake v2': ['script.custom-code script.csx '],
  // scriptOperations ["postCall"], no script.csx, and the only operation is CreateHMAC.
  SoloSign: [
    'script.missing apiProperties.json /properties/scriptOperations',
    'script.unknown-operation apiProperties.json /properties/scriptOperations/0',
  ],
};

function readPackage(dir: string): PackageFiles {
  const names = readdirSync(dir);
  const find = (name: string) => names.find((n) => n.toLowerCase() === name.toLowerCase());
  const def = find('apiDefinition.swagger.json')!;
  const script = find('script.csx');
  const icon = find('icon.png');
  return {
    apiDefinition: { name: def, text: readFileSync(join(dir, def), 'utf8') },
    apiProperties: {
      name: 'apiProperties.json',
      text: readFileSync(join(dir, 'apiProperties.json'), 'utf8'),
    },
    ...(script ? { script: readFileSync(join(dir, script), 'utf8') } : {}),
    ...(icon ? { icon: readFileSync(join(dir, icon)) } : {}),
  };
}

/** An independent reading of the original: BOM stripped, trailing commas and unclosed ends tolerated. */
function looseValue(text: string): unknown {
  return parseLoose(text.replace(/^\uFEFF/, ''), [], { allowTrailingComma: true });
}

function dropSecrets(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(dropSecrets);
  if (typeof value !== 'object' || value === null) return value;
  return Object.fromEntries(
    Object.entries(value)
      .filter(([k, v]) => !(k === 'clientSecret' && typeof v === 'string' && v !== ''))
      .map(([k, v]) => [k, dropSecrets(v)]),
  );
}

const packages = readdirSync(ROOT).filter((d) => existsSync(join(ROOT, d, 'apiProperties.json')));

describe('the 25 real connector packages', () => {
  it('are all present', () => assert.equal(packages.length, 25));

  for (const name of packages) {
    it(`${name}: imports with no errors and exactly the expected warnings`, () => {
      const imported = importPackage(readPackage(join(ROOT, name)));
      const errors = imported.diagnostics.filter((d) => d.severity === 'error');
      assert.deepEqual(errors, []);
      const warnings = imported.diagnostics
        .filter((d) => d.severity === 'warning')
        .map((d) => `${d.rule} ${d.file} ${d.pointer}`)
        .sort();
      assert.deepEqual(warnings, [...(EXPECTED_WARNINGS[name] ?? [])].sort());
      for (const d of imported.diagnostics.filter((x) => x.file.endsWith('.json'))) {
        assert.ok(d.line !== undefined && d.line >= 1, `${d.rule} has a line`);
        assert.ok(d.fix.length > 0);
      }
      assert.ok(imported.model && imported.model.operations.length > 0);
    });

    it(`${name}: export round-trips to the same JSON, secrets removed`, () => {
      const files = readPackage(join(ROOT, name));
      const exported = exportPackage(importPackage(files));
      const def = JSON.parse(exported.apiDefinition.text) as unknown;
      assert.deepEqual(def, looseValue(files.apiDefinition!.text));
      const props = JSON.parse(exported.apiProperties!.text) as unknown;
      assert.deepEqual(props, dropSecrets(looseValue(files.apiProperties!.text)));
      assert.doesNotMatch(exported.apiProperties!.text, /"clientSecret"\s*:\s*"[^"]/);
      // Key order survives (JSON.parse would reorder numeric keys, so compare the key sequence of the text).
      const keys = (t: string) => [...t.matchAll(/"((?:[^"\\]|\\.)*)"\s*:/g)].map((m) => m[1]);
      assert.deepEqual(
        keys(exported.apiDefinition.text),
        keys(files.apiDefinition!.text.replace(/^\uFEFF/, '')),
      );
      assert.equal(exported.script, files.script);
      // An import of the export is clean of repairs.
      const again = importPackage({
        ...files,
        apiDefinition: exported.apiDefinition,
        apiProperties: exported.apiProperties!,
      });
      assert.deepEqual(
        again.diagnostics.filter((d) => d.rule.startsWith('json.') || d.severity === 'error'),
        [],
      );
    });
  }
});
