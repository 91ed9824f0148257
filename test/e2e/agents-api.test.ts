import assert from 'node:assert/strict';
import type { AddressInfo } from 'node:net';
import { after, before, describe, it } from 'node:test';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { createAgentRepository } from '../../src/agents/agent-repository.ts';
import { createChatRuntime } from '../../src/agents/chat-runtime.ts';
import { noLlm } from '../../src/agents/llm/provider.ts';
import type { Caller } from '../../src/agents/ports.ts';
import { createRunHistory } from '../../src/agents/run-history.ts';
import { createToolRunner } from '../../src/agents/tool-runner.ts';
import { systemClock } from '../../src/core/clock.ts';
import { cryptoRandom } from '../../src/core/ids.ts';
import { silentLogger } from '../../src/core/logger.ts';
import { missingToken } from '../../src/easyauth/errors.ts';
import { createTokenValidator } from '../../src/easyauth/validator.ts';
import { createAgentRoutes } from '../../src/http/agents/agent-routes.ts';
import { createHttpServer } from '../../src/http/server.ts';
import { contosoMail, createMemoryStore } from '../support/agents-fixtures.ts';
import type { TestIssuer, TestUser } from '../support/easyauth-test-issuer.ts';
import { startTestIssuer } from '../support/easyauth-test-issuer.ts';

const API = 'api://be4a1f00-c044-4a00-8000-000000000002';
const alice: TestUser = {
  oid: '11111111-1111-4111-8111-111111111111',
  upn: 'alice@contoso.test',
  name: 'Alice',
};
const bob: TestUser = { oid: '22222222-2222-4222-8222-222222222222', upn: 'bob@contoso.test', name: 'Bob' };
const admin: TestUser = {
  oid: '99999999-9999-4999-8999-999999999999',
  upn: 'admin@contoso.test',
  name: 'Admin',
};

