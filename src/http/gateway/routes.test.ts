import assert from 'node:assert/strict';
import { after, before, it } from 'node:test';
import type { FastifyInstance } from 'fastify';
import { silentLogger } from '../../core/logger.ts';
import { systemClock } from '../../core/clock.ts';
import { cryptoRandom } from '../../core/ids.ts';
import { createAuditLog } from '../../connections/audit-log.ts';
import { startFakeIdp } from '../../../test/support/gateway-fake-idp.ts';
import type { FakeIdp } from '../../../test/support/gateway-fake-idp.ts';
import {
  API_AUDIENCE,
  BEHALF_CLIENT_ID,
  BEHALF_SECRET,
  CONNECTOR_CLIENT_ID,
  fakeConnectorSource,
  gatewayStack,
  mailPackage,
} from '../../../test/support/gateway-stack.ts';
import type { GatewayStack } from '../../../test/support/gateway-stack.ts';
import { connectionRoutes } from '../connections/routes.ts';
import { createHttpServer } from '../server.ts';
import { gatewayRoutes } from './routes.ts';

const alice = { oid: '11111111-1111-4111-8111-111111111111', upn: 'alice@contoso.test' };
const admin = { oid: '99999999-9999-4999-8999-999999999999', upn: 'admin@contoso.test' };
let idp: FakeIdp;
let stack: GatewayStack;
let server: FastifyInstance;
let base = '';

before(async () => {
  idp = await startFakeIdp({
    behalfClientId: BEHALF_CLIENT_ID,
    behalfSecret: BEHALF_SECRET,
    connectorClientId: CONNECTOR_CLIENT_ID,
    connectorSecret: 'connector-secret',
    apiAudience: API_AUDIENCE,
  });
  idp.mailboxOwners.add(alice.oid);
  const source = fakeConnectorSource(
    idp.tenantId,
    [{ id: 'mail', sso: true, secret: 'connector-secret' }],
    (c) => mailPackage(idp.apiUrl, idp.url, c.sso),
  );
  stack = gatewayStack({ idp, connectors: source });
  const s = stack.services;
  server = await createHttpServer({
    logger: silentLogger,
    routes: [
      gatewayRoutes({
        gateway: stack.gateway,
        verifier: s.verifier,
        consent: s.consent,
        issuer: s.issuer,
        logger: silentLogger,
      }),
      connectionRoutes({
        verifier: s.verifier,
        connections: s.connections,
        connectors: source,
        sharing: s.sharing,
        audit: s.audit,
        vault: s.vault,
        refresher: s.refresher,
        isAdministrator: async (_t, oid) => oid === admin.oid,
        logger: silentLogger,
      }),
    ],
  });
  base = await server.listen({ port: 0, host: '127.0.0.1' });
});
after(async () => {
  await server.close();
  await stack.close();
  await idp.close();
});

const bearer = async (user = alice) => ({ authorization: `Bearer ${await idp.userToken(user)}` });

it('POST /apim/{connector}/{connection}/{operation} runs the operation as the caller', async () => {
  const response = await fetch(`${base}/apim/mail/default/GetEmails`, {
    method: 'POST',
    headers: { ...(await bearer()), 'content-type': 'application/json', 'x-ms-client-request-id': 'corr-1' },
    body: JSON.stringify({ $filter: 'isRead eq false' }),
  });
  assert.equal(response.status, 200);
  assert.equal(response.headers.get('x-ms-correlation-id'), 'corr-1');
  const body = (await response.json()) as { value: unknown[] };
  assert.equal(body.value.length, 1);
});

it('APIM path style maps method and path to the operation, query to its parameters', async () => {
  const response = await fetch(
    `${base}/apim/mail/default/v1.0/me/mailFolders/inbox/messages?%24filter=isRead%20eq%20false`,
    {
      headers: await bearer(),
    },
  );
  assert.equal(response.status, 200);
  assert.equal(((await response.json()) as { value: unknown[] }).value.length, 1);
});

