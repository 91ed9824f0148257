import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { startGatewayDemo } from '../support/gateway-demo.ts';
import type { GatewayDemo } from '../support/gateway-demo.ts';

/**
 * The gateway on the demo tenant, end to end over HTTPS: a real Behalf (its token service signs every
 * token, ROPC with Behalf Chat), the Contoso Mail connector package of examples/ imported into the
 * registry, the Contoso Mail API checking the tokens the gateway obtains on-behalf-of Alice.
 */
let env: GatewayDemo;
let connectorId: string;
const used: string[] = [];
const UNREAD = { folder: 'inbox', $filter: 'isRead eq false' };

before(async () => {
  env = await startGatewayDemo();
  const pkg = env.mailPackage();
  const secret = env.demo.apps['Contoso Mail Connector']!.clientSecret!;
  used.push(secret, env.demo.apps['Behalf Chat']!.clientSecret!, ...env.demo.users.map((u) => u.password));
  const created = await env.behalf.connections.registry.create(
    env.demo.tenantId,
    {
      apiDefinition: { name: 'apiDefinition.swagger.json', text: pkg.apiDefinition },
      apiProperties: { name: 'apiProperties.json', text: pkg.apiProperties },
    },
    secret,
  );
  connectorId = created.connector.id;
});
after(async () => env?.close());

async function token(user: 'alice' | 'bob' | 'admin') {
  const value = await env.userToken(user);
  used.push(value);
  return value;
}

const invoke = (who: string, connection: string, operation: string, args: unknown) =>
  env.call('POST', `/apim/${connectorId}/${connection}/${operation}`, who, args);

describe('gateway on the demo tenant (Contoso Mail, SSO by on-behalf-of)', () => {
  it('Alice reads her unread mail through the pre-authorized, admin-consented connector', async () => {
    const alice = await token('alice');
    const result = await invoke(alice, 'default', 'GetEmails', UNREAD);
    assert.equal(result.status, 200, result.text);
    const messages = result.body.value as {
      isRead: boolean;
      toRecipients: { emailAddress: { address: string } }[];
    }[];
    assert.ok(messages.length > 0);
    for (const message of messages) {
      assert.equal(message.isRead, false);
      assert.ok(message.toRecipients.some((r) => r.emailAddress.address === 'alice@contoso.test'));
    }
  });
});