describe('agents management, chat and run-history API over HTTP', () => {
  let issuer: TestIssuer;
  let http: FastifyInstance;
  let base: string;

  before(async () => {
    issuer = await startTestIssuer();
    const store = createMemoryStore();
    const mail = contosoMail();
    const agents = createAgentRepository({
      store,
      clock: systemClock,
      loadConnector: async (_t, id) => (id === 'mail' ? mail : undefined),
    });
    const history = createRunHistory({ store, clock: systemClock, random: cryptoRandom });
    const runTool = createToolRunner({
      history,
      clock: systemClock,
      invoke: async (caller) =>
        caller.userObjectId === bob.oid
          ? { kind: 'failed', status: 403, code: 'ErrorAccessDenied', message: 'Access is denied.' }
          : {
              kind: 'ok',
              status: 200,
              body: { value: [{ subject: 'Quarterly numbers' }] },
              connectionId: 'conn-alice',
            },
    });
    const chat = createChatRuntime({
      store,
      agents,
      runTool,
      llm: noLlm,
      clock: systemClock,
      random: cryptoRandom,
    });
    const validator = createTokenValidator({ authority: issuer.authority, audiences: [API] });
    const authenticateUser = async (request: FastifyRequest): Promise<Caller> => {
      const token = /^Bearer (.+)$/.exec(request.headers.authorization ?? '')?.[1];
      if (!token) throw missingToken();
      const p = await validator.validate(token);
      return {
        tenantId: p.tid,
        userObjectId: p.oid,
        ...(p.upn ? { userPrincipalName: p.upn } : {}),
        isAdministrator: p.oid === admin.oid,
      };
    };
    http = await createHttpServer({
      logger: silentLogger,
      routes: [
        createAgentRoutes({
          agents,
          history,
          chat,
          authenticateUser,
          authorizeMaker: async (request) => {
            const caller = await authenticateUser(request);
            if (!caller.isAdministrator) throw missingToken();
            return { tenantId: caller.tenantId };
          },
        }),
      ],
    });
    await http.listen({ port: 0, host: '127.0.0.1' });
    base = `http://127.0.0.1:${(http.server.address() as AddressInfo).port}`;
  });
  after(async () => {
    await http.close();
    await issuer.close();
  });

  const call = async (user: TestUser | undefined, method: string, path: string, body?: unknown) => {
    const headers: Record<string, string> = {};
    if (user)
      headers.authorization = `Bearer ${await issuer.accessToken({ version: '2.0', aud: API, user, scp: 'user_impersonation' })}`;
    if (body !== undefined) headers['content-type'] = 'application/json';
    const response = await fetch(`${base}${path}`, {
      method,
      headers,
      ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
    });
    return {
      status: response.status,
      body: response.status === 204 ? undefined : ((await response.json()) as Record<string, unknown>),
    };
  };

  it('an administrator creates the Admin agent; a person may not; bad input gets a precise 400', async () => {
    const agent = {
      displayName: 'Admin agent',
      tools: [
        {
          connectorId: 'mail',
          operationId: 'GetEmails',
          title: 'Get 10 latest emails',
          fixedValues: { folder: 'inbox', $filter: 'isRead eq false', $top: 10 },
          resourceNoun: 'this mailbox',
        },
      ],
    };
    assert.equal((await call(alice, 'POST', '/v1.0/behalf/agents', agent)).status, 401);
    const created = await call(admin, 'POST', '/v1.0/behalf/agents', agent);
    assert.equal(created.status, 201);
    assert.equal(created.body!.name, 'admin-agent');
    const bad = await call(admin, 'POST', '/v1.0/behalf/agents', {
      displayName: 'X',
      tools: [{ connectorId: 'mail', operationId: 'GetEmails', identity: 'sudo' }],
    });
    assert.equal(bad.status, 400);
    assert.equal((bad.body!.error as { code: string }).code, 'InvalidAgent');
    const tools = await call(admin, 'GET', '/v1.0/behalf/agents/admin-agent/tools');
    assert.deepEqual(
      (tools.body!.value as { inputSchema: { properties: object } }[])[0]!.inputSchema.properties as object,
      {
        $select: {
          type: 'string',
          description: 'Comma-separated message properties to return, e.g. subject,from,receivedDateTime.',
          title: 'Select Query',
        },
      },
    );
  });

  it('chat in direct mode: Alice gets her mail, Bob the permission message; the model being absent is said plainly', async () => {
    const a = await call(alice, 'POST', '/chat/api/conversations', {
      agent: 'admin-agent',
      text: '/get-10-latest-emails',
    });
    assert.match(JSON.stringify(a.body), /Quarterly numbers/);
    const b = await call(bob, 'POST', '/chat/api/conversations', {
      agent: 'admin-agent',
      text: '/get-10-latest-emails',
    });
    assert.match(JSON.stringify(b.body), /You might not have access to this mailbox/);
    const c = await call(alice, 'POST', '/chat/api/conversations', {
      agent: 'admin-agent',
      conversationId: a.body!.id,
      text: 'What unread emails do I have?',
    });
    assert.match(JSON.stringify(c.body), /no language model is configured/);
    assert.equal((c.body!.entries as unknown[]).length, 4);
    assert.equal((await call(bob, 'GET', `/chat/api/conversations/${String(a.body!.id)}`)).status, 404);
    assert.equal(
      (await call(undefined, 'POST', '/chat/api/conversations', { agent: 'admin-agent', text: 'hi' })).status,
      401,
    );
    assert.equal(
      (await call(alice, 'POST', '/chat/api/conversations', { agent: 'admin-agent' })).status,
      400,
    );
  });

  it('run history: each person sees their own runs, an administrator sees both', async () => {
    const mine = (await call(alice, 'GET', '/v1.0/behalf/runs')).body!.value as { userObjectId: string }[];
    assert.ok(mine.length > 0 && mine.every((r) => r.userObjectId === alice.oid));
    const all = (await call(admin, 'GET', '/v1.0/behalf/runs?agent=admin-agent')).body!.value as {
      userObjectId: string;
      outcome: string;
      identity: string;
    }[];
    assert.deepEqual([...new Set(all.map((r) => `${r.userObjectId}:${r.outcome}:${r.identity}`))].sort(), [
      `${alice.oid}:succeeded:delegated`,
      `${bob.oid}:forbidden:delegated`,
    ]);
    assert.equal((await call(alice, 'GET', '/v1.0/behalf/runs?top=0')).status, 400);
  });
});
