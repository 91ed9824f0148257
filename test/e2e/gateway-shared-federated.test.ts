import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { DEMO_APP_IDS } from '../../examples/demo-apis.ts';
import { startGatewayDemo } from '../support/gateway-demo.ts';
import type { GatewayDemo, Json } from '../support/gateway-demo.ts';

/**
 * On the demo tenant: a shared (app-only) connection reads a mailbox with the connector app's own
 * application permission, and a connector whose app has no secret at all gets every token (client
 * credentials and the second on-behalf-of hop) with a federated credential that trusts Behalf's
 * workload identity, the seed's "managed identity" option.
 */
let env: GatewayDemo;

before(async () => {
  env = await startGatewayDemo();
  // The administrator's step: admin consent for the application permission Mail.Read.All.
  const { directory } = env.behalf;
  const tenantId = env.demo.tenantId;
  const mailApi = (await directory.getServicePrincipalByAppId(tenantId, DEMO_APP_IDS.mailApi))!;
  const connectorSp = (await directory.getServicePrincipalByAppId(
    tenantId,
    DEMO_APP_IDS.contosoMailConnector,
  ))!;
  const role = mailApi.appRoles.find((r) => r.value === 'Mail.Read.All')!;
  await directory.createAssignment(tenantId, {
    principalId: connectorSp.id,
    resourceId: mailApi.id,
    appRoleId: role.id,
  });
});
after(async () => env?.close());

async function importMail(secret: string | undefined) {
  return env.importMailConnector({ secret: secret ?? null });
}

async function sharedConnection(connectorId: string): Promise<string> {
  const admin = await env.userToken('admin');
  const created = await env.call('POST', '/v1.0/behalf/connections', admin, {
    connectorId,
    mode: 'shared',
    displayName: 'Shared mailbox reader',
  });
  assert.equal(created.status, 201, created.text);
  return created.body.id as string;
}

/** Every message of the mailbox was sent to or by `address` (the app-only read spans all folders). */
function assertMailboxOf(body: Json, address: string): void {
  const messages = body.value as {
    from: { emailAddress: { address: string } };
    toRecipients: { emailAddress: { address: string } }[];
  }[];
  assert.ok(messages.length > 0, JSON.stringify(body));
  for (const message of messages)
    assert.ok(
      message.from.emailAddress.address === address ||
        message.toRecipients.some((r) => r.emailAddress.address === address),
      JSON.stringify(message),
    );
}

describe('shared connections and federated credentials on the demo tenant', () => {
  it("a shared connection reads a mailbox app-only; Alice's call through it is audited as app-only", async () => {
    const connector = await importMail(env.demo.apps['Contoso Mail Connector']!.clientSecret!);
    const connectionId = await sharedConnection(connector.id);
    const alice = await env.userToken('alice');
    const read = await env.call('POST', `/apim/${connector.id}/${connectionId}/GetMailboxEmails`, alice, {
      mailbox: 'alice@contoso.test',
      $top: 3,
    });
    assert.equal(read.status, 200, read.text);
    assertMailboxOf(read.body, 'alice@contoso.test');
    // Bob has no mailbox in the demo: the API's 404 comes back with what to check.
    const none = await env.call('POST', `/apim/${connector.id}/${connectionId}/GetMailboxEmails`, alice, {
      mailbox: 'bob@contoso.test',
    });
    assert.equal(none.status, 404, none.text);
    assert.match(none.body.error.remediation ?? '', /identifiers/);

    // An app-only token has no "me": the delegated operation is refused by the API, with a remediation.
    const me = await env.call('POST', `/apim/${connector.id}/${connectionId}/GetEmails`, alice, {
      folder: 'inbox',
    });
    assert.equal(me.status, 403, me.text);
    assert.match(me.body.error.remediation ?? '', /\S{10,}/);

    const audit = await env.call('GET', `/v1.0/behalf/audit?connector=${connector.id}`, alice);
    assert.equal(audit.status, 200, audit.text);
    const entries = audit.body.value as { operationId: string; mode: string; outcome: string }[];
    const entry = entries.find((e) => e.operationId === 'GetMailboxEmails');
    assert.ok(entry, audit.text);
    assert.equal(entry.mode, 'app-only');
  });

  it('a connector app with no secret at all works through its federated credential (SSO and app-only)', async () => {
    const { directory } = env.behalf;
    const tenantId = env.demo.tenantId;
    const app = (await directory.getApplicationByAppId(DEMO_APP_IDS.contosoMailConnector))!;
    for (const password of app.passwordCredentials)
      await directory.removePassword(tenantId, app.id, password.keyId);
    const connector = await importMail(undefined);
    // The maker's step: the connector app trusts Behalf's workload identity for this connector.
    await directory.addFederatedCredential(tenantId, app.id, {
      name: 'behalf-contoso-mail',
      issuer: connector.workloadIdentity.issuer,
      subject: connector.workloadIdentity.subject,
      audiences: [connector.workloadIdentity.audience],
    });
    assert.equal((await directory.getApplicationByAppId(app.appId))!.passwordCredentials.length, 0);

    const alice = await env.userToken('alice');
    const mine = await env.call('POST', `/apim/${connector.id}/default/GetEmails`, alice, {
      folder: 'inbox',
      $filter: 'isRead eq false',
    });
    assert.equal(mine.status, 200, mine.text);
    assertMailboxOf(mine.body, 'alice@contoso.test');

    const connectionId = await sharedConnection(connector.id);
    const shared = await env.call('POST', `/apim/${connector.id}/${connectionId}/GetMailboxEmails`, alice, {
      mailbox: 'alice@contoso.test',
    });
    assert.equal(shared.status, 200, shared.text);
    assertMailboxOf(shared.body, 'alice@contoso.test');

    // The subject is per connector: another connector's subject is not trusted by this app.
    const other = await importMail(undefined);
    assert.notEqual(other.workloadIdentity.subject, connector.workloadIdentity.subject);
    const refused = await env.call(
      'POST',
      `/apim/${other.id}/default/GetEmails`,
      await env.userToken('alice'),
      {
        folder: 'inbox',
      },
    );
    assert.ok(refused.status >= 400 && refused.status < 500, refused.text);
    assert.match(refused.text, /federated|AADSTS70021|credential/i);
  });
});
