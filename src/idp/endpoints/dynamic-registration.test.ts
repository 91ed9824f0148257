import assert from 'node:assert/strict';
import { test } from 'node:test';
import { parseRegistrationRequest, RegistrationError, registrationResponse } from './dynamic-registration.ts';

const refused = (body: unknown, code: RegistrationError['code'], pattern: RegExp) =>
  assert.throws(
    () => parseRegistrationRequest(body),
    (error: unknown) =>
      error instanceof RegistrationError &&
      error.status === 400 &&
      error.code === code &&
      pattern.test(error.message),
  );

test('an MCP client registration becomes a public client with exactly its redirect URIs', () => {
  const request = parseRegistrationRequest({
    client_name: 'MCP Inspector',
    redirect_uris: ['http://localhost:6274/oauth/callback', 'https://app.example/cb', 'com.example.app:/cb'],
    grant_types: ['authorization_code', 'refresh_token'],
    response_types: ['code'],
    token_endpoint_auth_method: 'none',
    scope: 'openid',
  });
  assert.deepEqual(request.redirectUris, [
    'http://localhost:6274/oauth/callback',
    'https://app.example/cb',
    'com.example.app:/cb',
  ]);
  const response = registrationResponse(request, 'client-guid', 1_700_000_000);
  assert.equal(response.token_endpoint_auth_method, 'none');
  assert.equal(response.client_id, 'client-guid');
  assert.equal('client_secret' in response, false);
  assert.deepEqual(response.grant_types, ['authorization_code', 'refresh_token']);
});

test('defaults: a nameless client is "MCP client", authorization_code only', () => {
  const request = parseRegistrationRequest({ redirect_uris: ['http://127.0.0.1:9000/cb'] });
  assert.equal(request.clientName, 'MCP client');
  assert.deepEqual(request.grantTypes, ['authorization_code']);
});

test('redirect URIs: required, absolute, no fragment, http only on loopback, no script schemes', () => {
  refused({}, 'invalid_redirect_uri', /required/);
  refused({ redirect_uris: [] }, 'invalid_redirect_uri', /required/);
  refused({ redirect_uris: 'https://a.example/cb' }, 'invalid_client_metadata', /array/);
  refused({ redirect_uris: ['/relative'] }, 'invalid_redirect_uri', /absolute/);
  refused({ redirect_uris: ['https://a.example/cb#x'] }, 'invalid_redirect_uri', /fragment/);
  refused({ redirect_uris: ['http://evil.example/cb'] }, 'invalid_redirect_uri', /localhost/);
  refused({ redirect_uris: ['javascript:alert(1)'] }, 'invalid_redirect_uri', /not allowed/);
  refused({ redirect_uris: ['data:text/html,hi'] }, 'invalid_redirect_uri', /not allowed/);
  refused({ redirect_uris: [42] }, 'invalid_redirect_uri', /non-empty string/);
  refused(
    { redirect_uris: Array.from({ length: 11 }, (_, i) => `https://a.example/${i}`) },
    'invalid_redirect_uri',
    /At most 10/,
  );
});

test('only public clients, code flow grants and the code response type are registered', () => {
  const ok = { redirect_uris: ['https://a.example/cb'] };
  refused({ ...ok, token_endpoint_auth_method: 'client_secret_basic' }, 'invalid_client_metadata', /public/);
  refused({ ...ok, grant_types: ['client_credentials'] }, 'invalid_client_metadata', /client_credentials/);
  refused({ ...ok, grant_types: ['implicit'] }, 'invalid_client_metadata', /implicit/);
  refused({ ...ok, response_types: ['token'] }, 'invalid_client_metadata', /code/);
  refused({ ...ok, client_name: '' }, 'invalid_client_metadata', /client_name/);
  refused([ok], 'invalid_client_metadata', /JSON object/);
  refused(null, 'invalid_client_metadata', /JSON object/);
});

test('the error body is RFC 7591 §3.2.2 and not cached', () => {
  try {
    parseRegistrationRequest({ redirect_uris: ['ftp://x/cb'] });
    assert.fail('accepted');
  } catch (error) {
    assert.ok(error instanceof RegistrationError);
    assert.deepEqual(Object.keys(error.body() as object), ['error', 'error_description']);
    assert.equal(error.headers()['cache-control'], 'no-store');
  }
});
