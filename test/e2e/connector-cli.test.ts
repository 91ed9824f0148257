import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { promisify } from 'node:util';

const run = promisify(execFile);
const REPO = new URL('../../', import.meta.url).pathname;
const REAL = join(REPO, '../shared/fixtures/power-platform-connectors');
const BROKEN = join(REPO, 'test/fixtures/connectors');

async function behalf(...args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  try {
    const { stdout, stderr } = await run(process.execPath, [join(REPO, 'bin/behalf.js'), ...args], {
      maxBuffer: 32 * 1024 * 1024,
    });
    return { code: 0, stdout, stderr };
  } catch (error) {
    const e = error as { code: number; stdout: string; stderr: string };
    return { code: e.code, stdout: e.stdout, stderr: e.stderr };
  }
}

/** 1-based line and column of `needle` in a file, searching from the first line containing `after`. */
function position(file: string, needle: string, after?: string): { line: number; column: number } {
  const lines = readFileSync(file, 'utf8').split('\n');
  let start = 0;
  if (after !== undefined) start = lines.findIndex((l) => l.includes(after));
  for (let i = Math.max(start, 0); i < lines.length; i++) {
    const col = lines[i]!.indexOf(needle);
    if (col !== -1) return { line: i + 1, column: col + 1 };
  }
  throw new Error(`${needle} not in ${file}`);
}

interface JsonDiagnostic {
  severity: string;
  rule: string;
  file: string;
  pointer: string;
  line: number;
  column: number;
  message: string;
  fix: string;
}

describe('behalf connector validate (offline, real process)', () => {
  it('prints a report for each of the 25 real packages and exits 0', async () => {
    const folders = readdirSync(REAL)
      .map((d) => join(REAL, d))
      .filter((d) => existsSync(join(d, 'apiProperties.json')));
    assert.equal(folders.length, 25);
    const result = await behalf('connector', 'validate', ...folders);
    assert.equal(result.code, 0, result.stderr);
    for (const folder of folders)
      assert.match(
        result.stdout,
        new RegExp(`${folder.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}: valid — 0 error`),
      );
    // Warnings carry a place and a fix (DocuMotor's trailing comma).
    const comma = position(
      join(REAL, 'DocuMotor/apiDefinition.swagger.json'),
      ',',
      '"x-ms-summary": "Document"',
    );
    assert.match(
      result.stdout,
      new RegExp(
        `apiDefinition\\.swagger\\.json:${comma.line}:${comma.column}  warning  json\\.trailing-comma\\n.*\\n.*\\n  fix: Delete the comma\\.`,
      ),
    );
  });

  it('points at the exact place of each deliberate fault, with a fix, and exits non-zero', async () => {
    const names = [
      'missing-operation-id',
      'bad-json',
      'unknown-identity-provider',
      'policy-missing-parameter',
    ];
    const result = await behalf('connector', 'validate', '--json', ...names.map((n) => join(BROKEN, n)));
    assert.equal(result.code, 1);
    const reports = JSON.parse(result.stdout) as {
      package: string;
      valid: boolean;
      diagnostics: JsonDiagnostic[];
    }[];
    const errorsOf = (name: string) =>
      reports.find((r) => r.package.endsWith(name))!.diagnostics.filter((d) => d.severity === 'error');
    for (const r of reports) assert.equal(r.valid, false);

    const def = (n: string) => join(BROKEN, n, 'apiDefinition.swagger.json');
    const props = (n: string) => join(BROKEN, n, 'apiProperties.json');

    const [missing] = errorsOf('missing-operation-id');
    assert.equal(errorsOf('missing-operation-id').length, 1);
    assert.equal(missing!.rule, 'operation.id-missing');
    assert.equal(missing!.pointer, '/paths/~1keys~1{key-name}/get/operationId');
    assert.deepEqual(
      { line: missing!.line, column: missing!.column },
      position(def('missing-operation-id'), '"get"', '"/keys/{key-name}"'),
    );
    assert.match(missing!.fix, /"operationId": "GetKeysKeyName"/);

    const [syntax] = errorsOf('bad-json');
    assert.equal(errorsOf('bad-json').length, 1);
    assert.equal(syntax!.rule, 'json.syntax');
    assert.equal(syntax!.pointer, '/info/title');
    assert.deepEqual(
      { line: syntax!.line, column: syntax!.column },
      position(def('bad-json'), 'Azure Key Vault,', '"title"'),
    );
    assert.match(syntax!.message, /double quotes/);

    const [idp] = errorsOf('unknown-identity-provider');
    assert.equal(idp!.rule, 'auth.identity-provider');
    assert.equal(idp!.pointer, '/properties/connectionParameters/token/oAuthSettings/identityProvider');
    assert.deepEqual(
      { line: idp!.line, column: idp!.column },
      position(props('unknown-identity-provider'), '"azuread"'),
    );
    assert.match(idp!.message, /azuread/);
    assert.match(idp!.fix, /"aad"/);

    const [policy] = errorsOf('policy-missing-parameter');
    assert.equal(errorsOf('policy-missing-parameter').length, 1);
    assert.equal(policy!.rule, 'policy.missing-parameter');
    assert.equal(policy!.pointer, '/properties/policyTemplateInstances/1/parameters');
    assert.deepEqual(
      { line: policy!.line, column: policy!.column },
      position(props('policy-missing-parameter'), '{', '"title": "Client name header"'),
    );
    assert.match(policy!.fix, /x-ms-apimTemplateParameter\.value/);
  });

  it('prints a readable report for people and exits 1 on one broken package', async () => {
    const result = await behalf('connector', 'validate', join(BROKEN, 'unknown-identity-provider'));
    assert.equal(result.code, 1);
    const at = position(join(BROKEN, 'unknown-identity-provider/apiProperties.json'), '"azuread"');
    assert.match(
      result.stdout,
      new RegExp(`^apiProperties\\.json:${at.line}:${at.column}  error  auth\\.identity-provider$`, 'm'),
    );
    assert.match(result.stdout, /^ {2}fix: Use one of aad, /m);
    assert.match(result.stdout, /invalid — 1 error\(s\)/);
  });
});
