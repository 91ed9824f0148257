import assert from 'node:assert/strict';
import { it } from 'node:test';
import { ConnectionError } from '../connections/errors.ts';
import type { Operation, Parameter } from '../connectors/model.ts';
import { buildRequest } from './request-builder.ts';

const p = (name: string, where: Parameter['in'], extra: Partial<Parameter> = {}): Parameter => ({
  name,
  in: where,
  required: false,
  type: 'string',
  visibility: '',
  summary: undefined,
  description: undefined,
  pointer: '',
  ...extra,
});
const listMessages: Operation = {
  operationId: 'ListMessages',
  method: 'get',
  path: '/users/{user}/messages',
  summary: '',
  description: '',
  visibility: '',
  deprecated: false,
  trigger: undefined,
  agenticProtocol: undefined,
  requiresUserConfirmation: false,
  responses: {},
  needsCustomCode: false,
  pointer: '',
  parameters: [
    p('user', 'path', { required: true }),
    p('unread', 'query', { type: 'boolean' }),
    p('top', 'query', { type: 'integer', default: 10 }),
    p('api-version', 'query', { visibility: 'internal', default: '2024-01-01' }),
    p('x-trace', 'header'),
  ],
};

it('builds path, query and header from arguments, with defaults and internal values', () => {
  const request = buildRequest(listMessages, 'https://mail.example/api/', {
    user: 'me/x',
    unread: true,
    'x-trace': 't1',
  });
  assert.equal(request.method, 'GET');
  assert.equal(request.url, 'https://mail.example/api/users/me%2Fx/messages');
  assert.deepEqual(request.query, { unread: 'true', top: '10', 'api-version': '2024-01-01' });
  assert.deepEqual(request.headers, { 'x-trace': 't1' });
});

it('x-ms-url-encoding: double encodes a path value twice; single (the default) once', () => {
  const getFile: Operation = {
    ...listMessages,
    operationId: 'GetFile',
    path: '/drives/{drive}/files/{path}',
    parameters: [
      p('drive', 'path', { required: true }),
      p('path', 'path', { required: true, urlEncoding: 'double' }),
    ],
  };
  const request = buildRequest(getFile, 'https://files.example', {
    drive: 'a b',
    path: 'docs/q1 report.pdf',
  });
  assert.equal(request.url, 'https://files.example/drives/a%20b/files/docs%252Fq1%2520report.pdf');
});

it('answers 400 naming the parameter for a missing, mistyped or unknown argument; internal values cannot be overridden', () => {
  const rejects = (args: Record<string, unknown>, parameter: string, pattern: RegExp) =>
    assert.throws(
      () => buildRequest(listMessages, 'https://m', args),
      (e: unknown) =>
        e instanceof ConnectionError &&
        e.status === 400 &&
        e.details.parameter === parameter &&
        pattern.test(e.message),
    );
  rejects({}, 'user', /'user' \(path\) is required; the definition expects string/);
  rejects({ user: 'me', top: 'ten' }, 'top', /wrong type \(string\); the definition expects integer/);
  rejects({ user: 'me', folder: 'x' }, 'folder', /no parameter 'folder'/);
  const request = buildRequest(listMessages, 'https://m', { user: 'me', 'api-version': 'evil' });
  assert.equal(request.query['api-version'], '2024-01-01');
});
