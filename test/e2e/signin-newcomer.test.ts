import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { Browser } from 'playwright-core';
import { Agent, fetch } from 'undici';
import type { DemoDescription } from '../../src/cli/demo/setup.ts';
import { launchBrowser, newContext, screenshot, signIn } from '../support/browser.ts';

/**
 * What a newcomer does: `behalf up --demo` as a real child process, then the printed instructions
 * followed in Chromium ("Sign in as Alice: open …"), the demo APIs it starts, and `behalf login`
 * (device code) as the administrator, all against that process.
 */
const BIN = new URL('../../bin/behalf.js', import.meta.url).pathname;

let dataDir: string;
let up: ChildProcess;
let stdout = '';
let demo: DemoDescription;
let dispatcher: Agent;
let browser: Browser;

function waitFor(pattern: RegExp, child: ChildProcess, output: () => string, ms = 60_000): Promise<void> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`timed out; output so far:\n${output()}`)), ms);
    const check = () => {
      if (pattern.test(output())) {
        clearTimeout(timer);
        resolve();
      }
    };
    child.stdout?.on('data', check);
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`exited with ${code}:\n${output()}`));
    });
    check();
  });
}

before(async () => {
  dataDir = mkdtempSync(join(tmpdir(), 'behalf-newcomer-'));
  up = spawn(process.execPath, [BIN, 'up', '--demo', '--port', '0', '--data-dir', dataDir], {
    env: { ...process.env, BEHALF_LOG_LEVEL: 'warn' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  up.stdout!.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
  up.stderr!.resume();
  await waitFor(/Stop with Ctrl\+C/, up, () => stdout);
  demo = JSON.parse(readFileSync(join(dataDir, 'demo.json'), 'utf8')) as DemoDescription;
  dispatcher = new Agent({ connect: { ca: readFileSync(demo.caCertificate!, 'utf8') } });
  browser = await launchBrowser();
});

after(async () => {
  await browser?.close();
  await dispatcher?.close();
  if (up && up.exitCode === null) {
    const exited = new Promise((resolve) => up.once('exit', resolve));
    up.kill('SIGTERM');
    await exited;
  }
  rmSync(dataDir, { recursive: true, force: true });
});

describe('a newcomer runs behalf up --demo', () => {
  it('prints how to trust the CA and writes demo.json with mode 0600', () => {
    assert.ok(stdout.includes(`NODE_EXTRA_CA_CERTS=${join(dataDir, 'tls', 'ca.pem')}`));
    assert.equal(statSync(join(dataDir, 'demo.json')).mode & 0o777, 0o600);
    assert.deepEqual(
      demo.users.map((u) => u.username),
      ['alice@contoso.test', 'bob@contoso.test', 'admin@contoso.test'],
    );
    for (const name of ['Behalf Connections', 'Behalf Chat', 'Behalf CLI', 'Behalf Admin', 'Contoso Mail'])
      assert.ok(demo.apps[name], `${name} in demo.json`);
    assert.ok(demo.apps['Contoso Mail Connector']?.clientSecret, 'connector apps get a secret');
  });

  it('signs in as Alice in Chromium by following the printed text', async () => {
    const line = /Sign in as Alice: open (\S+)\s+(\S+) \/ (\S+)/.exec(stdout);
    assert.ok(line, `no sign-in instructions in:\n${stdout}`);
    const [, url, username, password] = line;
    assert.equal(username, 'alice@contoso.test');
    const context = await newContext(browser);
    const page = await context.newPage();
    await page.goto(url!);
    await screenshot(page, 'newcomer-sign-in');
    await signIn(page, username!, password!);
    await page.getByRole('heading', { name: 'My account' }).waitFor();
    assert.match(await page.content(), /Alice Adams/);
    await screenshot(page, 'newcomer-my-account');
    // Signing out from the page ends the session.
    await Promise.all([
      page.waitForEvent('framenavigated'),
      page.getByRole('button', { name: 'Sign out' }).click(),
    ]);
    assert.match(await page.content(), /You signed out/);
    await page.goto(url!);
    assert.equal(await page.getByLabel('Password').count(), 1);
    await context.close();
  });

  it('runs the demo APIs behind Easy Auth on the URLs in demo.json', async () => {
    for (const name of ['mailApi', 'resourceManagerApi']) {
      const url = demo.urls[name];
      assert.ok(url, `${name} in demo.json`);
      const response = await fetch(`${url}/me/messages`, { dispatcher });
      assert.equal(response.status, 401, `${name} refuses an anonymous call`);
      await response.body?.cancel();
    }
  });

  it('behalf login signs the administrator in by device code and keeps the token private', async () => {
    const login = spawn(process.execPath, [BIN, 'login', '--data-dir', dataDir], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    let err = '';
    login.stdout!.on('data', (c: Buffer) => (out += c.toString()));
    login.stderr!.on('data', (c: Buffer) => (err += c.toString()));
    const done = new Promise<number | null>((resolve) => login.once('exit', resolve));
    const code = await new Promise<{ page: string; userCode: string }>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`no device code message: ${err}`)), 30_000);
      login.stderr!.on('data', () => {
        const match = /open the page (\S+) and enter the code (\S+) /.exec(err);
        if (match) {
          clearTimeout(timer);
          resolve({ page: match[1]!, userCode: match[2]! });
        }
      });
    });
    const admin = demo.users.find((u) => u.username === 'admin@contoso.test')!;
    const context = await newContext(browser);
    const page = await context.newPage();
    await page.goto(code.page);
    await page.locator('#user_code').fill(code.userCode);
    await Promise.all([
      page.waitForEvent('framenavigated'),
      page.getByRole('button', { name: 'Next' }).click(),
    ]);
    await signIn(page, admin.username, admin.password);
    // The CLI asks for an admin-only Graph permission: the administrator consents on the page.
    await page.getByRole('heading', { name: 'Permissions requested' }).waitFor();
    await screenshot(page, 'newcomer-device-consent');
    await Promise.all([
      page.waitForEvent('framenavigated'),
      page.getByRole('button', { name: 'Accept' }).click(),
    ]);
    assert.match(await page.content(), /You have signed in to the Behalf CLI application/);
    await context.close();

    assert.equal(await done, 0, err);
    assert.match(out, /Signed in as admin@contoso\.test/);
    const file = join(dataDir, 'login.json');
    assert.equal(statSync(file).mode & 0o777, 0o600);
    const stored = JSON.parse(readFileSync(file, 'utf8')) as { accessToken: string };
    // The token is the administrator's and the management API accepts it.
    const me = await fetch(`${demo.urls.managementApi}/users?$top=5`, {
      dispatcher,
      headers: { authorization: `Bearer ${stored.accessToken}` },
    });
    assert.equal(me.status, 200, await me.clone().text());
    await me.body?.cancel();
  });
});
