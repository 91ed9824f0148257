import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { atPath, readDynamicValues } from './dynamic-values.ts';
import { importPackage } from './import-package.ts';

const ROOT = new URL('../../../shared/fixtures/power-platform-connectors/', import.meta.url).pathname;

function operationsOf(name: string) {
  const text = readFileSync(join(ROOT, name, 'apiDefinition.swagger.json'), 'utf8');
  return importPackage({ apiDefinition: { name: 'apiDefinition.swagger.json', text } }).model!.operations;
}

test('x-ms-dynamic-values of a real connector: lookup operation, argument from another parameter, paths', () => {
  const get = operationsOf('AzureIoTCentral').find((o) => o.operationId === 'DeviceTemplates_Get_V1')!;
  const template = get.parameters.find((p) => p.name === 'template_id')!;
  assert.deepEqual(template.dynamicValues, {
    operationId: 'DeviceTemplates_List_V1',
    parameters: { application: { reference: 'application' } },
    itemsPath: 'value',
    valuePath: '@id',
    titlePath: 'displayName',
  });
});

test('x-ms-dynamic-list of a real connector: itemsPath, itemValuePath and itemTitlePath', () => {
  const run = operationsOf('Cradl AI').find((o) => o.operationId === 'CreateRun')!;
  assert.deepEqual(run.parameters.find((p) => p.name === 'WorkflowId')?.dynamicValues, {
    operationId: 'GetWorkflows',
    parameters: {},
    itemsPath: 'workflows',
    valuePath: 'workflowId',
    titlePath: 'name',
  });
  const list = readDynamicValues({
    'x-ms-dynamic-list': {
      operationId: 'GetModels',
      itemsPath: 'models',
      itemValuePath: 'modelId',
      itemTitlePath: 'name',
      parameters: { code: { parameterReference: 'body/object' }, kind: { value: 'all' } },
    },
  });
  assert.deepEqual(list, {
    operationId: 'GetModels',
    parameters: { code: { reference: 'body/object' }, kind: { value: 'all' } },
    itemsPath: 'models',
    valuePath: 'modelId',
    titlePath: 'name',
  });
});

test('literal arguments, and the forms Behalf cannot run, read as expected', () => {
  const literal = readDynamicValues({
    'x-ms-dynamic-values': { operationId: 'List', parameters: { top: 50, mode: 'all' } },
  });
  assert.deepEqual(literal?.parameters, { top: { value: 50 }, mode: { value: 'all' } });
  assert.equal(literal?.itemsPath, '');
  assert.equal(literal?.valuePath, undefined);
  assert.equal(
    readDynamicValues({ 'x-ms-dynamic-values': { builtInOperation: 'AadGraph.GetUsers' } }),
    undefined,
  );
  assert.equal(readDynamicValues({ 'x-ms-dynamic-values': { capability: 'file-picker' } }), undefined);
  assert.equal(readDynamicValues({ 'x-ms-dynamic-values': 'GetThings' }), undefined);
  assert.equal(readDynamicValues({}), undefined);
});

test('x-ms-url-encoding: double is kept on path parameters only', () => {
  const text = JSON.stringify({
    swagger: '2.0',
    info: { title: 'T', version: '1' },
    host: 'api.example.com',
    paths: {
      '/files/{path}': {
        get: {
          operationId: 'GetFile',
          parameters: [
            { name: 'path', in: 'path', required: true, type: 'string', 'x-ms-url-encoding': 'double' },
            { name: 'q', in: 'query', type: 'string', 'x-ms-url-encoding': 'double' },
          ],
          responses: { '200': { description: 'ok' } },
        },
      },
      '/single/{id}': {
        get: {
          operationId: 'GetSingle',
          parameters: [
            { name: 'id', in: 'path', required: true, type: 'string', 'x-ms-url-encoding': 'single' },
          ],
          responses: { '200': { description: 'ok' } },
        },
      },
    },
  });
  const ops = importPackage({ apiDefinition: { name: 'apiDefinition.swagger.json', text } }).model!
    .operations;
  const [path, query] = ops.find((o) => o.operationId === 'GetFile')!.parameters;
  assert.equal(path?.urlEncoding, 'double');
  assert.equal(query?.urlEncoding, undefined);
  assert.equal(ops.find((o) => o.operationId === 'GetSingle')!.parameters[0]?.urlEncoding, undefined);
});

test('atPath follows slash paths and stops at anything that is not an object', () => {
  const body = { data: { items: [1, 2] }, value: 'x' };
  assert.deepEqual(atPath(body, 'data/items'), [1, 2]);
  assert.equal(atPath(body, ''), body);
  assert.equal(atPath(body, undefined), body);
  assert.equal(atPath(body, 'value/deeper'), undefined);
  assert.equal(atPath(body, 'missing/x'), undefined);
});
