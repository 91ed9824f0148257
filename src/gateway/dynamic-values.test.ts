import assert from 'node:assert/strict';
import { it } from 'node:test';
import type { Caller } from '../connections/caller-verifier.ts';
import { ConnectionError } from '../connections/errors.ts';
import { importPackage } from '../connectors/import-package.ts';
import { resolveDynamicValues } from './dynamic-values.ts';
import type { Gateway, InvokeRequest } from './invoke.ts';

/** x-ms-dynamic-list inside a body schema, its argument taken from another body property. */
const definition = {
  swagger: '2.0',
  info: { title: 'Forms', version: '1' },
  host: 'forms.example',
  paths: {
    '/sites/{site}/lists': {
      get: {
        operationId: 'GetLists',
        parameters: [{ name: 'site', in: 'path', required: true, type: 'string' }],
        responses: { '200': { description: 'ok' } },
      },
    },
    '/items': {
      post: {
        operationId: 'CreateItem',
        parameters: [
          {
            name: 'body',
            in: 'body',
            required: true,
            schema: {
              type: 'object',
              properties: {
                site: { type: 'string' },
                list: {
                  type: 'string',
                  'x-ms-dynamic-list': {
                    operationId: 'GetLists',
                    parameters: { site: { parameterReference: 'body/site' } },
                    itemsPath: 'data/lists',
                    itemValuePath: 'id',
                    itemTitlePath: 'name',
                  },
                },
              },
            },
          },
        ],
        responses: { '200': { description: 'ok' } },
      },
    },
  },
};
const model = importPackage({
  apiDefinition: { name: 'apiDefinition.swagger.json', text: JSON.stringify(definition) },
}).model!;
const caller = { tenantId: 't', objectId: 'o' } as Caller;

function fakeGateway(body: unknown) {
  const calls: InvokeRequest[] = [];
  const gateway = {
    connectorFor: async () => ({ id: 'forms', tenantId: 't', version: 1, model, securityDefinitions: {} }),
    invoke: async (_caller: Caller, request: InvokeRequest) => {
      calls.push(request);
      return { status: 200, contentType: 'application/json', body, connectionId: 'c', correlationId: 'x' };
    },
    operationFor: async () => assert.fail('not used'),
  } as unknown as Gateway;
  return { gateway, calls };
}

it('a body property: the lookup gets its argument from another body property; items, values, titles', async () => {
  const { gateway, calls } = fakeGateway({ data: { lists: [{ id: 'l1', name: 'Tasks' }, { id: 'l2' }] } });
  const result = await resolveDynamicValues(gateway, caller, {
    connectorId: 'forms',
    operationId: 'CreateItem',
    parameter: 'body/list',
    arguments: { body: { site: 'hr' } },
  });
  assert.deepEqual(calls[0]?.operationId, 'GetLists');
  assert.deepEqual(calls[0]?.arguments, { site: 'hr' });
  assert.deepEqual(result.value, [
    { value: 'l1', title: 'Tasks' },
    { value: 'l2', title: 'l2' },
  ]);
});

it('a lookup that answers no list where the definition says is a 502 naming the path', async () => {
  const { gateway } = fakeGateway({ data: {} });
  await assert.rejects(
    resolveDynamicValues(gateway, caller, {
      connectorId: 'forms',
      operationId: 'CreateItem',
      parameter: 'body/list',
    }),
    (e: unknown) => e instanceof ConnectionError && e.status === 502 && /data\/lists/.test(e.message),
  );
});
