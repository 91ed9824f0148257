import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { createServer } from 'node:net';
import type { AddressInfo } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { startPythonHttpServer } from '../support/easyauth-python-upstream.ts';
import type { PythonUpstream } from '../support/easyauth-python-upstream.ts';
import { startTestIssuer } from '../support/easyauth-test-issuer.ts';
import type { TestIssuer } from '../support/easyauth-test-issuer.ts';

/** The `behalf protect` command itself, as an operator runs it, in front of `python3 -m http.server`. */
const API = randomUUID();

async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise((resolve) => server.close(resolve));
  return port;
}

describe('behalf protect', () => {
  let issuer: TestIssuer;
  let upstream: PythonUpstream;
  let child: ChildProcess;
  let url: string;

  before(async () => {
    issuer = await startTestIssuer();
    upstream = await startPythonHttpServer('<p>legacy app</p>');
    const port = await freePort();
    const bin = new URL('../../bin/behalf.js', import.meta.url).pathname;
    child = spawn(
      process.execPath,
      [
        bin,
        'protect',
        '--upstream',
        upstream.url,
        '--port',
        String(port),
        '--client-id',
        API,
        '--authority',
        issuer.authority,
        '--scope',
        'App.Read',
      ],
      { stdio: ['ignore', 'pipe', 'pipe'] },
    );
    url = await new Promise<string>((resolve, reject) => {
      let out = '';
      child.stdout!.on('data', (chunk: Buffer) => {
        out += chunk.toString();
        const match = /at (http:\/\/\S+)/.exec(out);
        if (match) resolve(match[1]!);
      });
      child.once('exit', (code) => reject(new Error(`behalf protect exited with ${code}`)));
    });
  });
  after(async () => {
    if (child.exitCode === null) {
      child.kill('SIGTERM');
      await new Promise((resolve) => child.once('exit', resolve));
    }
    await upstream.close();
    await issuer.close();
  });

  it('challenges anonymous callers, refuses a token without the scope, serves the page with one', async () => {
    assert.equal((await fetch(url + '/index.html')).status, 401);
    const wrong = await issuer.accessToken({
      aud: API,
      user: { oid: randomUUID(), upn: 'bob@contoso.test', name: 'Bob' },
      scp: 'Other',
    });
    assert.equal(
      (await fetch(url + '/index.html', { headers: { authorization: `Bearer ${wrong}` } })).status,
      403,
    );
    const right = await issuer.accessToken({
      aud: API,
      user: { oid: randomUUID(), upn: 'alice@contoso.test', name: 'Alice' },
      scp: 'App.Read',
    });
    const ok = await fetch(url + '/index.html', { headers: { authorization: `Bearer ${right}` } });
    assert.equal(ok.status, 200);
    assert.equal(await ok.text(), '<p>legacy app</p>');
  });
});
