import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { entraIssuer } from './register.ts';
import { serverUrl } from './registration.ts';
import { McpRegistrationError } from './errors.ts';

describe('MCP server registration rules', () => {
  const behalf = (uri: string) => uri === 'https://localhost:7443';

  it('an Entra-shaped issuer is Behalf’s own or Entra ID’s v2 issuer, with its tenant', () => {
    assert.deepEqual(
      entraIssuer('https://localhost:7443/c0ffee00-0000-4000-8000-000000000000/v2.0', behalf),
      {
        loginUri: 'https://localhost:7443',
        tenantId: 'c0ffee00-0000-4000-8000-000000000000',
      },
    );
    assert.deepEqual(entraIssuer('https://login.microsoftonline.com/contoso.onmicrosoft.com/v2.0', behalf), {
      loginUri: 'https://login.microsoftonline.com',
      tenantId: 'contoso.onmicrosoft.com',
    });
    // The same shape elsewhere is just another OAuth server: no on-behalf-of is attempted against it.
    assert.equal(entraIssuer('https://auth.example/tenant-1/v2.0', behalf), undefined);
    assert.equal(entraIssuer('https://localhost:7443/tenant-1', behalf), undefined);
    assert.equal(
      entraIssuer('http://localhost:7443/tenant-1/v2.0', () => true),
      undefined,
    );
  });

  it('a server URL is absolute https (http on loopback only), without credentials, query or fragment', () => {
    assert.equal(serverUrl('https://tools.contoso.com/mcp').toString(), 'https://tools.contoso.com/mcp');
    assert.equal(serverUrl('http://localhost:8080/mcp').host, 'localhost:8080');
    for (const bad of ['mcp', 'ws://h/mcp', 'http://10.0.0.1/mcp', 'https://u:p@h/mcp', 'https://h/mcp#x'])
      assert.throws(
        () => serverUrl(bad),
        (error: unknown) => error instanceof McpRegistrationError && error.status === 400,
        bad,
      );
  });
});
