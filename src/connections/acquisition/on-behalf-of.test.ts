import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, it } from 'node:test';
import { systemClock } from '../../core/clock.ts';
import { cryptoRandom } from '../../core/ids.ts';
import { createEnvelope } from '../../crypto/envelope.ts';
import { keySetResolver, verifyJwt } from '../../crypto/jwt.ts';
import { createMasterKeyRing } from '../../crypto/master-key.ts';
import { createMemoryStore } from '../../storage/adapters/memory.ts';
import { ConnectionError } from '../errors.ts';
import { createOutboundHttp } from '../outbound-http.ts';
import { tokenHash } from '../vault.ts';
import { CLIENT_ASSERTION_TYPE } from './app-credential.ts';
import { createOnBehalfOf, JWT_BEARER } from './on-behalf-of.ts';
import type { OboRequest } from './on-behalf-of.ts';
import { createWorkloadIdentityIssuer, FEDERATED_AUDIENCE } from './workload-identity.ts';

// A token endpoint on loopback that records each OBO request and answers from a script.
const requests: URLSearchParams[] = [];
let answer: (form: URLSearchParams) => [number, unknown] = () => [500, {}];
const idp = createServer((req, res) => {
  let body = '';
  req.on('data', (c: Buffer) => (body += c.toString()));
  req.on('end', () => {
    const form = new URLSearchParams(body);
    requests.push(form);
    const [status, json] = answer(form);
    res.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify(json));
  });
});
await new Promise<void>((resolve) => idp.listen(0, '127.0.0.1', resolve));
const tokenUrl = `http://127.0.0.1:${(idp.address() as AddressInfo).port}/contoso/oauth2/v2.0/token`;
const http = createOutboundHttp();
after(async () => {
  await http.close();
  idp.closeAllConnections();
  idp.close();
});

const issuer = createWorkloadIdentityIssuer({
  store: createMemoryStore(),
  envelope: createEnvelope(createMasterKeyRing([{ version: 1, key: randomBytes(32) }])),
  clock: systemClock,
  random: cryptoRandom,
  publicUrl: () => 'https://behalf.example',
});
const request: OboRequest = {
  tokenUrl,
  behalfConnections: { kind: 'secret', clientId: 'behalf-connections', secret: async () => 'bc-secret' },
  connectorApp: { kind: 'federated', clientId: 'connector-x', subject: 'connector:contoso:mail' },
  connectorAppScope: 'api://connector-x/.default',
  apiScopes: ['api://mail/.default'],
  consentCard: () => ({
    consentUrl: 'https://behalf.example/consent/mail',
    text: 'Allow Behalf to read your mail',
    connectorName: 'Contoso Mail',
  }),
};

const issuing = (form: URLSearchParams): [number, unknown] => [
  200,
  {
    token_type: 'Bearer',
    access_token: `${form.get('client_id')}-for-${form.get('assertion')}`,
    expires_in: 3600,
  },
];

it('exchanges in two hops, the second as connector app X with a federated assertion from Behalf’s issuer', async () => {
  requests.length = 0;
  answer = issuing;
  const onBehalfOf = createOnBehalfOf({ http, clock: systemClock, issuer });
  const tokens = await onBehalfOf.exchange('alice-token', request);
  assert.equal(tokens.accessToken, 'connector-x-for-behalf-connections-for-alice-token');
  const [one, two] = requests;
  assert.equal(one?.get('grant_type'), JWT_BEARER);
  assert.equal(one?.get('requested_token_use'), 'on_behalf_of');
  assert.equal(one?.get('client_id'), 'behalf-connections');
  assert.equal(one?.get('client_secret'), 'bc-secret');
  assert.equal(one?.get('scope'), 'api://connector-x/.default');
  assert.equal(two?.get('client_id'), 'connector-x');
  assert.equal(two?.get('client_secret'), null, 'no secret: federated credential instead');
  assert.equal(two?.get('client_assertion_type'), CLIENT_ASSERTION_TYPE);
  assert.equal(two?.get('scope'), 'api://mail/.default');
  const verified = await verifyJwt(two!.get('client_assertion')!, {
    key: keySetResolver(await issuer.jwks()),
    algorithms: ['RS256'],
    clock: systemClock,
    issuer: 'https://behalf.example/workload-identity',
    audience: FEDERATED_AUDIENCE,
  });
  assert.equal(verified.payload['sub'], 'connector:contoso:mail');
  assert.equal(
    issuer.discovery()['jwks_uri'],
    'https://behalf.example/workload-identity/.well-known/jwks.json',
  );
});

it('caches per presented assertion: Alice again costs nothing, Bob never gets Alice’s token', async () => {
  requests.length = 0;
  answer = issuing;
  const onBehalfOf = createOnBehalfOf({ http, clock: systemClock, issuer });
  const concurrent = await Promise.all([1, 2, 3].map(() => onBehalfOf.exchange('alice-token', request)));
  assert.equal(requests.length, 2, 'three concurrent calls share one exchange of two hops');
  assert.equal(new Set(concurrent.map((t) => t.accessToken)).size, 1);
  await onBehalfOf.exchange('alice-token', request);
  assert.equal(requests.length, 2);
  const bob = await onBehalfOf.exchange('bob-token', request);
  assert.equal(requests.length, 4);
  assert.equal(bob.accessToken, 'connector-x-for-behalf-connections-for-bob-token');
  // The verifier's hash of the caller's token (Caller.tokenHash) is the same key.
  const again = await onBehalfOf.exchange('bob-token', request, tokenHash('bob-token'));
  assert.equal(requests.length, 4, 'the precomputed hash finds the cached exchange');
  assert.equal(again.accessToken, bob.accessToken);
});

it('consent_required on hop 1 becomes a consent card naming the missing pre-authorization', async () => {
  answer = (form) =>
    form.get('client_id') === 'behalf-connections'
      ? [
          400,
          {
            error: 'invalid_grant',
            error_description: 'AADSTS65001: The user or administrator has not consented',
            error_codes: [65001],
            suberror: 'consent_required',
          },
        ]
      : issuing(form);
  const onBehalfOf = createOnBehalfOf({ http, clock: systemClock, issuer });
  await assert.rejects(onBehalfOf.exchange('carol-token', request), (error: unknown) => {
    assert.ok(error instanceof ConnectionError);
    assert.equal(error.code, 'ConsentRequired');
    assert.match(error.message, /does not pre-authorize Behalf Connections \(behalf-connections\)/);
    assert.match(error.message, /AADSTS65001/);
    assert.equal(error.details.consentCard?.consentUrl, 'https://behalf.example/consent/mail');
    return true;
  });
});

it('a wrong resource URL on hop 2 is named as such; no consent card is offered', async () => {
  answer = (form) =>
    form.get('client_id') === 'connector-x'
      ? [
          400,
          {
            error: 'invalid_resource',
            error_description: 'AADSTS500011: The resource principal named api://mail was not found',
            error_codes: [500011],
          },
        ]
      : issuing(form);
  const onBehalfOf = createOnBehalfOf({ http, clock: systemClock, issuer });
  await assert.rejects(onBehalfOf.exchange('dave-token', request), (error: unknown) => {
    assert.ok(error instanceof ConnectionError);
    assert.equal(error.code, 'ResourceNotFound');
    assert.match(error.message, /Resource URL is wrong/);
    assert.equal(error.details.consentCard, undefined);
    return true;
  });
});
