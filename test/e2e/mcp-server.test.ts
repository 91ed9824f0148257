import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { ElicitRequestSchema, McpError } from '@modelcontextprotocol/sdk/types.js';
import type { TestIssuer, TestUser } from '../support/easyauth-test-issuer.ts';
import { startTestIssuer } from '../support/easyauth-test-issuer.ts';
import type { McpHarness } from '../support/agents-mcp-harness.ts';
import { startMcpHarness } from '../support/agents-mcp-harness.ts';

const alice: TestUser = {
  oid: '11111111-1111-4111-8111-111111111111',
  upn: 'alice@contoso.test',
  name: 'Alice Adams',
};
const bob: TestUser = {
  oid: '22222222-2222-4222-8222-222222222222',
  upn: 'bob@contoso.test',
  name: 'Bob Brown',
};
const carol: TestUser = {
  oid: '33333333-3333-4333-8333-333333333333',
  upn: 'carol@contoso.test',
  name: 'Carol',
};

describe('MCP server per agent (official SDK client, Streamable HTTP)', () => {
  let issuer: TestIssuer;
  let harness: McpHarness;
  let endpoint: string;
  const clients: Client[] = [];

  before(async () => {
    issuer = await startTestIssuer();
    harness = await startMcpHarness(issuer);
    endpoint = `${harness.url}/mcp/admin-agent`;
    harness.connected.add(alice.oid);
    harness.connected.add(bob.oid);
  });
  after(async () => {
    await Promise.all(clients.map((c) => c.close()));
    await harness.close();
    await issuer.close();
  });

  const tokenFor = (user: TestUser, aud = endpoint) =>
    issuer.accessToken({ version: '2.0', aud, user, scp: 'user_impersonation' });

  async function connect(
    user: TestUser,
    capabilities: Record<string, unknown> = {},
    aud?: string,
  ): Promise<Client> {
    const client = new Client({ name: 'behalf-test', version: '1.0.0' }, { capabilities });
    const transport = new StreamableHTTPClientTransport(new URL(endpoint), {
      requestInit: { headers: { authorization: `Bearer ${await tokenFor(user, aud)}` } },
    });
    await client.connect(transport);
    clients.push(client);
    return client;
  }

  it('answers an anonymous request with 401 and resource_metadata; the metadata names the authorization server', async () => {
    const response = await fetch(endpoint, {
      method: 'POST',
      headers: { 'content-type': 'application/json', accept: 'application/json, text/event-stream' },
      body: JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'initialize', params: {} }),
    });
    assert.equal(response.status, 401);
    const challenge = response.headers.get('www-authenticate') ?? '';
    const metadataUrl = /resource_metadata="([^"]+)"/.exec(challenge)?.[1];
    assert.equal(metadataUrl, `${harness.url}/.well-known/oauth-protected-resource/mcp/admin-agent`);
    const metadata = (await (await fetch(metadataUrl!)).json()) as Record<string, unknown>;
    assert.equal(metadata.resource, endpoint);
    assert.deepEqual(metadata.authorization_servers, [`${issuer.url}/${issuer.tenantId}/v2.0`]);
  });

  it('refuses a token issued for another audience, and an app-only token', async () => {
    await assert.rejects(connect(alice, {}, 'api://be4a1f00-c044-4a00-8000-000000000002'));
    const other = await fetch(endpoint, {
      method: 'POST',
      headers: {
        authorization: `Bearer ${await tokenFor(alice, `${harness.url}/mcp/other-agent`)}`,
        'content-type': 'application/json',
        accept: 'application/json, text/event-stream',
      },
      body: '{}',
    });
    assert.equal(other.status, 401);
    assert.match(other.headers.get('www-authenticate') ?? '', /error="invalid_token"/);
    const appOnly = await issuer.accessToken({
      version: '2.0',
      aud: endpoint,
      appOnly: { appId: 'daemon', oid: '44444444-4444-4444-8444-444444444444' },
      roles: ['x'],
    });
    const refused = await fetch(endpoint, {
      method: 'POST',
      headers: {
        authorization: `Bearer ${appOnly}`,
        'content-type': 'application/json',
        accept: 'application/json, text/event-stream',
      },
      body: '{}',
    });
    assert.equal(refused.status, 401);
  });

  it('Alice lists the tools and gets her unread mail with the fixed values; the client sees no downstream token', async () => {
    const client = await connect(alice);
    const { tools } = await client.listTools();
    const tool = tools.find((t) => t.name === 'get-10-latest-emails');
    assert.ok(tool);
    assert.equal(tool.title, 'Get 10 latest emails');
    assert.deepEqual(Object.keys(tool.inputSchema.properties ?? {}), ['$select']);
    const result = await client.callTool({ name: 'get-10-latest-emails', arguments: {} });
    assert.notEqual(result.isError, true);
    assert.match(JSON.stringify(result.content), /Quarterly numbers/);
    assert.doesNotMatch(JSON.stringify(result), /eyJ[\w-]+\.[\w-]+\./, 'no JWT in the result');
    const call = harness.calls.at(-1)!;
    assert.equal(call.caller.userObjectId, alice.oid);
    assert.deepEqual(call.invocation.arguments, { folder: 'inbox', $filter: 'isRead eq false', $top: 10 });
  });

  it('Bob gets the permission message', async () => {
    const client = await connect(bob);
    const result = await client.callTool({ name: 'get-10-latest-emails', arguments: {} });
    assert.equal(result.isError, true);
    assert.match(JSON.stringify(result.content), /You might not have access to this mailbox/);
  });

  it('a person without a connection gets a URL elicitation, and the retried call works after consent', async () => {
    const client = await connect(carol, { elicitation: { form: {}, url: {} } });
    const error = await client.callTool({ name: 'get-10-latest-emails', arguments: {} }).then(
      () => undefined,
      (e: unknown) => e,
    );
    assert.ok(error instanceof McpError);
    assert.equal(error.code, -32042);
    const elicitation = (error.data as { elicitations: { mode: string; url: string }[] }).elicitations[0]!;
    assert.equal(elicitation.mode, 'url');
    assert.equal(elicitation.url, `${issuer.url}/consent/mail?user=${carol.oid}`);
    harness.connected.add(carol.oid);
    const retried = await client.callTool({ name: 'get-10-latest-emails', arguments: {} });
    assert.match(JSON.stringify(retried.content), /Quarterly numbers/);
    harness.connected.delete(carol.oid);
  });

  it('a client without elicitation gets the consent card as the tool result', async () => {
    const client = await connect(carol);
    const result = await client.callTool({ name: 'get-10-latest-emails', arguments: {} });
    assert.equal(result.isError, true);
    assert.match(JSON.stringify(result.content), /consent\/mail\?user=/);
  });

  it('an app-only write asks for confirmation (form elicitation) and runs only when confirmed', async () => {
    const client = await connect(alice, { elicitation: { form: {} } });
    let answer: 'accept' | 'decline' = 'decline';
    const prompts: string[] = [];
    client.setRequestHandler(ElicitRequestSchema, (request) => {
      prompts.push(String(request.params.message));
      return answer === 'accept' ? { action: 'accept', content: { confirm: true } } : { action: 'decline' };
    });
    const args = {
      body: { message: { subject: 'Hi', toRecipients: [{ emailAddress: { address: 'bob@contoso.test' } }] } },
    };
    const before = harness.calls.length;
    const declined = await client.callTool({ name: 'send-email', arguments: args });
    assert.equal(declined.isError, true);
    assert.equal(harness.calls.length, before, 'nothing ran');
    assert.match(prompts[0]!, /app-only/);
    answer = 'accept';
    const confirmed = await client.callTool({ name: 'send-email', arguments: args });
    assert.notEqual(confirmed.isError, true);
    assert.equal(harness.calls.at(-1)!.invocation.identity, 'app-only');
  });

  it('validates arguments before anything runs and answers malformed requests with JSON-RPC errors', async () => {
    const client = await connect(alice);
    const before = harness.calls.length;
    const invalid = await client.callTool({
      name: 'get-10-latest-emails',
      arguments: { $select: 5, nope: 1 },
    });
    assert.equal(invalid.isError, true);
    assert.equal(harness.calls.length, before);
    await assert.rejects(
      client.callTool({ name: 'no-such-tool', arguments: {} }),
      (e: unknown) => e instanceof McpError && e.code === -32602,
    );
    const malformed = await fetch(endpoint, {
      method: 'POST',
      headers: {
        authorization: `Bearer ${await tokenFor(alice)}`,
        'content-type': 'application/json',
        accept: 'application/json, text/event-stream',
      },
      body: '{"jsonrpc": "2.0", "id": 1, "method": ',
    });
    assert.equal(malformed.status, 400);
    assert.equal(((await malformed.json()) as { error: { code: number } }).error.code, -32700);
  });

  it("refuses one person's session to another person's token", async () => {
    const client = await connect(alice);
    const sessionId = (client.transport as StreamableHTTPClientTransport).sessionId!;
    const response = await fetch(endpoint, {
      method: 'POST',
      headers: {
        authorization: `Bearer ${await tokenFor(bob)}`,
        'mcp-session-id': sessionId,
        'content-type': 'application/json',
        accept: 'application/json, text/event-stream',
      },
      body: JSON.stringify({ jsonrpc: '2.0', id: 9, method: 'tools/list' }),
    });
    assert.equal(response.status, 404);
  });

  it('run history shows both users with their identities', async () => {
    const runs = await harness.history.list(
      { tenantId: issuer.tenantId, userObjectId: 'x', isAdministrator: true },
      { agent: 'admin-agent' },
    );
    const alices = runs.filter((r) => r.userObjectId === alice.oid && r.outcome === 'succeeded');
    const bobs = runs.filter((r) => r.userObjectId === bob.oid);
    assert.ok(
      alices.some(
        (r) => r.identity === 'delegated' && r.connectionId === `conn-${alice.oid}` && r.channel === 'mcp',
      ),
    );
    assert.ok(alices.some((r) => r.identity === 'app-only'));
    assert.deepEqual([...new Set(bobs.map((r) => r.outcome))], ['forbidden']);
    assert.equal(bobs[0]!.userName, 'bob@contoso.test');
  });
});
