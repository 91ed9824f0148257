import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { PolicyInstance } from '../model.ts';
import { applyRequestPolicies, applyResponsePolicies, bodyMayHold, responsePolicyTargets } from './apply.ts';
import { TEMPLATE_IDS } from './templates.ts';
import type { OutboundRequest } from './types.ts';
import { PolicyError } from './types.ts';

const P = 'x-ms-apimTemplateParameter.';

/** A policy instance as importPackage builds it, from parameters written as in real files. */
function policy(
  templateId: string,
  parameters: Record<string, unknown>,
  extra: Partial<PolicyInstance> = {},
): PolicyInstance {
  const params = Object.fromEntries(Object.entries(parameters).map(([k, v]) => [k.replace(P, ''), v]));
  return {
    templateId,
    title: undefined,
    parameters: params,
    operationIds: undefined,
    section: 'request',
    index: 0,
    ...extra,
  };
}

const request: OutboundRequest = {
  method: 'POST',
  url: 'https://api.example.com/v1/items',
  headers: { 'Content-Type': 'application/json' },
  query: {},
  body: { name: 'x' },
};
const ctx = {
  operationId: 'CreateItem',
  connectionParameters: { keyVaultName: 'contoso', 'token:notes': 'n1' },
  baseUrl: 'https://api.example.com/v1',
};

