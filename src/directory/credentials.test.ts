import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { KIND } from './deps.ts';
import { DirectoryError } from './errors.ts';
import type { Application } from './model.ts';
import { testDirectory } from './testing.ts';

async function rejects(promise: Promise<unknown>, code: string, message: RegExp) {
  await assert.rejects(promise, (error: unknown) => {
    assert.ok(error instanceof DirectoryError, String(error));
    assert.equal(error.code, code);
    assert.match(error.message, message);
    return true;
  });
}

async function setup() {
  const t = testDirectory();
  const tenant = await t.directory.createTenant({ displayName: 'Contoso', domains: ['contoso.test'] });
  const app = await t.directory.createApplication(tenant.id, { displayName: 'Connector' });
  return { ...t, tenant, app };
}

describe('password credentials', () => {
  it('show the secret once, store only its hash and a 3-character hint, default to two years', async () => {
    const { directory, store, tenant, app, clock } = await setup();
    const created = await directory.addPassword(tenant.id, app.id, { displayName: 'ci' });
    assert.equal(created.secretText.length, 40);
    assert.equal(created.hint, created.secretText.slice(0, 3));
    assert.equal(created.startDateTime, new Date(clock.now()).toISOString());
    assert.equal(created.endDateTime, '2028-01-01T00:00:00.000Z');

    const raw = JSON.stringify(await store.get(KIND.application, app.id));
    assert.ok(!raw.includes(created.secretText), 'the stored application never holds the secret');
    const stored = (await directory.getApplication(tenant.id, app.id))!;
    assert.equal(stored.passwordCredentials[0]?.keyId, created.keyId);
    assert.equal('secretText' in stored.passwordCredentials[0]!, false);

    assert.deepEqual(await directory.verifyClientSecret(app.appId, created.secretText), {
      status: 'valid',
      keyId: created.keyId,
    });
    assert.deepEqual(await directory.verifyClientSecret(app.appId, created.secretText + 'x'), {
      status: 'invalid',
    });
    assert.deepEqual(await directory.verifyClientSecret(crypto.randomUUID(), created.secretText), {
      status: 'no_application',
    });
    clock.set(Date.parse('2028-01-01T00:00:00Z'));
    assert.equal((await directory.verifyClientSecret(app.appId, created.secretText)).status, 'expired');
  });

  it('refuses an end before the start, in the past, or more than two years out', async () => {
    const { directory, tenant, app } = await setup();
    await rejects(
      directory.addPassword(tenant.id, app.id, {
        startDateTime: '2026-06-01T00:00:00Z',
        endDateTime: '2026-05-01T00:00:00Z',
      }),
      'Request_BadRequest',
      /after startDateTime/,
    );
    await rejects(
      directory.addPassword(tenant.id, app.id, { endDateTime: '2031-01-01T00:00:00Z' }),
      'Request_BadRequest',
      /at most 2 years/,
    );
    await rejects(
      directory.addPassword(tenant.id, app.id, { endDateTime: 'tomorrow' }),
      'Request_BadRequest',
      /ISO 8601/,
    );
    const ok = await directory.addPassword(tenant.id, app.id, { endDateTime: '2026-03-01T00:00:00Z' });
    assert.equal(ok.endDateTime, '2026-03-01T00:00:00.000Z');
  });

  it('removePassword removes exactly that credential', async () => {
    const { directory, tenant, app } = await setup();
    const a = await directory.addPassword(tenant.id, app.id, {});
    const b = await directory.addPassword(tenant.id, app.id, {});
    await directory.removePassword(tenant.id, app.id, a.keyId);
    assert.equal((await directory.verifyClientSecret(app.appId, a.secretText)).status, 'invalid');
    assert.equal((await directory.verifyClientSecret(app.appId, b.secretText)).status, 'valid');
    await rejects(
      directory.removePassword(tenant.id, app.id, a.keyId),
      'Request_BadRequest',
      /No password credential/,
    );
  });
});

describe('federated identity credentials', () => {
  const base = {
    issuer: 'https://login.behalf.test/tenant/v2.0',
    subject: 'connector-managed-identity',
    audiences: ['api://AzureADTokenExchange'],
  };

  it('enforce one audience, unique issuer+subject, the name format and at most 20', async () => {
    const { directory, tenant, app } = await setup();
    const created = await directory.addFederatedCredential(tenant.id, app.id, { name: 'connector', ...base });
    assert.equal(created.description, null);
    await rejects(
      directory.addFederatedCredential(tenant.id, app.id, {
        name: 'two',
        ...base,
        subject: 's2',
        audiences: ['a', 'b'],
      }),
      'Request_BadRequest',
      /exactly one/,
    );
    await rejects(
      directory.addFederatedCredential(tenant.id, app.id, { name: 'again', ...base }),
      'Request_MultipleObjectsWithSameKeyValue',
      /same issuer and subject/,
    );
    await rejects(
      directory.addFederatedCredential(tenant.id, app.id, { name: 'has space', ...base, subject: 'x' }),
      'Request_BadRequest',
      /letters, digits/,
    );
    for (let i = 1; i < 20; i++)
      await directory.addFederatedCredential(tenant.id, app.id, {
        name: `fic-${i}`,
        ...base,
        subject: `s-${i}`,
      });
    await rejects(
      directory.addFederatedCredential(tenant.id, app.id, { name: 'fic-21', ...base, subject: 's-21' }),
      'Request_BadRequest',
      /at most 20/,
    );
    const stored = (await directory.getApplication(tenant.id, app.id)) as Application;
    assert.equal(stored.federatedIdentityCredentials.length, 20);
  });

  it('keeps the name immutable and finds a credential by id or name', async () => {
    const { directory, tenant, app } = await setup();
    const created = await directory.addFederatedCredential(tenant.id, app.id, { name: 'connector', ...base });
    assert.equal((await directory.getFederatedCredential(tenant.id, app.id, 'connector')).id, created.id);
    await rejects(
      directory.updateFederatedCredential(tenant.id, app.id, created.id, { name: 'renamed' }),
      'Request_BadRequest',
      /cannot be changed/,
    );
    const updated = await directory.updateFederatedCredential(tenant.id, app.id, created.id, {
      subject: 'new-subject',
    });
    assert.equal(updated.subject, 'new-subject');
    await directory.removeFederatedCredential(tenant.id, app.id, 'connector');
    await rejects(
      directory.getFederatedCredential(tenant.id, app.id, created.id),
      'Request_ResourceNotFound',
      /does not exist/,
    );
  });
});
