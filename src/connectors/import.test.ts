import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { exportPackage } from './export.ts';
import { importPackage } from './import-package.ts';
import type { PackageFiles } from './package.ts';

const def = (value: unknown) => ({
  name: 'apiDefinition.swagger.json',
  text: JSON.stringify(value, null, 2),
});
const props = (value: unknown) => ({ name: 'apiProperties.json', text: JSON.stringify(value, null, 2) });

function swagger(paths: unknown, extra: Record<string, unknown> = {}) {
  return {
    swagger: '2.0',
    info: { title: 'T', version: '1.0' },
    host: 'api.example.com',
    basePath: '/',
    schemes: ['https'],
    paths,
    ...extra,
  };
}

function aad(
  customParameters: Record<string, string>,
  properties: Record<string, unknown> = {},
  extra: Record<string, unknown> = {},
) {
  return {
    properties: {
      iconBrandColor: '#123456',
      connectionParameters: {
        token: {
          type: 'oauthSetting',
          oAuthSettings: {
            identityProvider: 'aad',
            clientId: 'c',
            scopes: [],
            redirectMode: 'GlobalPerConnector',
            properties: { IsFirstParty: 'False', ...properties },
            customParameters: Object.fromEntries(
              Object.entries(customParameters).map(([k, v]) => [k, { value: v }]),
            ),
            ...extra,
          },
        },
      },
    },
  };
}

const ok = { get: { operationId: 'Get', responses: { 200: { description: 'ok' } } } };
const rules = (files: PackageFiles) =>
  importPackage(files).diagnostics.map((d) => `${d.severity} ${d.rule} ${d.pointer}`);

