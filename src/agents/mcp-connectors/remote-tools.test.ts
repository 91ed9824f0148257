import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { connectorFrom } from '../../../test/support/agents-fixtures.ts';
import { parseAgentInput } from '../agent-model.ts';
import { resolveTool, ToolConfigError } from '../resolve-tool.ts';
import { validateArguments } from '../validate-arguments.ts';
import type { RemoteTool } from './ports.ts';
import { toolsFromRemote } from './remote-tools.ts';

const server = connectorFrom({
  swagger: '2.0',
  info: { title: 'Contoso Tools', version: '1.0.0' },
  host: 'tools.contoso.test',
  basePath: '/',
  schemes: ['https'],
  paths: {
    '/mcp': {
      post: {
        operationId: 'InvokeMCP',
        summary: 'Contoso Tools',
        'x-ms-agentic-protocol': 'mcp-streamable-1.0',
        responses: { '200': { description: 'Success' } },
      },
    },
  },
});

const REMOTE: RemoteTool[] = [
  {
    name: 'whoami',
    description: 'Who the server thinks you are.',
    inputSchema: { type: 'object', properties: {} },
    annotations: { readOnlyHint: true },
  },
  {
    name: 'file/report',
    title: 'File a report',
    inputSchema: {
      type: 'object',
      properties: { team: { type: 'string', enum: ['red', 'blue'] }, item: { $ref: '#/$defs/Item' } },
      required: ['team', 'item'],
      $defs: { Item: { type: 'object', properties: { size: { type: 'integer' } }, required: ['size'] } },
    },
  },
];

function standIn(tool: Record<string, unknown>) {
  const parsed = parseAgentInput({
    displayName: 'A',
    tools: [{ connectorId: 'tools', operationId: 'InvokeMCP', ...tool }],
  });
  assert.ok(parsed.ok);
  return resolveTool(parsed.value.tools[0]!, server.model, server.document);
}

describe('an MCP connector as agent tools', () => {
  it('resolves to a stand-in until the server lists its tools; fixed values wait for the schema', () => {
    const tool = standIn({ fixedValues: { team: 'red' }, mcpTool: 'file/report' });
    assert.equal(tool.mcp?.tool, undefined);
    assert.equal(tool.title, 'Connect to Contoso Tools');
    assert.equal(tool.name, 'filereport');
    assert.deepEqual(tool.inputSchema, { type: 'object', properties: {} });
  });

  it('naming an MCP tool on an ordinary operation is refused', () => {
    const mail = connectorFrom({
      swagger: '2.0',
      info: { title: 'M', version: '1' },
      host: 'm.test',
      paths: { '/x': { get: { operationId: 'X', responses: { '200': { description: 'ok' } } } } },
    });
    const parsed = parseAgentInput({
      displayName: 'A',
      tools: [{ connectorId: 'm', operationId: 'X', mcpTool: 'y' }],
    });
    assert.ok(parsed.ok);
    assert.throws(() => resolveTool(parsed.value.tools[0]!, mail.model, mail.document), ToolConfigError);
  });

  it('every server tool becomes a tool: names made function-safe, $ref inlined, reads and writes told apart', () => {
    const tools = toolsFromRemote(standIn({}), REMOTE);
    assert.deepEqual(
      tools.map((t) => [t.name, t.title, t.isWrite, t.mcp?.tool]),
      [
        ['whoami', 'whoami', false, 'whoami'],
        ['file-report', 'File a report', true, 'file/report'],
      ],
    );
    const report = tools[1]!;
    assert.equal(JSON.stringify(report.inputSchema).includes('$ref'), false);
    assert.deepEqual(validateArguments(report.inputSchema, { team: 'red', item: { size: 'big' } }), [
      { path: '/item/size', message: 'must be integer, got string' },
    ]);
    assert.equal(validateArguments(report.inputSchema, { team: 'red', item: { size: 2 } }).length, 0);
  });

  it('one named tool takes the maker’s name, fixed values (hidden from the schema) and confirmation rules', () => {
    const [tool, ...rest] = toolsFromRemote(
      standIn({
        mcpTool: 'file/report',
        name: 'red-report',
        fixedValues: { team: 'red' },
        identity: 'app-only',
        connectionId: 'shared-1',
      }),
      REMOTE,
    );
    assert.equal(rest.length, 0);
    assert.equal(tool!.name, 'red-report');
    assert.deepEqual(tool!.presetArguments, { team: 'red' });
    assert.deepEqual((tool!.inputSchema as { required: string[] }).required, ['item']);
    assert.equal(Object.hasOwn((tool!.inputSchema as { properties: object }).properties, 'team'), false);
    // An app-only write asks first (seed 003), as for operations.
    assert.equal(tool!.requiresConfirmation, true);
  });

  it('a fixed value for an input the server does not have drops the tool rather than calling it wrong', () => {
    assert.deepEqual(
      toolsFromRemote(standIn({ mcpTool: 'whoami', fixedValues: { team: 'red' } }), REMOTE),
      [],
    );
  });
});