describe('policy templates', () => {
  it('covers the 16 templates of connector-format.md §1.3.4', () => {
    assert.deepEqual([...TEMPLATE_IDS].sort(), [
      'convertarraytoobject',
      'convertobjecttoarray',
      'dynamichosturl',
      'dynamicsubdomain',
      'encodepropertyvalue',
      'moveproperties',
      'pollingtrigger',
      'routerequesttoendpoint',
      'setconnectionstatustounauthenticated',
      'setheader',
      'setproperty',
      'setqueryparameter',
      'setvaluefromurl',
      'stringreplace',
      'stringtoarray',
      'updatenextlink',
    ]);
  });

  it('dynamichosturl with an inline @connectionParameters (AzureKeyVault) keeps the path', async () => {
    const out = await applyRequestPolicies(
      [
        policy('dynamichosturl', {
          [`${P}urlTemplate`]: "https://@connectionParameters('keyVaultName').vault.azure.net",
        }),
      ],
      { ...request, url: 'https://sameerchtest.vault.azure.net/keys' },
      { ...ctx, baseUrl: 'https://sameerchtest.vault.azure.net' },
    );
    assert.equal(out.url, 'https://contoso.vault.azure.net/keys');
  });

  it('setheader with a default argument, override and skip; input untouched', async () => {
    const out = await applyRequestPolicies(
      [
        policy('setheader', {
          [`${P}name`]: 'X-notes',
          [`${P}value`]: "@connectionParameters('token:notes','')",
          [`${P}existsAction`]: 'override',
        }),
        policy('setheader', {
          [`${P}name`]: 'X-missing',
          [`${P}value`]: "@connectionParameters('absent','fallback')",
        }),
        policy('setheader', {
          [`${P}name`]: 'content-type',
          [`${P}value`]: 'text/plain',
          [`${P}existsAction`]: 'skip',
        }),
      ],
      request,
      ctx,
    );
    assert.equal(out.headers['X-notes'], 'n1');
    assert.equal(out.headers['X-missing'], 'fallback');
    assert.equal(out.headers['Content-Type'], 'application/json');
    assert.deepEqual(request.headers, { 'Content-Type': 'application/json' });
  });

  it('is scoped by x-ms-apimTemplate-operationName', async () => {
    const scoped = policy(
      'setqueryparameter',
      { [`${P}name`]: 'piIntegrator', [`${P}value`]: '89' },
      { operationIds: ['SendSMS'] },
    );
    assert.deepEqual((await applyRequestPolicies([scoped], request, ctx)).query, {});
    assert.deepEqual(
      (await applyRequestPolicies([scoped], request, { ...ctx, operationId: 'sendsms' })).query,
      { piIntegrator: '89' },
    );
  });

  it('routerequesttoendpoint fills {placeholders} and keeps @Request.OriginalHTTPMethod (Microsoft Bookings)', async () => {
    const out = await applyRequestPolicies(
      [
        policy('routerequesttoendpoint', {
          [`${P}httpMethod`]: '@Request.OriginalHTTPMethod',
          [`${P}newPath`]: '/BookingsService/api/V1/bookingBusinesses/{SMTPAddress}/webhook/',
        }),
      ],
      request,
      { ...ctx, parameters: { SMTPAddress: 'a b@contoso.com' } },
    );
    assert.equal(
      out.url,
      'https://api.example.com/v1/BookingsService/api/V1/bookingBusinesses/a%20b%40contoso.com/webhook/',
    );
    assert.equal(out.method, 'POST');
  });

  it("setproperty with {@body()['@odata.id']} interpolation (AzureAD)", async () => {
    const out = await applyRequestPolicies(
      [
        policy('setproperty', {
          [`${P}newPropertyParentPathTemplate`]: '@body()',
          [`${P}newPropertySubPathTemplate`]: "['@odata.id']",
          [`${P}propertyValuePathTemplate`]:
            "https://graph.microsoft.com/v1.0/directoryObjects/{@body()['@odata.id']}",
        }),
      ],
      { ...request, body: { '@odata.id': 'u1' } },
      ctx,
    );
    assert.deepEqual(out.body, { '@odata.id': 'https://graph.microsoft.com/v1.0/directoryObjects/u1' });
  });

  it('setvaluefromurl fetches through the injected fetcher and feeds the next setheader (Cradl AI)', async () => {
    const seen: OutboundRequest[] = [];
    const out = await applyRequestPolicies(
      [
        policy('setvaluefromurl', {
          [`${P}parameterTemplate`]: "@headers('Authorization')",
          [`${P}httpMethod`]: 'POST',
          [`${P}parameterValueUrl`]: '/oauth2/token?grant_type=client_credentials',
          [`${P}parameterValuePathTemplate`]: '@body().access_token',
        }),
        policy('setheader', {
          [`${P}name`]: 'Authorization',
          [`${P}value`]: "Bearer @headers('Authorization')",
        }),
      ],
      request,
      {
        ...ctx,
        fetch: async (r) => (seen.push(r), { status: 200, headers: {}, body: { access_token: 'tok' } }),
      },
    );
    assert.equal(seen[0]!.url, 'https://api.example.com/v1/oauth2/token');
    assert.deepEqual(seen[0]!.query, { grant_type: 'client_credentials' });
    assert.equal(out.headers.Authorization, 'Bearer tok');
    await assert.rejects(
      applyRequestPolicies(
        [
          policy('setvaluefromurl', {
            [`${P}parameterTemplate`]: "@headers('A')",
            [`${P}parameterValueUrl`]: '/t',
            [`${P}parameterValuePathTemplate`]: '@body().x',
          }),
        ],
        request,
        ctx,
      ),
      PolicyError,
    );
  });

  it('response transforms: convertobjecttoarray (CO2 Signal), updatenextlink, moveproperties, unauthenticated status', async () => {
    const res = {
      status: 200,
      headers: {},
      body: { zones: { DE: { name: 'Germany' } }, '@odata.nextLink': 'https://graph/next?x=1' },
    };
    const out = await applyResponsePolicies(
      [
        policy(
          'convertobjecttoarray',
          {
            [`${P}propertyParentPath`]: '@body()',
            [`${P}propertySubPath`]: 'zones',
            [`${P}newPropertyPath`]: '@body().Zones',
            [`${P}keyName`]: 'Name',
            [`${P}valueName`]: 'Details',
          },
          { section: 'response' },
        ),
        policy('updatenextlink', { [`${P}nextLinkPropertyName`]: '@odata.nextLink' }),
      ],
      res,
      { ...ctx, rewriteNextLink: (l) => `https://behalf/next?u=${encodeURIComponent(l)}` },
    );
    const body = out.response.body as Record<string, unknown>;
    assert.deepEqual(body.Zones, [{ Name: 'DE', Details: { name: 'Germany' } }]);
    assert.equal(body['@odata.nextLink'], 'https://behalf/next?u=https%3A%2F%2Fgraph%2Fnext%3Fx%3D1');
    assert.equal(res.body['@odata.nextLink'], 'https://graph/next?x=1', 'the input is untouched');
    const nextLink = [policy('updatenextlink', { [`${P}nextLinkPropertyName`]: '@odata.nextLink' })];
    const owned = { status: 200, headers: {}, body: { '@odata.nextLink': 'https://graph/next?x=2' } };
    const inPlace = await applyResponsePolicies(
      nextLink,
      owned,
      { ...ctx, rewriteNextLink: () => 'https://behalf/next' },
      { bodyOwned: true },
    );
    assert.equal(inPlace.response.body, owned.body, 'an owned body is changed in place, not copied');
    assert.equal(owned.body['@odata.nextLink'], 'https://behalf/next');
    const moved = await applyRequestPolicies(
      [
        policy('moveproperties', {
          [`${P}srcParentPath`]: '@body()',
          [`${P}srcSubPath`]: 'customProperties',
          [`${P}dstParentPath`]: '@body()',
          [`${P}dstSubPath`]: 'null',
          [`${P}copyOnlySubProperties`]: 'true',
        }),
      ],
      { ...request, body: { id: 1, customProperties: { extA: 'a' } } },
      ctx,
    );
    assert.deepEqual(moved.body, { id: 1, extA: 'a' });
    const status = await applyResponsePolicies(
      [policy('setconnectionstatustounauthenticated', { [`${P}statusCode`]: 401 })],
      { status: 401, headers: {}, body: null },
      ctx,
    );
    assert.equal(status.connectionUnauthenticated, true);
  });

  it('pollingtrigger computes the next state from @{triggerBody()…} (MicrosoftGraphSecurity)', async () => {
    const p = policy('pollingtrigger', {
      [`${P}triggerConfig`]: {
        $filter: 'lastModifiedDateTime gt @{triggerBody().value[0].lastModifiedDateTime}',
      },
      [`${P}triggerDataPath`]: '@triggerBody().value',
    });
    const out = await applyResponsePolicies(
      [p],
      { status: 200, headers: {}, body: { value: [{ lastModifiedDateTime: '2024-01-01' }] } },
      ctx,
    );
    assert.deepEqual(out.trigger, {
      items: [{ lastModifiedDateTime: '2024-01-01' }],
      state: { $filter: 'lastModifiedDateTime gt 2024-01-01' },
    });
    const next = await applyRequestPolicies(
      [p],
      { ...request, method: 'GET' },
      { ...ctx, triggerState: out.trigger!.state },
    );
    assert.equal(next.query.$filter, 'lastModifiedDateTime gt 2024-01-01');
  });

  it('string transforms: stringreplace, stringtoarray, encodepropertyvalue, convertarraytoobject', async () => {
    const out = await applyRequestPolicies(
      [
        policy('stringreplace', {
          [`${P}propertyParentPath`]: '@body()',
          [`${P}propertySubPath`]: 'title',
          [`${P}sourceString`]: ' ',
          [`${P}replacementString`]: '_',
          [`${P}newPropertyPath`]: '@body().title',
        }),
        policy('stringtoarray', {
          [`${P}propertyParentPath`]: '@body().tags',
          [`${P}delimiterList`]: ',;',
          [`${P}childPropertyName`]: 'tag',
          [`${P}newPropertyPath`]: '@body().tagList',
        }),
        policy('encodepropertyvalue', {
          [`${P}propertyParentPath`]: '@body().secret',
          [`${P}newPropertyPath`]: '@body().encoded',
        }),
        policy('convertarraytoobject', {
          [`${P}propertyParentPath`]: '@body().items',
          [`${P}keyWithinCollectionPath`]: 'id',
          [`${P}newPropertyPath`]: '@body().byId',
        }),
      ],
      { ...request, body: { title: 'a b c', tags: 'x,y;z', secret: 'hi', items: [{ id: 'k', v: 1 }] } },
      ctx,
    );
    const body = out.body as Record<string, unknown>;
    assert.equal(body.title, 'a_b_c');
    assert.deepEqual(body.tagList, [{ tag: 'x' }, { tag: 'y' }, { tag: 'z' }]);
    assert.equal(body.encoded, Buffer.from('hi').toString('base64'));
    assert.deepEqual(body.byId, { k: { v: 1 } });
  });

  it('an unknown template fails clearly instead of being skipped', async () => {
    await assert.rejects(
      applyRequestPolicies([policy('rewritebody', {})], request, ctx),
      (e: unknown) => e instanceof PolicyError && /rewritebody/.test(e.message),
    );
  });
});