it('no bearer is a 401 with a challenge; a bad body is a 400 envelope; a missing argument names it', async () => {
  const anonymous = await fetch(`${base}/apim/mail/default/GetEmails`, { method: 'POST' });
  assert.equal(anonymous.status, 401);
  assert.match(anonymous.headers.get('www-authenticate') ?? '', /^Bearer/);
  const broken = await fetch(`${base}/apim/mail/default/GetEmails`, {
    method: 'POST',
    headers: { ...(await bearer()), 'content-type': 'application/json' },
    body: '{nope',
  });
  assert.equal(broken.status, 400);
  assert.equal(((await broken.json()) as { error: { code: string } }).error.code, 'BadRequest');
  const wrong = await fetch(`${base}/apim/mail/default/GetEmails`, {
    method: 'POST',
    headers: { ...(await bearer()), 'content-type': 'application/json' },
    body: JSON.stringify({ $top: 'lots' }),
  });
  assert.equal(wrong.status, 400);
  assert.equal(((await wrong.json()) as { error: { parameter: string } }).error.parameter, '$top');
});

it('publishes the workload identity issuer’s discovery document and JWKS', async () => {
  const discovery = (await (
    await fetch(`${base}/workload-identity/.well-known/openid-configuration`)
  ).json()) as {
    issuer: string;
  };
  assert.equal(discovery.issuer, 'https://behalf.test/workload-identity');
  const jwks = (await (await fetch(`${base}/workload-identity/.well-known/jwks.json`)).json()) as {
    keys: { kty: string; d?: string }[];
  };
  assert.equal(jwks.keys[0]?.kty, 'RSA');
  assert.equal(jwks.keys[0]?.d, undefined, 'no private part');
});

it('connections API: create with a secure value that never comes back, list mine, shared needs an admin, delete', async () => {
  const created = await fetch(`${base}/v1.0/behalf/connections`, {
    method: 'POST',
    headers: { ...(await bearer()), 'content-type': 'application/json' },
    body: JSON.stringify({ connectorId: 'mail', secureParameters: { apiKey: 'super-secret-key-value' } }),
  });
  assert.equal(created.status, 201);
  const text = await created.text();
  assert.equal(text.includes('super-secret-key-value'), false);
  const view = JSON.parse(text) as { id: string; secureParametersSet: string[] };
  assert.deepEqual(view.secureParametersSet, ['apiKey']);
  const mine = (await (
    await fetch(`${base}/v1.0/behalf/connections`, { headers: await bearer() })
  ).json()) as {
    value: { id: string }[];
  };
  assert.ok(mine.value.some((c) => c.id === view.id));
  const shared = await fetch(`${base}/v1.0/behalf/connections`, {
    method: 'POST',
    headers: { ...(await bearer()), 'content-type': 'application/json' },
    body: JSON.stringify({ connectorId: 'mail', mode: 'shared' }),
  });
  assert.equal(shared.status, 403);
  const asAdmin = await fetch(`${base}/v1.0/behalf/connections`, {
    method: 'POST',
    headers: { ...(await bearer(admin)), 'content-type': 'application/json' },
    body: JSON.stringify({ connectorId: 'mail', mode: 'shared' }),
  });
  assert.equal(asAdmin.status, 201);
  const removed = await fetch(`${base}/v1.0/behalf/connections/${view.id}`, {
    method: 'DELETE',
    headers: await bearer(),
  });
  assert.equal(removed.status, 204);
  const again = await fetch(`${base}/v1.0/behalf/connections/${view.id}`, { headers: await bearer() });
  assert.equal(again.status, 404);
  const audit = (await (
    await fetch(`${base}/v1.0/behalf/audit?outcome=success`, { headers: await bearer() })
  ).json()) as {
    value: { callerObjectId: string }[];
  };
  assert.ok(audit.value.length >= 2);
  assert.ok(audit.value.every((e) => e.callerObjectId === alice.oid));
});

it('a graceful stop writes the audit entries of the calls already answered', async () => {
  const response = await fetch(`${base}/apim/mail/default/GetEmails`, {
    method: 'POST',
    headers: { ...(await bearer()), 'content-type': 'application/json', 'x-ms-client-request-id': 'at-stop' },
    body: '{}',
  });
  assert.equal(response.status, 200);
  await response.arrayBuffer();
  await stack.services.audit.close();
  // Read by another audit log on the same store (another process: nothing of the first one's queue).
  const reader = createAuditLog({ store: stack.store, clock: systemClock, random: cryptoRandom });
  const { entries } = await reader.query({ correlationId: 'at-stop' });
  assert.deepEqual(
    entries.map((e) => [e.callerObjectId, e.outcome]),
    [[alice.oid, 'success']],
  );
});
