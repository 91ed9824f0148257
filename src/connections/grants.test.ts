import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { systemClock } from '../core/clock.ts';
import type { OAuthSettings } from '../connectors/model.ts';
import { importPackage } from '../connectors/import-package.ts';
import type { WorkloadIdentityIssuer } from './acquisition/workload-identity.ts';
import type { LoadedConnector } from './connector-source.ts';
import { createGrants } from './grants.ts';
import type { ConnectionData } from './model.ts';
import type { OutboundHttp, OutboundRequest } from './outbound-http.ts';

/**
 * RFC 8707 on the token requests the connections part makes: an `oauth2` connector that names a
 * resource (an MCP server) sends it when redeeming a code and on every refresh; `aad` never does
 * (Entra's v2 endpoints answer AADSTS901002 to `resource`).
 */
const MCP_SERVER = 'https://tools.example/mcp';

function capturingHttp(): { http: OutboundHttp; forms: URLSearchParams[] } {
  const forms: URLSearchParams[] = [];
  const http: OutboundHttp = {
    async request(request: OutboundRequest) {
      forms.push(new URLSearchParams(String(request.body)));
      const body = JSON.stringify({
        access_token: 'at',
        refresh_token: 'rt2',
        expires_in: 3600,
        token_type: 'Bearer',
      });
      return { status: 200, headers: {}, body: Buffer.from(body), attempts: 1 };
    },
    close: async () => undefined,
  };
  return { http, forms };
}

function oauth2Connector(customParameters: Record<string, { value: string }>): LoadedConnector {
  const files = {
    apiDefinition: {
      name: 'apiDefinition.swagger.json',
      text: JSON.stringify({
        swagger: '2.0',
        info: { title: 'Tools', version: '1' },
        host: 'tools.example',
        paths: {},
        securityDefinitions: {
          oauth2_auth: {
            type: 'oauth2',
            flow: 'accessCode',
            authorizationUrl: 'https://as.example/authorize',
            tokenUrl: 'https://as.example/token',
            scopes: {},
          },
        },
      }),
    },
    apiProperties: {
      name: 'apiProperties.json',
      text: JSON.stringify({
        properties: {
          connectionParameters: {
            token: {
              type: 'oauthSetting',
              oAuthSettings: {
                identityProvider: 'oauth2',
                clientId: 'client-1',
                scopes: ['tools'],
                redirectMode: 'GlobalPerConnector',
                customParameters: {
                  authorizationUrl: { value: 'https://as.example/authorize' },
                  tokenUrl: { value: 'https://as.example/token' },
                  refreshUrl: { value: 'https://as.example/token' },
                  ...customParameters,
                },
              },
            },
          },
        },
      }),
    },
  };
  const imported = importPackage(files);
  assert.ok(imported.model, JSON.stringify(imported.diagnostics));
  return { id: 'tools', tenantId: 't1', version: 1, model: imported.model, securityDefinitions: {} };
}

function grantsFor(connector: LoadedConnector) {
  const { http, forms } = capturingHttp();
  const grants = createGrants({
    http,
    clock: systemClock,
    issuer: {} as WorkloadIdentityIssuer,
    connectors: {
      load: async () => connector,
      clientSecret: async () => 'client-secret',
      workloadSubject: async () => 'unused',
    },
  });
  const settings = connector.model.connectionParameters['token']!.oauth!;
  return { grants, forms, settings };
}

const connection = { id: 'c1', tenantId: 't1', connectorId: 'tools', mode: 'per-user' } as ConnectionData;

describe('RFC 8707 resource on token requests', () => {
  it('an oauth2 connector naming a resource sends it on code redemption and on refresh', async () => {
    const { grants, forms, settings } = grantsFor(oauth2Connector({ resourceUri: { value: MCP_SERVER } }));
    assert.equal(grants.endpoints('t1', 'tools', settings).resource, MCP_SERVER);
    await grants.redeemCode({
      tenantId: 't1',
      connectorId: 'tools',
      settings,
      code: 'code-1',
      codeVerifier: 'v',
      redirectUri: 'https://behalf.example/redirect/tools',
      scopes: ['tools'],
    });
    await grants.renew(connection, 'rt1');
    assert.deepEqual(
      forms.map((f) => [f.get('grant_type'), f.get('resource')]),
      [
        ['authorization_code', MCP_SERVER],
        ['refresh_token', MCP_SERVER],
      ],
    );
  });

  it('without one, and for aad, no resource parameter is sent', async () => {
    const { grants, forms, settings } = grantsFor(oauth2Connector({}));
    await grants.renew(connection, 'rt1');
    assert.equal(forms[0]?.has('resource'), false);
    const aad: OAuthSettings = {
      ...settings,
      identityProvider: 'aad',
      customParameters: { resourceUri: 'api://contoso-mail', loginUri: 'https://login.example' },
    };
    assert.equal(grants.endpoints('t1', 'tools', aad).resource, undefined);
  });
});
