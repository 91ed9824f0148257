import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, it } from 'node:test';
import { connect } from './api-client.ts';

// A loopback stand-in for Behalf: records what the CLI sends to the token endpoint and the API.
const seen: { authorization?: string | undefined; grant?: string | null }[] = [];
const server = createServer((request, response) => {
  let body = '';
  request.on('data', (chunk: Buffer) => (body += chunk.toString()));
  request.on('end', () => {
    response.setHeader('content-type', 'application/json');
    if (request.url?.endsWith('/oauth2/v2.0/token')) {
      const form = new URLSearchParams(body);
      seen.push({ grant: form.get('grant_type') });
      const token = form.get('grant_type') === 'refresh_token' ? 'refreshed-user-token' : 'app-token';
      response.end(
        JSON.stringify({ access_token: token, refresh_token: 'rotated-refresh', expires_in: 3600 }),
      );
      return;
    }
    seen.push({ authorization: request.headers.authorization });
    response.end(JSON.stringify({ value: [] }));
  });
});
let origin = '';
before(async () => {
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
after(() => server.close());

function dataDirWith(login: Record<string, unknown> | undefined): string {
  const dir = mkdtempSync(join(tmpdir(), 'behalf-cli-'));
  const admin = {
    authority: `${origin}/tenant-a`,
    tenantId: 'tenant-a',
    clientId: 'admin-app',
    clientSecret: 's',
  };
  writeFileSync(join(dir, 'admin-credential.json'), JSON.stringify(admin));
  if (login) writeFileSync(join(dir, 'login.json'), JSON.stringify(login));
  return dir;
}

const now = () => Math.floor(Date.now() / 1000);
const login = (extra: Record<string, unknown>) => ({
  authority: `${origin}/tenant-a`,
  tenantId: 'tenant-a',
  clientId: 'cli-app',
  username: 'admin@contoso.test',
  scope: 'Directory.ReadWrite.All',
  accessToken: 'user-token',
  refreshToken: 'user-refresh',
  expiresOn: now() + 3600,
  ...extra,
});

it('after `behalf login` the CLI calls the API as the signed-in user', async () => {
  seen.length = 0;
  const client = connect({ dataDir: dataDirWith(login({})) }, {});
  await client.list('/users');
  await client.close();
  assert.deepEqual(seen, [{ authorization: 'Bearer user-token' }]);
});

it('refreshes an expired sign-in with its refresh token and keeps the new tokens', async () => {
  seen.length = 0;
  const dir = dataDirWith(login({ expiresOn: now() - 10 }));
  const client = connect({ dataDir: dir }, {});
  await client.list('/users');
  await client.close();
  assert.deepEqual(seen, [{ grant: 'refresh_token' }, { authorization: 'Bearer refreshed-user-token' }]);
  const stored = JSON.parse(readFileSync(join(dir, 'login.json'), 'utf8')) as {
    accessToken: string;
    refreshToken: string;
  };
  assert.equal(stored.accessToken, 'refreshed-user-token');
  assert.equal(stored.refreshToken, 'rotated-refresh');
});

it('uses the administrator credential without a sign-in, for another tenant, or when flags name a client', async () => {
  for (const [flags, loginFile] of [
    [{}, undefined],
    [{ tenant: 'tenant-b' }, login({})],
    [{ clientId: 'other', clientSecret: 'x', authority: `${origin}/tenant-a` }, login({})],
  ] as const) {
    seen.length = 0;
    const client = connect({ dataDir: dataDirWith(loginFile), ...flags }, {});
    await client.list('/users');
    await client.close();
    assert.deepEqual(seen, [{ grant: 'client_credentials' }, { authorization: 'Bearer app-token' }]);
  }
});
