/**
 * The connector model: what Behalf understands of a package. The original documents are kept beside it
 * (ImportedConnector.documents) so export is faithful; the model is derived, normalised and read-only.
 */
export type HttpMethod = 'get' | 'put' | 'post' | 'delete' | 'patch' | 'head' | 'options';
export type ParameterLocation = 'query' | 'header' | 'path' | 'formData' | 'body';
export type Visibility = 'important' | 'advanced' | 'internal' | 'none' | '';

export interface ConnectorModel {
  readonly format: 'swagger2' | 'openapi3';
  readonly title: string;
  readonly description: string;
  readonly version: string;
  /** scheme://host/basePath of the backend (connector-format.md §1.2: paconn's serviceUrl). */
  readonly baseUrl: string | undefined;
  readonly operations: readonly Operation[];
  readonly connectionParameters: Readonly<Record<string, ConnectionParameter>>;
  readonly connectionParameterSets: readonly ConnectionParameterSet[];
  readonly policies: readonly PolicyInstance[];
  readonly iconBrandColor: string | undefined;
  readonly capabilities: readonly string[];
  readonly publisher: string | undefined;
  readonly stackOwner: string | undefined;
  readonly hasScript: boolean;
  /** Operations whose requests are handled by script.csx (C# custom code); never run by Behalf. */
  readonly scriptOperations: readonly string[];
  /** At least one operation is an MCP Streamable HTTP endpoint (`x-ms-agentic-protocol`). */
  readonly isMcp: boolean;
  /** `x-ms-openai-data` and `x-ms-openai-manifest`, kept as written. */
  readonly aiMetadata: { readonly openAiData?: unknown; readonly openAiManifest?: unknown };
}

export interface Operation {
  readonly operationId: string;
  readonly method: HttpMethod;
  readonly path: string;
  readonly summary: string;
  readonly description: string;
  readonly visibility: Visibility;
  readonly deprecated: boolean;
  readonly trigger: 'single' | 'batch' | undefined;
  /** `x-ms-agentic-protocol`, e.g. `mcp-streamable-1.0` (connector-format.md §6.2). */
  readonly agenticProtocol: string | undefined;
  readonly requiresUserConfirmation: boolean;
  readonly parameters: readonly Parameter[];
  readonly responses: Readonly<Record<string, Response>>;
  /** Routed to script.csx: Behalf cannot run C#, so invoking it must fail clearly. */
  readonly needsCustomCode: boolean;
  /** JSON pointer of the operation in the API definition. */
  readonly pointer: string;
}

export interface Parameter {
  readonly name: string;
  readonly in: ParameterLocation;
  readonly required: boolean;
  readonly type: string | undefined;
  readonly default?: unknown;
  readonly visibility: Visibility;
  readonly summary: string | undefined;
  readonly description: string | undefined;
  readonly schema?: unknown;
  /** `x-ms-url-encoding: double` on a path parameter (the default, single, is left out). */
  readonly urlEncoding?: 'double';
  /** `x-ms-dynamic-values` / `x-ms-dynamic-list`: the parameter's choices come from another operation. */
  readonly dynamicValues?: DynamicValues;
  readonly pointer: string;
}

export interface DynamicValues {
  /** The lookup operation, of the same connector, run on the same connection. */
  readonly operationId: string;
  /** The lookup's arguments: another parameter of this operation (`x`, `body/x`) or a fixed value. */
  readonly parameters: Readonly<Record<string, DynamicArgument>>;
  /** Slash path to the array of items in the lookup's response ('' : the response is the array). */
  readonly itemsPath: string;
  /** Slash path to an item's value (undefined: the item itself) and to its display title. */
  readonly valuePath: string | undefined;
  readonly titlePath: string | undefined;
}

export type DynamicArgument = { readonly reference: string } | { readonly value: unknown };

export interface Response {
  readonly description: string;
  readonly schema?: unknown;
}

export type ConnectionParameterType =
  'securestring' | 'string' | 'int' | 'bool' | 'oauthSetting' | 'gatewaySetting' | 'clientCertificate';

export interface ConnectionParameter {
  readonly name: string;
  readonly type: ConnectionParameterType | string;
  readonly displayName: string | undefined;
  readonly required: boolean;
  readonly defaultValue?: unknown;
  readonly oauth?: OAuthSettings;
  readonly pointer: string;
}

export interface ConnectionParameterSet {
  readonly name: string;
  readonly displayName: string | undefined;
  readonly parameters: Readonly<Record<string, ConnectionParameter>>;
}

export type IdentityProvider = 'aad' | 'aadcertificate' | 'oauth2' | 'oauth2generic' | string;
export type RedirectMode = 'Global' | 'GlobalPerConnector' | 'Direct';

export interface OAuthSettings {
  readonly identityProvider: IdentityProvider;
  readonly clientId: string | undefined;
  /** Whether the file carried a client secret; the value itself never enters the model. */
  readonly hasClientSecret: boolean;
  readonly scopes: readonly string[];
  readonly redirectMode: RedirectMode | undefined;
  readonly redirectUrl: string | undefined;
  readonly isFirstParty: boolean;
  readonly resourceId: string | undefined;
  readonly isOnBehalfOfLoginSupported: boolean;
  /** customParameters with canonical names (`loginUri`, `resourceUri`, …) → value. */
  readonly customParameters: Readonly<Record<string, string>>;
}

export type PolicySection = 'request' | 'response' | 'failure';

export interface PolicyInstance {
  /** Canonical lower-case template id (`setheader`). */
  readonly templateId: string;
  readonly title: string | undefined;
  /** Template parameters without the `x-ms-apimTemplateParameter.` prefix. */
  readonly parameters: Readonly<Record<string, unknown>>;
  /** Operations it applies to; undefined = all. */
  readonly operationIds: readonly string[] | undefined;
  readonly section: PolicySection;
  readonly index: number;
}
