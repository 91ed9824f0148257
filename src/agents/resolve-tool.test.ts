import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { connectorFrom, contosoMail } from '../../test/support/agents-fixtures.ts';
import { resolveTool, ToolConfigError } from './resolve-tool.ts';
import { validateArguments } from './validate-arguments.ts';

const mail = contosoMail();

describe('tools from connector operations', () => {
  it('takes name and description from the operation, overridable as in the seed', () => {
    const plain = resolveTool(
      { name: 'get-emails', connectorId: 'mail', operationId: 'GetEmails', identity: 'delegated' },
      mail.model,
      mail.document,
    );
    assert.equal(plain.title, 'Get emails');
    assert.match(plain.description, /most recent emails of a folder/);
    const seed = resolveTool(
      {
        name: 'get-10-latest-emails',
        connectorId: 'mail',
        operationId: 'GetEmails',
        identity: 'delegated',
        title: 'Get 10 latest emails',
        description: 'Gets the 10 most recent emails from the Inbox for the signed-in user.',
      },
      mail.model,
      mail.document,
    );
    assert.equal(seed.title, 'Get 10 latest emails');
    assert.equal(seed.description, 'Gets the 10 most recent emails from the Inbox for the signed-in user.');
  });

  it('hides fixed values (Folder = Inbox, unread only, Top = 10) and always sends them', () => {
    const tool = resolveTool(
      {
        name: 'get-10-latest-emails',
        connectorId: 'mail',
        operationId: 'GetEmails',
        identity: 'delegated',
        fixedValues: { folder: 'inbox', $filter: 'isRead eq false', $top: 10 },
      },
      mail.model,
      mail.document,
    );
    assert.deepEqual(Object.keys(tool.inputSchema.properties as object), ['$select']);
    assert.deepEqual(tool.presetArguments, { folder: 'inbox', $filter: 'isRead eq false', $top: 10 });
    assert.equal(tool.requiresConfirmation, false);
    assert.equal(tool.isWrite, false);
  });

  it('keeps enums, bounds and labels of non-body parameters', () => {
    const tool = resolveTool(
      { name: 't', connectorId: 'mail', operationId: 'GetEmails', identity: 'delegated' },
      mail.model,
      mail.document,
    );
    const props = tool.inputSchema.properties as Record<string, Record<string, unknown>>;
    assert.deepEqual(props.folder!.enum, ['inbox', 'sentitems', 'drafts', 'deleteditems', 'archive']);
    assert.equal(props.$top!.type, 'integer');
    assert.equal(props.$top!.maximum, 1000);
    assert.equal(props.$top!.title, 'Top');
    assert.deepEqual(tool.inputSchema.required, ['folder']);
    assert.equal(
      Object.keys(props.folder!).some((k) => k.startsWith('x-')),
      false,
    );
  });

  it('inlines $ref body schemas instead of dropping the tool', () => {
    const tool = resolveTool(
      { name: 'send', connectorId: 'mail', operationId: 'SendEmail', identity: 'delegated' },
      mail.model,
      mail.document,
    );
    const body = (tool.inputSchema.properties as Record<string, Record<string, unknown>>).body!;
    assert.equal(JSON.stringify(body).includes('$ref'), false);
    const recipients = (
      (body.properties as Record<string, Record<string, unknown>>).message!.properties as Record<
        string,
        Record<string, unknown>
      >
    ).toRecipients!;
    assert.equal((recipients.items as Record<string, unknown>).type, 'object');
  });

  it('requires confirmation for an app-only write and for x-ms-require-user-confirmation', () => {
    const appOnly = resolveTool(
      { name: 's', connectorId: 'mail', operationId: 'SendEmail', identity: 'app-only', connectionId: 'c1' },
      mail.model,
      mail.document,
    );
    assert.equal(appOnly.isWrite, true);
    assert.equal(appOnly.requiresConfirmation, true);
    const delegated = resolveTool(
      { name: 's', connectorId: 'mail', operationId: 'SendEmail', identity: 'delegated' },
      mail.model,
      mail.document,
    );
    assert.equal(delegated.requiresConfirmation, false);
    const flagged = connectorFrom({
      swagger: '2.0',
      info: { title: 'Flags', version: '1' },
      host: 'example.test',
      paths: {
        '/x': {
          get: {
            operationId: 'Peek',
            'x-ms-require-user-confirmation': true,
            responses: { 200: { description: 'ok' } },
          },
        },
      },
    });
    assert.equal(
      resolveTool(
        { name: 'p', connectorId: 'f', operationId: 'Peek', identity: 'delegated' },
        flagged.model,
        flagged.document,
      ).requiresConfirmation,
      true,
    );
  });

  it('hides internal parameters with their defaults, keeps unions and survives recursive refs', () => {
    const source = connectorFrom({
      swagger: '2.0',
      info: { title: 'Shapes', version: '1' },
      host: 'example.test',
      definitions: {
        Node: {
          type: 'object',
          properties: {
            name: { type: 'string' },
            children: { type: 'array', items: { $ref: '#/definitions/Node' } },
          },
        },
      },
      paths: {
        '/shapes': {
          post: {
            operationId: 'Shapes',
            parameters: [
              {
                name: 'api-version',
                in: 'query',
                type: 'string',
                required: true,
                default: '2024-01-01',
                'x-ms-visibility': 'internal',
              },
              {
                name: 'body',
                in: 'body',
                required: true,
                schema: {
                  type: 'object',
                  properties: {
                    value: { anyOf: [{ type: 'string' }, { type: 'integer' }] },
                    tree: { $ref: '#/definitions/Node' },
                  },
                },
              },
            ],
            responses: { 200: { description: 'ok' } },
          },
        },
      },
    });
    const tool = resolveTool(
      { name: 'shapes', connectorId: 's', operationId: 'Shapes', identity: 'delegated' },
      source.model,
      source.document,
    );
    assert.deepEqual(Object.keys(tool.inputSchema.properties as object), ['body']);
    assert.deepEqual(tool.presetArguments, { 'api-version': '2024-01-01' });
    const body = (tool.inputSchema.properties as Record<string, Record<string, unknown>>).body!;
    const props = body.properties as Record<string, Record<string, unknown>>;
    assert.equal((props.value!.anyOf as unknown[]).length, 2);
    const children = (props.tree!.properties as Record<string, Record<string, unknown>>).children!;
    assert.match(String((children.items as Record<string, unknown>).description), /Recursive/);
    assert.deepEqual(
      validateArguments(tool.inputSchema, {
        body: { value: 3, tree: { name: 'a', children: [{ name: 'b' }] } },
      }),
      [],
    );
    assert.equal(validateArguments(tool.inputSchema, { body: { value: true } }).length, 1);
  });

  it('refuses a fixed value for a parameter the operation does not take, or an unknown operation', () => {
    assert.throws(
      () =>
        resolveTool(
          {
            name: 't',
            connectorId: 'mail',
            operationId: 'GetEmails',
            identity: 'delegated',
            fixedValues: { folderr: 'inbox' },
          },
          mail.model,
          mail.document,
        ),
      (e: unknown) => e instanceof ToolConfigError && e.code === 'UnknownParameter',
    );
    assert.throws(
      () =>
        resolveTool(
          { name: 't', connectorId: 'mail', operationId: 'Nope', identity: 'delegated' },
          mail.model,
          mail.document,
        ),
      (e: unknown) => e instanceof ToolConfigError && e.code === 'OperationNotFound',
    );
  });
});

describe('argument validation', () => {
  const tool = resolveTool(
    { name: 't', connectorId: 'mail', operationId: 'GetEmails', identity: 'delegated' },
    mail.model,
    mail.document,
  );
  it('accepts good arguments', () =>
    assert.deepEqual(validateArguments(tool.inputSchema, { folder: 'inbox', $top: 5 }), []));
  it('names each problem by pointer', () => {
    const problems = validateArguments(tool.inputSchema, { folder: 'spam', $top: 'five', extra: 1 });
    assert.deepEqual(problems.map((p) => p.path).sort(), ['/$top', '/extra', '/folder']);
  });
  it('reports a missing required argument and a non-object', () => {
    assert.deepEqual(validateArguments(tool.inputSchema, {}), [{ path: '/folder', message: 'is required' }]);
    assert.equal(validateArguments(tool.inputSchema, [1])[0]!.path, '/');
  });
  it('checks bounds', () => {
    assert.equal(validateArguments(tool.inputSchema, { folder: 'inbox', $top: 0 })[0]!.path, '/$top');
  });
});
