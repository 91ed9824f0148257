import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { after, before, test } from 'node:test';
import type { ChatDemo } from '../support/agents-chat-demo.ts';
import { GET_EMAILS_TOOL, startChatDemo } from '../support/agents-chat-demo.ts';

/**
 * `behalf agent …` as a separate process against a real Behalf on the demo tenant: the admin credential
 * and local CA from the data directory, client credentials, then the agents management API over HTTPS.
 */
const BIN = fileURLToPath(new URL('../../bin/behalf.js', import.meta.url));
let env: ChatDemo;

interface CliResult {
  code: number;
  stdout: string;
  stderr: string;
}

function cli(...args: string[]): Promise<CliResult> {
  const clean = Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith('BEHALF_')));
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      [BIN, 'agent', ...args, '--data-dir', env.dataDir, '--tenant', env.demo.tenantId],
      { env: clean, timeout: 60_000 },
      (error, stdout, stderr) => {
        const code = error ? (typeof error.code === 'number' ? error.code : 99) : 0;
        resolve({ code, stdout, stderr });
      },
    );
  });
}

before(async () => {
  env = await startChatDemo(undefined);
});

after(() => env?.close());

test('list shows the demo agent; tools shows how each tool runs', async () => {
  const list = await cli('list', '--json');
  assert.equal(list.code, 0, list.stderr);
  const agents = JSON.parse(list.stdout) as { name: string; displayName: string }[];
  assert.deepEqual(
    agents.map((a) => a.name),
    ['admin-agent'],
  );
  const tools = await cli('tools', 'admin-agent');
  assert.equal(tools.code, 0, tools.stderr);
  assert.match(tools.stdout, /get-10-latest-emails/);
  assert.match(tools.stdout, /delegated/);
});

test('create from a JSON file, show, delete; a bad file and an unknown agent fail plainly', async () => {
  const file = join(env.dataDir, 'reader.json');
  writeFileSync(
    file,
    JSON.stringify({
      displayName: 'Mail reader',
      instructions: 'Read mail.',
      tools: [{ connectorId: env.connectorId, ...GET_EMAILS_TOOL }],
    }),
  );
  const created = await cli('create', file, '--json');
  assert.equal(created.code, 0, created.stderr);
  assert.equal((JSON.parse(created.stdout) as { name: string }).name, 'mail-reader');
  const shown = await cli('show', 'mail-reader');
  assert.equal(shown.code, 0, shown.stderr);
  assert.match(shown.stdout, /Mail reader/);
  assert.match(shown.stdout, /Read mail\./);

  const again = await cli('create', file);
  assert.equal(again.code, 1);
  assert.match(again.stderr, /AgentExists/);

  writeFileSync(join(env.dataDir, 'broken.json'), '{ not json');
  const broken = await cli('create', join(env.dataDir, 'broken.json'));
  assert.equal(broken.code, 2);
  assert.match(broken.stderr, /is not JSON/);

  assert.equal((await cli('delete', 'mail-reader')).code, 0);
  const gone = await cli('show', 'mail-reader');
  assert.equal(gone.code, 1);
  assert.match(gone.stderr, /AgentNotFound/);
});
