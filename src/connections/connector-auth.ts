import type { ConnectionParameter, ConnectorModel, OAuthSettings } from '../connectors/model.ts';

/**
 * How a connector's API expects to be authenticated, from its connection parameters
 * (reference/connector-format.md §1.3.1–1.3.2) and the definition's `securityDefinitions`
 * (OpenAPI 2.0 §Security Definitions Object): OAuth through an identity provider, an API key in a
 * header or the query, or HTTP Basic. One value, decided once per connector version.
 */
export type ConnectorAuth =
  | { readonly kind: 'oauth'; readonly parameterName: string; readonly settings: OAuthSettings }
  | {
      readonly kind: 'apiKey';
      readonly parameterName: string;
      readonly in: 'header' | 'query';
      readonly name: string;
    }
  | { readonly kind: 'basic'; readonly usernameParameter: string; readonly passwordParameter: string }
  | { readonly kind: 'none' };

interface SecurityScheme {
  readonly type?: unknown;
  readonly in?: unknown;
  readonly name?: unknown;
}

function parametersOf(model: ConnectorModel, parameterSetName: string | undefined) {
  if (parameterSetName !== undefined) {
    const set = model.connectionParameterSets.find((s) => s.name === parameterSetName);
    if (set) return set.parameters;
  }
  return Object.keys(model.connectionParameters).length > 0 || model.connectionParameterSets.length === 0
    ? model.connectionParameters
    : model.connectionParameterSets[0]!.parameters;
}

const isSecure = (p: ConnectionParameter) => p.type === 'securestring';

export function connectorAuth(
  model: ConnectorModel,
  securityDefinitions: Readonly<Record<string, unknown>>,
  parameterSetName?: string,
): ConnectorAuth {
  const parameters = parametersOf(model, parameterSetName);
  const oauth = Object.values(parameters).find((p) => p.oauth !== undefined);
  if (oauth?.oauth) return { kind: 'oauth', parameterName: oauth.name, settings: oauth.oauth };
  const schemes = Object.values(securityDefinitions) as SecurityScheme[];
  const apiKey = schemes.find((s) => s.type === 'apiKey');
  const secure = Object.values(parameters).filter(isSecure);
  if (apiKey && secure[0])
    return {
      kind: 'apiKey',
      parameterName: secure[0].name,
      in: apiKey.in === 'query' ? 'query' : 'header',
      name: typeof apiKey.name === 'string' ? apiKey.name : 'X-API-Key',
    };
  if (schemes.some((s) => s.type === 'basic')) {
    const names = Object.keys(parameters);
    const username = names.find((n) => /user/i.test(n)) ?? 'username';
    const password = secure.find((p) => p.name !== username)?.name ?? 'password';
    return { kind: 'basic', usernameParameter: username, passwordParameter: password };
  }
  return { kind: 'none' };
}