describe('importer and validator', () => {
  it('imports OpenAPI 3: servers, securitySchemes → aad connection parameter, requestBody', () => {
    const imported = importPackage({
      apiDefinition: def({
        openapi: '3.0.3',
        info: { title: 'Mail', version: '1' },
        servers: [{ url: 'https://{region}.mail.example/api', variables: { region: { default: 'eu' } } }],
        components: {
          securitySchemes: {
            entra: {
              type: 'oauth2',
              flows: {
                authorizationCode: {
                  authorizationUrl:
                    'https://login.microsoftonline.com/contoso.onmicrosoft.com/oauth2/v2.0/authorize',
                  tokenUrl: 'https://login.microsoftonline.com/contoso.onmicrosoft.com/oauth2/v2.0/token',
                  scopes: { 'api://mail/Mail.Read': 'read' },
                },
              },
            },
          },
        },
        security: [{ entra: ['api://mail/Mail.Read'] }],
        paths: {
          '/messages': {
            post: {
              operationId: 'Send',
              requestBody: {
                required: true,
                content: { 'application/json': { schema: { type: 'object' } } },
              },
              responses: { 200: { description: 'ok' } },
            },
          },
        },
      }),
    });
    assert.deepEqual(
      imported.diagnostics.filter((d) => d.severity !== 'info'),
      [],
    );
    const model = imported.model!;
    assert.equal(model.format, 'openapi3');
    assert.equal(model.baseUrl, 'https://eu.mail.example/api');
    const oauth = model.connectionParameters.token!.oauth!;
    assert.equal(oauth.identityProvider, 'aad');
    assert.deepEqual(oauth.customParameters, {
      loginUri: 'https://login.microsoftonline.com',
      tenantId: 'contoso.onmicrosoft.com',
      resourceUri: 'api://mail',
    });
    assert.deepEqual(
      model.operations[0]!.parameters.map((p) => [p.in, p.required]),
      [['body', true]],
    );
    assert.ok(exportPackage(imported).apiProperties);
  });

  it('imports the MCP sample (YAML) and marks the agentic operation', () => {
    const yaml =
      "swagger: '2.0'\ninfo: { title: Contoso, description: MCP, version: 1.0.0 }\nhost: contoso.com\nbasePath: /\nschemes: [ https ]\npaths:\n  /mcp:\n    post:\n      summary: Contoso\n      x-ms-agentic-protocol: mcp-streamable-1.0\n      operationId: InvokeMCP\n      responses: { '200': { description: Success } }\n";
    const imported = importPackage({
      apiDefinition: { name: 'apiDefinition.swagger.yaml', text: yaml },
      apiProperties: props({ properties: { iconBrandColor: '#123456', connectionParameters: {} } }),
    });
    assert.deepEqual(
      imported.diagnostics.filter((d) => d.severity === 'error'),
      [],
    );
    assert.equal(imported.model!.isMcp, true);
    assert.equal(exportPackage(imported).apiDefinition.text, yaml);
  });

  it('resolves $refs within the package and reports missing targets and cycles', () => {
    const files = {
      apiDefinition: def(
        swagger(
          {
            '/a': {
              get: {
                operationId: 'A',
                parameters: [
                  { $ref: '#/parameters/loop1' },
                  { $ref: 'shared.json#/parameters/q' },
                  { $ref: '#/parameters/nowhere' },
                ],
                responses: { 200: { description: 'ok', schema: { $ref: '#/definitions/Node' } } },
              },
            },
          },
          {
            parameters: { loop1: { $ref: '#/parameters/loop2' }, loop2: { $ref: '#/parameters/loop1' } },
            definitions: { Node: { type: 'object', properties: { next: { $ref: '#/definitions/Node' } } } },
          },
        ),
      ),
      apiProperties: props({ properties: { iconBrandColor: '#123456', connectionParameters: {} } }),
      extra: [
        {
          name: 'shared.json',
          text: JSON.stringify({ parameters: { q: { name: 'q', in: 'query', type: 'string' } } }),
        },
      ],
    };
    const found = rules(files);
    assert.ok(found.includes('error ref.cycle /paths/~1a/get/parameters/0/$ref'));
    assert.ok(found.includes('error ref.missing-target /paths/~1a/get/parameters/2/$ref'));
    // A recursive schema (Node.next → Node) is legal and not a cycle of references.
    assert.equal(found.filter((r) => r.includes('definitions')).length, 0);
    assert.deepEqual(
      importPackage(files).model!.operations[0]!.parameters.map((p) => p.name),
      ['q'],
    );
  });

  it('accepts typos and case variants with a warning at the exact key', () => {
    const found = rules({
      apiDefinition: def(
        swagger({
          '/a': {
            get: {
              operationId: 'A',
              parameters: [{ name: 'x', in: 'query', type: 'string', 'x-ms-visibilty': 'Advanced' }],
              responses: {},
            },
          },
        }),
      ),
      apiProperties: props(
        aad(
          { LoginUri: 'https://login.microsoftonline.com', resourceUri: 'api://x' },
          {},
          { redirectMode: 'globalperconnector' },
        ),
      ),
    });
    assert.ok(found.includes('warning normalise.typo /paths/~1a/get/parameters/0/x-ms-visibilty'));
    assert.ok(found.includes('warning normalise.case /paths/~1a/get/parameters/0/x-ms-visibility'));
    assert.ok(
      found.includes(
        'warning normalise.case /properties/connectionParameters/token/oAuthSettings/customParameters/LoginUri',
      ),
    );
    assert.ok(
      found.includes(
        'warning normalise.case /properties/connectionParameters/token/oAuthSettings/redirectMode',
      ),
    );
    assert.ok(!found.some((r) => r.startsWith('error')));
  });

  it('checks what breaks SSO later: OBO flag without support, resource slash mismatch, missing resourceUri', () => {
    const found = rules({
      apiDefinition: def(swagger({ '/a': ok })),
      apiProperties: props(
        aad(
          { resourceUri: 'api://app/', enableOnbehalfOfLogin: 'true' },
          { AzureActiveDirectoryResourceId: 'api://app' },
        ),
      ),
    });
    assert.ok(
      found.includes(
        'error auth.obo-not-supported /properties/connectionParameters/token/oAuthSettings/customParameters/enableOnbehalfOfLogin',
      ),
    );
    assert.ok(
      found.includes(
        'warning auth.resource-trailing-slash /properties/connectionParameters/token/oAuthSettings/customParameters/resourceUri',
      ),
    );
    const fine = rules({
      apiDefinition: def(swagger({ '/a': ok })),
      apiProperties: props(
        aad(
          { resourceUri: 'api://app', enableOnbehalfOfLogin: 'true' },
          { IsOnbehalfofLoginSupported: true },
        ),
      ),
    });
    assert.ok(!fine.some((r) => r.startsWith('error')), fine.join('\n'));
    const noResource = rules({ apiDefinition: def(swagger({ '/a': ok })), apiProperties: props(aad({})) });
    assert.ok(
      noResource.includes(
        'error auth.custom-parameter-required /properties/connectionParameters/token/oAuthSettings/customParameters',
      ),
    );
  });

  it('checks operations and parameters', () => {
    const found = rules({
      apiDefinition: def(
        swagger({
          '/a/{id}': {
            get: {
              operationId: 'Dup',
              parameters: [
                { name: 'id', in: 'path', type: 'string' },
                { name: 'v', in: 'query', type: 'string', required: true, 'x-ms-visibility': 'internal' },
                { name: 'c', in: 'cookie', type: 'string' },
              ],
              responses: {},
            },
            post: { operationId: 'dup', responses: {} },
          },
        }),
      ),
      apiProperties: props({
        properties: { iconBrandColor: '#123456', connectionParameters: {}, scriptOperations: ['dup'] },
      }),
      script: 'public class Script : ScriptBase {}',
    });
    assert.ok(found.includes('error parameter.path-required /paths/~1a~1{id}/get/parameters/0/required'));
    assert.ok(found.includes('error parameter.internal-required-default /paths/~1a~1{id}/get/parameters/1'));
    assert.ok(found.includes('error parameter.location /paths/~1a~1{id}/get/parameters/2/in'));
    assert.ok(found.includes('error operation.id-duplicate /paths/~1a~1{id}/post/operationId'));
    assert.ok(found.includes('error parameter.path-undeclared /paths/~1a~1{id}/post'));
    assert.ok(found.includes('warning script.custom-code '));
  });

  it('flags operations routed to script.csx as needing custom code', () => {
    const imported = importPackage({
      apiDefinition: def(swagger({ '/a': ok, '/b': { get: { operationId: 'B', responses: {} } } })),
      apiProperties: props({
        properties: { iconBrandColor: '#123456', connectionParameters: {}, scriptOperations: ['B'] },
      }),
      script: '// C#',
    });
    assert.deepEqual(
      imported.model!.operations.map((o) => [o.operationId, o.needsCustomCode]),
      [
        ['Get', false],
        ['B', true],
      ],
    );
  });
});
