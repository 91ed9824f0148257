import type { DiagnosticSink } from './diagnostics.ts';
import type { JsonSource } from './json-source.ts';
import { isObject } from './pointer.ts';

/**
 * OpenAPI 3.0/3.1 has no apiProperties.json: the connection parameters are derived from
 * `components.securitySchemes` (the first one used by `security`, else the first declared), and the
 * backend from `servers[0]`. The result is an apiProperties document, so the rest of the pipeline and
 * the exporter treat both formats alike.
 */
export function synthesiseProperties(definition: JsonSource, sink: DiagnosticSink): Record<string, unknown> {
  const doc = isObject(definition.value) ? definition.value : {};
  const components = isObject(doc.components) ? doc.components : {};
  const schemes = isObject(components.securitySchemes) ? components.securitySchemes : {};
  const used =
    Array.isArray(doc.security) && isObject(doc.security[0]) ? Object.keys(doc.security[0])[0] : undefined;
  const name = used !== undefined && Object.hasOwn(schemes, used) ? used : Object.keys(schemes)[0];
  const connectionParameters: Record<string, unknown> = {};
  const policyTemplateInstances: unknown[] = [];
  const scheme = name === undefined ? undefined : schemes[name];
  if (isObject(scheme)) {
    const type = String(scheme.type ?? '').toLowerCase();
    if (type === 'oauth2') connectionParameters.token = oauthParameter(scheme);
    else if (type === 'apikey') {
      connectionParameters.api_key = secure('API Key', `The ${String(scheme.name ?? 'key')} value`);
      policyTemplateInstances.push(setHeaderOrQuery(scheme));
    } else if (type === 'http' && String(scheme.scheme).toLowerCase() === 'basic') {
      connectionParameters.username = {
        type: 'string',
        uiDefinition: { displayName: 'Username', constraints: { required: 'true' } },
      };
      connectionParameters.password = secure('Password', 'The password');
    } else if (type === 'http' && String(scheme.scheme).toLowerCase() === 'bearer') {
      connectionParameters.bearerToken = secure('Bearer token', 'The token sent in the Authorization header');
      policyTemplateInstances.push({
        templateId: 'setheader',
        title: 'Bearer token',
        parameters: {
          'x-ms-apimTemplateParameter.name': 'Authorization',
          'x-ms-apimTemplateParameter.value': "Bearer @connectionParameters('bearerToken')",
          'x-ms-apimTemplateParameter.existsAction': 'override',
          'x-ms-apimTemplate-policySection': 'Request',
        },
      });
    } else
      sink.add(definition, definition.file, {
        severity: 'warning',
        rule: 'openapi.security-scheme',
        path: ['components', 'securitySchemes', name!],
        message: `Security scheme type "${String(scheme.type)}" has no connector equivalent; the connector gets no authentication.`,
        fix: 'Use oauth2, apiKey, or http basic/bearer.',
      });
  }
  return {
    properties: {
      connectionParameters,
      iconBrandColor: '#007ee5',
      capabilities: [],
      ...(policyTemplateInstances.length ? { policyTemplateInstances } : {}),
    },
  };
}

function secure(displayName: string, description: string) {
  return {
    type: 'securestring',
    uiDefinition: { displayName, description, constraints: { required: 'true' } },
  };
}

function setHeaderOrQuery(scheme: Record<string, unknown>) {
  const inQuery = String(scheme.in).toLowerCase() === 'query';
  return {
    templateId: inQuery ? 'setqueryparameter' : 'setheader',
    title: 'API key',
    parameters: {
      'x-ms-apimTemplateParameter.name': String(scheme.name ?? 'api_key'),
      'x-ms-apimTemplateParameter.value': "@connectionParameters('api_key')",
      'x-ms-apimTemplateParameter.existsAction': 'override',
      'x-ms-apimTemplate-policySection': 'Request',
    },
  };
}

const ENTRA_HOSTS = /^https:\/\/login\.(microsoftonline\.com|windows\.net)\/([^/]+)\//i;

function oauthParameter(scheme: Record<string, unknown>) {
  const flows = isObject(scheme.flows) ? scheme.flows : {};
  const flow =
    (isObject(flows.authorizationCode) ? flows.authorizationCode : Object.values(flows).find(isObject)) ?? {};
  const authorizationUrl = String(flow.authorizationUrl ?? '');
  const scopes = isObject(flow.scopes) ? Object.keys(flow.scopes) : [];
  const entra = ENTRA_HOSTS.exec(authorizationUrl);
  const oAuthSettings = entra
    ? {
        identityProvider: 'aad',
        clientId: null,
        scopes,
        redirectMode: 'GlobalPerConnector',
        properties: { IsFirstParty: 'False' },
        customParameters: {
          loginUri: { value: `https://login.${entra[1]}` },
          tenantId: { value: entra[2] },
          resourceUri: { value: resourceOf(scopes) },
        },
      }
    : {
        identityProvider: 'oauth2',
        clientId: null,
        scopes,
        redirectMode: 'GlobalPerConnector',
        properties: { IsFirstParty: 'False' },
        customParameters: {
          authorizationUrl: { value: authorizationUrl },
          tokenUrl: { value: String(flow.tokenUrl ?? '') },
          refreshUrl: { value: String(flow.refreshUrl ?? flow.tokenUrl ?? '') },
        },
      };
  return { type: 'oauthSetting', oAuthSettings, uiDefinition: null };
}

/** `api://x/access_as_user` → `api://x`: the resource an Entra v1-style setting names. */
function resourceOf(scopes: readonly string[]): string {
  const scope = scopes.find((s) => s.includes('/')) ?? '';
  return scope.slice(0, scope.lastIndexOf('/'));
}

/** servers[0].url with its variables replaced by their defaults. */
export function serverUrl(doc: Record<string, unknown>): string | undefined {
  const server = Array.isArray(doc.servers) ? doc.servers[0] : undefined;
  if (!isObject(server) || typeof server.url !== 'string') return undefined;
  const variables = isObject(server.variables) ? server.variables : {};
  return server.url.replace(/\{([^}]+)\}/g, (whole, name: string) => {
    const v = variables[name];
    return isObject(v) && v.default !== undefined ? String(v.default) : whole;
  });
}
