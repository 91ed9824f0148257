import { readFileSync } from 'node:fs';
import type { Command } from 'commander';
import { UsageError } from '../api-client.ts';
import { action, group, withConnection } from '../directory-command.ts';

// GraphClient.call prefixes /v1.0.
const PATH = '/behalf/agents';
const FIELDS = ['name', 'displayName', 'description', 'version', 'updatedAt'];
const TOOL_COLUMNS = ['name', 'title', 'identity', 'requiresConfirmation', 'connectorId', 'operationId'];

const at = (name: string) => `${PATH}/${encodeURIComponent(name)}`;

function readDefinition(file: string): unknown {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (error) {
    throw new UsageError(`cannot read ${file}: ${(error as Error).message}`);
  }
  try {
    return JSON.parse(text.replace(/^\uFEFF/, '')) as unknown;
  } catch (error) {
    throw new UsageError(`${file} is not JSON: ${(error as Error).message}`);
  }
}

/** `behalf agent …`: agents (named groups of connector operations as tools) through the management API. */
export function registerAgentCommand(program: Command): void {
  const agent = group(program, 'agent', 'Manage agents: their tools, MCP endpoint and chat.');

  withConnection(agent.command('list').description('List the agents of the tenant')).action(
    action(async ({ api, out }) => {
      const { value } = await api.call<{ value: Record<string, unknown>[] }>('GET', PATH);
      out.list(value, ['name', 'displayName', 'version']);
    }),
  );

  withConnection(
    agent
      .command('create <file>')
      .description(
        'Create an agent from a JSON file: {"displayName", "instructions"?, "tools": [{"connectorId", "operationId", "title"?, "fixedValues"?, "identity"?}]}',
      ),
  ).action(
    action(async ({ api, out }, file: string) => {
      const created = await api.call<Record<string, unknown>>('POST', PATH, readDefinition(file));
      out.item(created, FIELDS);
    }),
  );

  withConnection(agent.command('show <name>').description('Show an agent')).action(
    action(async ({ api, out }, name: string) => {
      out.item(await api.call<Record<string, unknown>>('GET', at(name)), [...FIELDS, 'instructions']);
    }),
  );

  withConnection(agent.command('delete <name>').description('Delete an agent')).action(
    action(async ({ api, out }, name: string) => {
      await api.call('DELETE', at(name));
      out.message(`Deleted agent ${name}.`, { deleted: name });
    }),
  );

  withConnection(
    agent
      .command('tools <name>')
      .description('List the tools of an agent as MCP clients and the chat see them'),
  ).action(
    action(async ({ api, out }, name: string) => {
      const { value } = await api.call<{ value: Record<string, unknown>[] }>('GET', `${at(name)}/tools`);
      out.list(value, TOOL_COLUMNS);
    }),
  );
}
