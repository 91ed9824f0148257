// Token service throughput: client-credentials and on-behalf-of tokens per second over HTTPS with
// keep-alive, against raw `jose` RS256 signing of a token-sized payload in the same process (the floor
// every issued token pays). Bounded: about three seconds per phase. Behalf and the load generator
// share this process (and its event loop), so the ratio is conservative.
import { generateKeyPairSync, randomUUID } from 'node:crypto';
import { SignJWT } from 'jose';
import { Pool } from 'undici';
import { startTokenFixture } from '../test/support/token-fixture.ts';

const PHASE_MS = 3000;
const CONCURRENCY = 8;

const f = await startTokenFixture();
const pool = new Pool(f.url, { connections: CONCURRENCY, pipelining: 1, connect: { ca: f.caPem } });
const tokenPath = `/${f.tenantId}/oauth2/v2.0/token`;

async function post(form: Record<string, string>): Promise<Record<string, unknown>> {
  const response = await pool.request({
    method: 'POST',
    path: tokenPath,
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams(form).toString(),
  });
  const body = (await response.body.json()) as Record<string, unknown>;
  if (response.statusCode !== 200) throw new Error(`token request failed: ${JSON.stringify(body)}`);
  return body;
}

async function measure(name: string, work: () => Promise<unknown>, concurrency: number): Promise<number> {
  // Warm-up: JIT, TLS sessions, key caches.
  for (let i = 0; i < 20; i++) await work();
  let count = 0;
  const started = performance.now();
  const deadline = started + PHASE_MS;
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (performance.now() < deadline) {
        await work();
        count++;
      }
    }),
  );
  const perSecond = count / ((performance.now() - started) / 1000);
  console.log(`${name.padEnd(44)} ${perSecond.toFixed(0).padStart(6)} /s  (${count} in ${PHASE_MS} ms)`);
  return perSecond;
}

const { privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
const payload = {
  aud: 'api://downstream',
  iss: `${f.url}/${f.tenantId}/`,
  appid: f.client.app.appId,
  appidacr: '1',
  idtyp: 'app',
  oid: f.client.sp.id,
  roles: ['Data.Read.All'],
  sub: f.client.sp.id,
  tid: f.tenantId,
  ver: '1.0',
};
const raw = await measure(
  'raw jose RS256 sign (baseline)',
  async () =>
    new SignJWT({ ...payload, uti: randomUUID() })
      .setProtectedHeader({ alg: 'RS256', typ: 'JWT', kid: 'k' })
      .setIssuedAt()
      .setExpirationTime('1h')
      .sign(privateKey),
  1,
);

const clientCredentials = await measure(
  'client_credentials over HTTPS keep-alive',
  () =>
    post({
      grant_type: 'client_credentials',
      client_id: f.client.app.appId,
      client_secret: f.client.secret,
      scope: 'api://downstream/.default',
    }),
  CONCURRENCY,
);

const user = await post({
  grant_type: 'password',
  client_id: f.client.app.appId,
  client_secret: f.client.secret,
  username: f.alice.userPrincipalName,
  password: f.alicePassword,
  scope: 'api://middle/access_as_user',
});
const assertion = String(user['access_token']);
const obo = await measure(
  'on-behalf-of over HTTPS keep-alive',
  () =>
    post({
      grant_type: 'urn:ietf:params:oauth:grant-type:jwt-bearer',
      requested_token_use: 'on_behalf_of',
      client_id: f.middle.app.appId,
      client_secret: f.middle.secret,
      assertion,
      scope: 'api://downstream/read',
    }),
  CONCURRENCY,
);

console.log(
  `client_credentials / raw RS256 signing: ${((clientCredentials / raw) * 100).toFixed(0)}% (target ≥ 80%)`,
);
console.log(
  `on-behalf-of / raw RS256 signing:       ${((obo / raw) * 100).toFixed(0)}% (OBO also verifies the assertion)`,
);

await pool.close();
await f.close();
