// Directory reads on the token path, on the embedded SQLite store: what a token request asks the
// directory (client by appId, resource by identifier URI, secret check, grants) against the floor of
// one primary-key read of the same store in the same process. Ratios, not absolute times: the machine
// is shared. Bounded: five phases of about 1.5 s, three rounds, medians.
import { createHmac, randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { systemClock } from '../src/core/clock.ts';
import { cryptoRandom } from '../src/core/ids.ts';
import { bootstrapDirectory } from '../src/directory/bootstrap.ts';
import { KIND } from '../src/directory/deps.ts';
import { createDirectory } from '../src/directory/directory.ts';
import { openSqliteStore } from '../src/storage/adapters/sqlite.ts';
import { median } from './support/child.ts';

const PHASE_MS = 1500;
const ROUNDS = 3;

const dir = mkdtempSync(join(tmpdir(), 'behalf-bench-directory-'));
const store = openSqliteStore({ filename: join(dir, 'behalf.db') });
const pepper = randomBytes(32);
const digest = (s: string) => 'hmac-sha256$' + createHmac('sha256', pepper).update(s).digest('base64url');
const directory = createDirectory({
  store,
  clock: systemClock,
  random: cryptoRandom,
  secretHasher: { hash: digest, verify: (s, stored) => digest(s) === stored },
  passwordHasher: { hash: async (p) => p, verify: async (p, h) => p === h },
});
const { homeTenant } = await bootstrapDirectory(directory);
const tenantId = homeTenant.id;
// A tenant of realistic size: 200 applications with service principals, so lookups are not trivially small.
let last!: { appId: string; id: string; spId: string; uri: string };
for (let i = 0; i < 200; i++) {
  const uri = `api://bench-${i}`;
  const app = await directory.createApplication(tenantId, {
    displayName: `Bench ${i}`,
    identifierUris: [uri],
  });
  const sp = await directory.createServicePrincipal(tenantId, { appId: app.appId });
  last = { appId: app.appId, id: app.id, spId: sp.id, uri };
}
const client = await directory.createApplication(tenantId, { displayName: 'Client' });
const clientSp = await directory.createServicePrincipal(tenantId, { appId: client.appId });
for (let i = 0; i < 2; i++) await directory.addPassword(tenantId, client.id, {});
const secret = (await directory.addPassword(tenantId, client.id, {})).secretText;
await directory.createGrant(tenantId, {
  clientId: clientSp.id,
  resourceId: last.spId,
  consentType: 'AllPrincipals',
  scope: 'read',
});

async function rate(work: () => Promise<unknown>): Promise<number> {
  let count = 0;
  const started = performance.now();
  while (performance.now() - started < PHASE_MS) {
    await work();
    count++;
  }
  return (count / (performance.now() - started)) * 1000;
}

const phases: Record<string, () => Promise<unknown>> = {
  'store.get (floor)': () => store.get(KIND.application, last.id),
  getApplicationByAppId: () => directory.getApplicationByAppId(client.appId),
  'resolveServicePrincipal (identifier URI)': () =>
    directory.resolveServicePrincipal(tenantId, last.uri + '/'),
  'verifyClientSecret (3rd of 3)': () => directory.verifyClientSecret(client.appId, secret),
  listPermissionGrants: () =>
    directory.listPermissionGrants({ tenantId, clientId: clientSp.id, resourceId: last.spId }),
};
const results: Record<string, number[]> = {};
for (let round = 0; round < ROUNDS; round++)
  for (const [name, work] of Object.entries(phases)) (results[name] ??= []).push(await rate(work));

const floor = median(results['store.get (floor)']!);
for (const [name, rates] of Object.entries(results)) {
  const perSecond = median(rates);
  console.log(
    `${name.padEnd(42)} ${Math.round(perSecond).toString().padStart(8)} /s   ${(floor / perSecond).toFixed(2)}× the floor's cost`,
  );
}
await store.close();
rmSync(dir, { recursive: true, force: true });
