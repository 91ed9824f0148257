import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { importPackage } from '../../connectors/import-package.ts';
import type { McpConnectorAuth } from './package-builder.ts';
import { endpointOf, mcpConnectorPackage, splitUrl } from './package-builder.ts';

const url = new URL('https://tools.contoso.test:8443/api/v1/mcp');

function build(auth: McpConnectorAuth) {
  const files = mcpConnectorPackage({ url, displayName: 'Contoso Tools', description: 'Team tools.', auth });
  const imported = importPackage(files);
  const errors = imported.diagnostics.filter((d) => d.severity === 'error');
  assert.deepEqual(errors, [], JSON.stringify(errors));
  assert.ok(imported.model);
  const definition = JSON.parse(files.apiDefinition!.text) as {
    securityDefinitions: Record<string, Record<string, unknown>>;
  };
  return { files, model: imported.model, definition };
}

describe('the connector package of an MCP server', () => {
  it('is one POST operation marked x-ms-agentic-protocol, at the server URL', () => {
    const { model } = build({ kind: 'none' });
    assert.equal(model.isMcp, true);
    assert.equal(model.operations.length, 1);
    const op = model.operations[0]!;
    assert.equal(op.method, 'post');
    assert.equal(op.operationId, 'InvokeMCP');
    assert.equal(op.agenticProtocol, 'mcp-streamable-1.0');
    assert.equal(endpointOf(model.baseUrl!, op.path).toString(), url.toString());
    assert.deepEqual(splitUrl(new URL('https://h/mcp')), { basePath: '/', path: '/mcp' });
  });

  it('an API key becomes a secure connection parameter and an apiKey security scheme', () => {
    const { model, definition } = build({ kind: 'apiKey', in: 'query', name: 'code' });
    assert.deepEqual(definition.securityDefinitions, {
      api_key: { type: 'apiKey', in: 'query', name: 'code' },
    });
    assert.equal(model.connectionParameters['api_key']?.type, 'securestring');
  });

  it('an Entra-shaped server becomes an aad connector with on-behalf-of', () => {
    const { model, definition } = build({
      kind: 'aad',
      clientId: '0f0f0f0f-0000-4000-8000-000000000001',
      loginUri: 'https://localhost:7443',
      tenantId: 'c0ffee00-0000-4000-8000-000000000000',
      resourceUri: 'api://contoso-tools',
      scopes: ['api://contoso-tools/Tools.Read'],
    });
    const settings = model.connectionParameters['token']?.oauth;
    assert.ok(settings);
    assert.equal(definition.securityDefinitions['oauth2_auth']?.['type'], 'oauth2');
    assert.equal(settings.identityProvider, 'aad');
    assert.equal(settings.isOnBehalfOfLoginSupported, true);
    assert.equal(settings.customParameters['enableOnbehalfOfLogin'], 'true');
    assert.equal(settings.customParameters['resourceUri'], 'api://contoso-tools');
    assert.deepEqual(settings.scopes, ['api://contoso-tools/Tools.Read']);
  });

  it('another OAuth server becomes a generic oauth2 connector with its endpoints', () => {
    const { model, definition } = build({
      kind: 'oauth2',
      clientId: 'client-1',
      authorizationUrl: 'https://as.example/authorize',
      tokenUrl: 'https://as.example/token',
      refreshUrl: 'https://as.example/token',
      scopes: ['tools'],
    });
    const settings = model.connectionParameters['token']?.oauth;
    assert.ok(settings);
    assert.equal(definition.securityDefinitions['oauth2_auth']?.['tokenUrl'], 'https://as.example/token');
    assert.equal(settings.identityProvider, 'oauth2');
    assert.equal(settings.customParameters['tokenUrl'], 'https://as.example/token');
    // RFC 8707: the sign-in and every token request name the MCP server (MCP authorization 2025-11-25).
    assert.equal(settings.customParameters['resourceUri'], url.href);
    assert.equal(settings.clientId, 'client-1');
  });
});
