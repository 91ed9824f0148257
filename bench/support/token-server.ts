// bench/tokens.ts's server process: one Behalf with the token e2e fixture, plus the raw-signing
// baselines measured here, in the same process on the same (pinned) core as the token service, and an
// "HTTPS floor": a bare Fastify route on Behalf's TLS certificate that parses the form the same way and
// answers with a raw node:crypto-signed token — what any token service over HTTPS keep-alive pays here.
import { generateKeyPairSync, randomUUID, sign } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import Fastify from 'fastify';
import { SignJWT } from 'jose';
import { startTokenFixture } from '../../test/support/token-fixture.ts';
import { cpuMsSince, phaseProfiler, serveParent } from './child.ts';

const f = await startTokenFixture();
const { privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
const header = { typ: 'JWT', alg: 'RS256', kid: 'k', x5t: 'k' };
const claims = {
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
const b64 = (value: unknown) => Buffer.from(JSON.stringify(value)).toString('base64url');

/** A token-sized JWT signed with node:crypto directly: header, payload, RSA signature, nothing else. */
function rawNodeToken(): string {
  const iat = Math.floor(Date.now() / 1000);
  const input = `${b64(header)}.${b64({ ...claims, iat, exp: iat + 3600, uti: randomUUID() })}`;
  return `${input}.${sign('sha256', Buffer.from(input), privateKey).toString('base64url')}`;
}

/** The same token through jose's SignJWT (WebCrypto: the signature runs on the libuv thread pool). */
function rawJoseToken(): Promise<string> {
  return new SignJWT({ ...claims, uti: randomUUID() })
    .setProtectedHeader(header)
    .setIssuedAt()
    .setExpirationTime('1h')
    .sign(privateKey);
}

const floor = Fastify({
  https: {
    key: readFileSync(join(f.behalf.config.dataDir, 'tls', 'server.key')),
    cert: readFileSync(join(f.behalf.config.dataDir, 'tls', 'server.pem')),
  },
  logger: false,
  keepAliveTimeout: 65_000,
});
floor.addContentTypeParser(
  'application/x-www-form-urlencoded',
  { parseAs: 'string' },
  (_request, body, done) => {
    const form: Record<string, string> = {};
    for (const [key, value] of new URLSearchParams(body as string)) if (!(key in form)) form[key] = value;
    done(null, form);
  },
);
const TOKEN_HEADERS = { 'cache-control': 'no-store, no-cache', pragma: 'no-cache', expires: '-1' };
floor.post('/floor/oauth2/v2.0/token', async (request, reply) => {
  if (typeof (request.body as Record<string, string>)['client_id'] !== 'string') throw new Error('no form');
  return reply
    .headers({ ...TOKEN_HEADERS, 'x-ms-request-id': randomUUID() })
    .send({ token_type: 'Bearer', expires_in: 3599, ext_expires_in: 3599, access_token: rawNodeToken() });
});
const floorPort = await new Promise<number>((resolve, reject) =>
  floor.listen({ port: 0, host: '127.0.0.1' }, (error) => {
    if (error) reject(error);
    else resolve((floor.server.address() as { port: number }).port);
  }),
);

let phase: { cpu: NodeJS.CpuUsage; started: number } | undefined;
const profiler = phaseProfiler();

serveParent(
  {
    url: f.url,
    floorUrl: `https://localhost:${floorPort}`,
    caPem: f.caPem,
    tenantId: f.tenantId,
    client: { appId: f.client.app.appId, secret: f.client.secret },
    middle: { appId: f.middle.app.appId, secret: f.middle.secret },
    alice: { upn: f.alice.userPrincipalName, password: f.alicePassword },
  },
  {
    async sign(message) {
      const ms = Number(message['ms']);
      const engine = message['engine'];
      for (let i = 0; i < 20; i++) await (engine === 'jose' ? rawJoseToken() : rawNodeToken());
      const cpu = process.cpuUsage();
      const started = performance.now();
      const deadline = started + ms;
      let count = 0;
      // The loop checks the clock itself: a timer would never fire during the synchronous variant.
      if (engine === 'jose') {
        while (performance.now() < deadline) {
          await rawJoseToken();
          count++;
        }
      } else {
        while (performance.now() < deadline) {
          rawNodeToken();
          count++;
        }
      }
      return { count, wallMs: performance.now() - started, cpuMs: cpuMsSince(cpu) };
    },
    /** The token service called in-process, without HTTP: what src/idp costs on top of signing. */
    async direct(message) {
      const form = message['form'] as Record<string, string>;
      const request = { endpoint: 2 as const, tenantSegment: f.tenantId, form };
      for (let i = 0; i < 20; i++) await f.behalf.tokens.token(request);
      const ms = Number(message['ms']);
      const cpu = process.cpuUsage();
      const started = performance.now();
      let count = 0;
      while (performance.now() - started < ms) {
        await f.behalf.tokens.token(request);
        count++;
      }
      return { count, wallMs: performance.now() - started, cpuMs: cpuMsSince(cpu) };
    },
    async start() {
      await profiler.start();
      phase = { cpu: process.cpuUsage(), started: performance.now() };
      return {};
    },
    async stop(message) {
      if (!phase) throw new Error('stop without start');
      const result = { wallMs: performance.now() - phase.started, cpuMs: cpuMsSince(phase.cpu) };
      phase = undefined;
      await profiler.stop(String(message['name'] ?? 'phase'));
      return result;
    },
  },
  async () => {
    await floor.close();
    await f.close();
  },
);
