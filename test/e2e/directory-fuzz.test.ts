import assert from 'node:assert/strict';
import { after, before, it } from 'node:test';
import fc from 'fast-check';
import { startDirectoryBehalf } from '../support/directory-behalf.ts';
import type { Json } from '../support/directory-behalf.ts';

/**
 * Bad input never yields a 500: a few thousand malformed bodies (random JSON, valid bodies with a
 * field replaced by a value of another type, unknown fields, raw non-JSON text) at every writing
 * endpoint of a running Behalf's management API. Every answer is a 2xx or a 4xx in Graph's envelope.
 */
let env: Awaited<ReturnType<typeof startDirectoryBehalf>>;
let graph: Awaited<ReturnType<typeof env.graphAs>>;
let appId: string;
let appObjectId: string;
let accessToken: string;

before(async () => {
  env = await startDirectoryBehalf();
  const token = await env.token();
  accessToken = token.body.access_token;
  graph = await env.graphAs(accessToken);
  const app = await graph('POST', '/applications', { displayName: 'Fuzz target' });
  appId = app.body.appId;
  appObjectId = app.body.id;
});

after(() => env.close());

/**
 * Most bodies go through Fastify's inject into the running server (same routes, parsers, token check
 * and error handlers, without a socket), so thousands fit in seconds on a loaded machine; every 15th
 * goes over real HTTPS.
 */
async function injected(method: string, path: string, payload: string) {
  const response = await env.behalf.http.inject({
    method: method as 'POST',
    url: '/v1.0' + path,
    headers: { authorization: `Bearer ${accessToken}`, 'content-type': 'application/json' },
    payload,
  });
  let body: Json;
  try {
    body = JSON.parse(response.body) as Json;
  } catch {
    body = {};
  }
  return { status: response.statusCode, body, text: response.body };
}

const VALID: Record<string, Record<string, unknown>> = {
  '/applications': {
    displayName: 'Fuzzed',
    identifierUris: ['api://fuzzed'],
    web: { redirectUris: ['https://fuzz.test/cb'] },
    api: { requestedAccessTokenVersion: 2, oauth2PermissionScopes: [{ value: 'read', type: 'User' }] },
    requiredResourceAccess: [
      {
        resourceAppId: '00000003-0000-0000-c000-000000000000',
        resourceAccess: [{ id: 'e1fe6dd8-ba31-4d61-89e7-88639da4683d', type: 'Scope' }],
      },
    ],
  },
  '/servicePrincipals': { appId: '00000000-0000-0000-0000-000000000001', appRoleAssignmentRequired: false },
  '/users': {
    userPrincipalName: 'fuzz@behalf.test',
    displayName: 'Fuzz',
    passwordProfile: { password: 'long enough password' },
  },
  '/groups': { displayName: 'Fuzzers', securityEnabled: true },
  '/oauth2PermissionGrants': {
    clientId: '00000000-0000-0000-0000-000000000001',
    consentType: 'AllPrincipals',
    resourceId: '00000000-0000-0000-0000-000000000002',
    scope: 'read',
  },
  '/organization': { displayName: 'Fuzz tenant', verifiedDomains: [{ name: 'fuzz.test' }] },
  ADD_PASSWORD: { passwordCredential: { displayName: 'x', endDateTime: '2027-01-01T00:00:00Z' } },
  FEDERATED: {
    name: 'fuzz-fic',
    issuer: 'https://issuer.test',
    subject: 's',
    audiences: ['api://AzureADTokenExchange'],
  },
  REMOVE_PASSWORD: { keyId: '00000000-0000-0000-0000-000000000003' },
};

function target(key: string): { method: string; path: string } {
  if (key === 'ADD_PASSWORD') return { method: 'POST', path: `/applications/${appObjectId}/addPassword` };
  if (key === 'FEDERATED')
    return { method: 'POST', path: `/applications(appId='${appId}')/federatedIdentityCredentials` };
  if (key === 'REMOVE_PASSWORD')
    return { method: 'POST', path: `/applications/${appObjectId}/removePassword` };
  return { method: 'POST', path: key };
}

/** Replaces the value at a random path of a valid body with something of another shape. */
function mutate(value: unknown, path: number[], replacement: unknown): unknown {
  if (path.length === 0 || value === null || typeof value !== 'object') return replacement;
  const entries = Array.isArray(value) ? value.map((v, i) => [i, v] as const) : Object.entries(value);
  if (entries.length === 0) return replacement;
  const [key, child] = entries[path[0]! % entries.length]!;
  const next = mutate(child, path.slice(1), replacement);
  if (Array.isArray(value)) return value.map((v, i) => (i === key ? next : v));
  return { ...value, [key]: next };
}

const body = fc.oneof(
  {
    weight: 3,
    arbitrary: fc
      .tuple(fc.array(fc.nat(), { maxLength: 5 }), fc.jsonValue({ maxDepth: 3 }))
      .map(([path, replacement]) => ({ path, replacement })),
  },
  {
    weight: 1,
    arbitrary: fc.jsonValue({ maxDepth: 4 }).map((raw) => ({ raw: JSON.stringify(raw) ?? 'null' })),
  },
  { weight: 1, arbitrary: fc.string({ maxLength: 200 }).map((raw) => ({ raw })) },
  {
    weight: 1,
    arbitrary: fc
      .dictionary(fc.string({ maxLength: 12 }), fc.jsonValue({ maxDepth: 2 }), { maxKeys: 4 })
      .map((extra) => ({ extra })),
  },
);

it('a few thousand malformed bodies: always a 2xx or a Graph 4xx, never a 500', async () => {
  const statuses = new Map<number, number>();
  let runs = 0;
  await fc.assert(
    fc.asyncProperty(fc.constantFrom(...Object.keys(VALID)), body, async (key, shape) => {
      const overSocket = runs++ % 15 === 0;
      const valid = VALID[key]!;
      const payload =
        'raw' in shape
          ? shape.raw
          : 'extra' in shape
            ? JSON.stringify({ ...valid, ...shape.extra })
            : JSON.stringify(mutate(valid, shape.path, shape.replacement));
      const { method, path } = target(key);
      const result = overSocket ? await graph(method, path, payload) : await injected(method, path, payload);
      statuses.set(result.status, (statuses.get(result.status) ?? 0) + 1);
      assert.ok(
        result.status < 500,
        `${result.status} for ${method} ${path} ${payload.slice(0, 200)}: ${result.text.slice(0, 300)}`,
      );
      if (result.status >= 400) {
        assert.equal(typeof result.body.error?.code, 'string', result.text);
        assert.equal(typeof result.body.error?.message, 'string', result.text);
        assert.ok(!/at .*\.ts:\d+/.test(result.text), 'no stack trace');
      }
    }),
    { numRuns: 3000 },
  );
  assert.ok(
    !env.logger.lines.some((line) => line.includes('"level":"error"')),
    'nothing was logged as an internal error',
  );
  assert.ok(
    [...statuses.keys()].some((s) => s >= 400),
    'the bodies were malformed',
  );
});