describe('responsePolicyTargets and bodyMayHold: relaying a body no response policy would change, unparsed', () => {
  const nextLink = policy('updatenextlink', { [`${P}nextLinkPropertyName`]: '@odata.nextLink' });
  const untouched = (policies: PolicyInstance[], body: string, status = 200) => {
    const targets = responsePolicyTargets(policies, 'CreateItem', status >= 400);
    return targets !== undefined && !bodyMayHold(Buffer.from(body), targets);
  };

  it('updatenextlink leaves a one-page list alone, and acts when the link is there', () => {
    assert.equal(untouched([nextLink], '{"value":[{"id":"1","subject":"Hi"}]}'), true);
    assert.equal(untouched([nextLink], '{"value":[],"@odata.nextLink":"https://graph/next"}'), false);
    // The name can hide behind an escape: such a body is parsed.
    assert.equal(untouched([nextLink], '{"value":[],"\\u0040odata.nextLink":"https://graph/next"}'), false);
    assert.equal(untouched([nextLink], '{"value":[{"url":"https:\\/\\/x"}]}'), false);
    assert.equal(untouched([], '{"anything":1}'), true, 'no policy at all');
  });

  it('a policy that names nothing, or an unknown template, counts as changing the response', () => {
    const unauthenticated = policy(
      'setconnectionstatustounauthenticated',
      { [`${P}statusCode`]: 401 },
      { section: 'failure' },
    );
    assert.equal(untouched([nextLink, unauthenticated], '{"error":{}}', 401), false);
    // A response-only template runs on every response (it checks the status itself).
    assert.equal(untouched([nextLink, unauthenticated], '{"value":[]}', 200), false);
    assert.equal(untouched([policy('nosuchtemplate', {})], '{}'), false);
  });

  it('agrees with applyResponsePolicies: when it says untouched, the policies leave the body as it was', async () => {
    const bodies = [
      '{"value":[1,2]}',
      '{"value":[],"@odata.nextLink":"https://graph/next"}',
      '[1,2,3]',
      '"text"',
    ];
    for (const text of bodies) {
      const out = await applyResponsePolicies(
        [nextLink],
        { status: 200, headers: {}, body: JSON.parse(text) as unknown },
        { ...ctx, rewriteNextLink: () => 'https://behalf/next' },
      );
      const changed = JSON.stringify(out.response.body) !== JSON.stringify(JSON.parse(text));
      if (untouched([nextLink], text)) assert.equal(changed, false, text);
    }
  });
});
