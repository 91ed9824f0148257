import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { manualClock } from '../core/clock.ts';
import { contosoMail, createMemoryStore } from '../../test/support/agents-fixtures.ts';
import { createAgentRepository } from './agent-repository.ts';
import { parseDirectCommand } from './direct-mode.ts';

const mail = contosoMail();

function repository() {
  const clock = manualClock(0);
  return createAgentRepository({
    store: createMemoryStore({ clock }),
    clock,
    loadConnector: async (_t, id) => (id === 'mail' ? mail : undefined),
  });
}

const adminAgent = {
  displayName: 'Admin agent',
  tools: [{ connectorId: 'mail', operationId: 'GetEmails', title: 'Get 10 latest emails' }],
};

describe('agents', () => {
  it('names the agent and its tools from their display names, delegated by default', async () => {
    const agents = repository();
    const agent = await agents.create('t1', adminAgent);
    assert.equal(agent.name, 'admin-agent');
    assert.equal(agent.tools[0]!.name, 'get-10-latest-emails');
    assert.equal(agent.tools[0]!.identity, 'delegated');
    assert.equal((await agents.tools(agent))[0]!.title, 'Get 10 latest emails');
  });

  it('refuses a duplicate name, an unknown operation, an app-only tool without a connection', async () => {
    const agents = repository();
    await agents.create('t1', adminAgent);
    await assert.rejects(agents.create('t2', adminAgent), { status: 409 });
    await assert.rejects(
      agents.create('t1', { displayName: 'X', tools: [{ connectorId: 'mail', operationId: 'Nope' }] }),
      (e: { status: number; message: string }) => e.status === 400 && /no operation "Nope"/.test(e.message),
    );
    await assert.rejects(
      agents.create('t1', { displayName: 'Y', tools: [{ connectorId: 'nope', operationId: 'GetEmails' }] }),
      /connector "nope" does not exist/,
    );
    await assert.rejects(
      agents.create('t1', {
        displayName: 'Z',
        tools: [{ connectorId: 'mail', operationId: 'SendEmail', identity: 'app-only' }],
      }),
      /connectionId/,
    );
    await assert.rejects(
      agents.create('t1', {
        displayName: 'W',
        tools: [{ name: 'a b', connectorId: 'mail', operationId: 'GetEmails' }],
      }),
      { status: 400 },
    );
  });

  it('keeps tenants apart and replaces with compare-and-swap', async () => {
    const agents = repository();
    const created = await agents.create('t1', adminAgent);
    await assert.rejects(agents.getInTenant('t2', 'admin-agent'), { status: 404 });
    await assert.rejects(agents.delete('t2', 'admin-agent'), { status: 404 });
    const replaced = await agents.replace(
      't1',
      'admin-agent',
      { ...adminAgent, instructions: 'Be brief.' },
      created.version,
    );
    assert.equal(replaced.instructions, 'Be brief.');
    await assert.rejects(agents.replace('t1', 'admin-agent', adminAgent, created.version), { status: 409 });
    assert.deepEqual(
      (await agents.list('t1')).map((a) => a.name),
      ['admin-agent'],
    );
    await agents.delete('t1', 'admin-agent');
    assert.equal(await agents.get('admin-agent'), undefined);
  });

  it('direct mode reads values by schema type, quoted strings and JSON', async () => {
    const agents = repository();
    const tools = await agents.tools(
      await agents.create('t1', {
        displayName: 'D',
        tools: [{ name: 'get', connectorId: 'mail', operationId: 'GetEmails' }],
      }),
    );
    assert.deepEqual(parseDirectCommand('/get folder=inbox $top=5 $select="subject, from"', tools), {
      kind: 'run',
      tool: 'get',
      arguments: { folder: 'inbox', $top: 5, $select: 'subject, from' },
    });
    assert.equal(parseDirectCommand('/nope', tools).kind, 'error');
    assert.equal(parseDirectCommand('/get $select="open', tools).kind, 'error');
  });
});
