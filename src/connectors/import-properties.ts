import type { DiagnosticSink } from './diagnostics.ts';
import type { JsonSource } from './json-source.ts';
import type {
  ConnectionParameter,
  ConnectionParameterSet,
  OAuthSettings,
  PolicyInstance,
  PolicySection,
  RedirectMode,
} from './model.ts';
import {
  canonical,
  CONNECTION_PARAMETER_TYPES,
  CUSTOM_PARAMETER_NAMES,
  findKey,
  REDIRECT_MODES,
  str,
} from './normalise.ts';
import type { PathSegment } from './pointer.ts';
import { isObject, toPointer } from './pointer.ts';
import { templateFor, TEMPLATE_IDS } from './policies/templates.ts';

export interface PropertiesModel {
  readonly connectionParameters: Record<string, ConnectionParameter>;
  readonly connectionParameterSets: ConnectionParameterSet[];
  readonly policies: PolicyInstance[];
  readonly iconBrandColor: string | undefined;
  readonly capabilities: string[];
  readonly publisher: string | undefined;
  readonly stackOwner: string | undefined;
  /** undefined = not declared; [] = all operations (paconn README). */
  readonly scriptOperations: string[] | undefined;
}

interface Ctx {
  readonly source: JsonSource;
  readonly sink: DiagnosticSink;
}

function normalised(ctx: Ctx, path: PathSegment[], found: string, canonicalName: string, what: string): void {
  ctx.sink.add(ctx.source, ctx.source.file, {
    severity: 'warning',
    rule: 'normalise.case',
    path,
    atKey: what === 'key',
    message: `${what === 'key' ? 'Key' : 'Value'} "${found}" was read as "${canonicalName}" (names are case-insensitive here, but the canonical spelling is "${canonicalName}").`,
    fix: `Write "${canonicalName}".`,
  });
}

function readParameters(ctx: Ctx, raw: unknown, path: PathSegment[]): Record<string, ConnectionParameter> {
  const out: Record<string, ConnectionParameter> = {};
  if (!isObject(raw)) return out;
  for (const [name, value] of Object.entries(raw)) {
    if (!isObject(value)) continue;
    const here = [...path, name];
    const rawType = str(value.type) ?? '';
    const type = canonical(rawType, CONNECTION_PARAMETER_TYPES) ?? rawType;
    if (type !== rawType) normalised(ctx, [...here, 'type'], rawType, type, 'value');
    const ui = isObject(value.uiDefinition) ? value.uiDefinition : {};
    const constraints = isObject(ui.constraints) ? ui.constraints : {};
    const settingsKey = findKey(value, 'oAuthSettings');
    if (settingsKey?.variant)
      normalised(ctx, [...here, settingsKey.key], settingsKey.key, 'oAuthSettings', 'key');
    out[name] = {
      name,
      type,
      displayName: str(ui.displayName),
      required: constraints.required === true || constraints.required === 'true',
      ...('defaultValue' in value ? { defaultValue: value.defaultValue } : {}),
      ...(isObject(settingsKey?.value)
        ? { oauth: readOAuth(ctx, settingsKey.value, [...here, settingsKey.key]) }
        : {}),
      pointer: toPointer(here),
    };
  }
  return out;
}

function readOAuth(ctx: Ctx, raw: Record<string, unknown>, path: PathSegment[]): OAuthSettings {
  const custom: Record<string, string> = {};
  const customRaw = isObject(raw.customParameters) ? raw.customParameters : {};
  for (const [key, value] of Object.entries(customRaw)) {
    const name = canonical(key, CUSTOM_PARAMETER_NAMES) ?? key;
    if (name !== key) normalised(ctx, [...path, 'customParameters', key], key, name, 'key');
    const v = isObject(value) ? value.value : value;
    if (v !== undefined && v !== null) custom[name] = String(v);
  }
  const properties = isObject(raw.properties) ? raw.properties : {};
  const rawMode = str(raw.redirectMode);
  const mode = rawMode === undefined ? undefined : canonical(rawMode, REDIRECT_MODES);
  if (rawMode !== undefined && mode !== undefined && mode !== rawMode)
    normalised(ctx, [...path, 'redirectMode'], rawMode, mode, 'value');
  const idp = str(raw.identityProvider) ?? '';
  const onBehalf = findKey(properties, 'IsOnbehalfofLoginSupported');
  return {
    identityProvider: idp.toLowerCase(),
    clientId: str(raw.clientId),
    hasClientSecret: typeof raw.clientSecret === 'string' && raw.clientSecret !== '',
    scopes: Array.isArray(raw.scopes) ? raw.scopes.filter((s): s is string => typeof s === 'string') : [],
    redirectMode: mode as RedirectMode | undefined,
    redirectUrl: str(raw.redirectUrl),
    isFirstParty: String(findKey(properties, 'IsFirstParty')?.value).toLowerCase() === 'true',
    resourceId: str(findKey(properties, 'AzureActiveDirectoryResourceId')?.value),
    isOnBehalfOfLoginSupported: String(onBehalf?.value).toLowerCase() === 'true',
    customParameters: custom,
  };
}

const SECTIONS: Record<string, PolicySection> = {
  request: 'request',
  response: 'response',
  failure: 'failure',
};

function readPolicies(ctx: Ctx, raw: unknown, path: PathSegment[]): PolicyInstance[] {
  if (!Array.isArray(raw)) return [];
  const out: PolicyInstance[] = [];
  raw.forEach((item, index) => {
    if (!isObject(item)) return;
    const rawId = str(item.templateId) ?? '';
    const id = canonical(rawId, TEMPLATE_IDS) ?? rawId.toLowerCase();
    if (templateFor(id) && id !== rawId) normalised(ctx, [...path, index, 'templateId'], rawId, id, 'value');
    const params: Record<string, unknown> = {};
    const rawParams = isObject(item.parameters) ? item.parameters : {};
    let operationIds: string[] | undefined;
    let section: PolicySection = 'request';
    for (const [key, value] of Object.entries(rawParams)) {
      const lower = key.toLowerCase();
      if (lower === 'x-ms-apimtemplate-operationname')
        operationIds = (Array.isArray(value) ? value : [value]).filter(
          (v): v is string => typeof v === 'string',
        );
      else if (lower === 'x-ms-apimtemplate-policysection')
        section = SECTIONS[String(value).toLowerCase()] ?? section;
      else if (lower.startsWith('x-ms-apimtemplateparameter.'))
        params[key.slice('x-ms-apimTemplateParameter.'.length)] = value;
      else params[key] = value;
    }
    out.push({ templateId: id, title: str(item.title), parameters: params, operationIds, section, index });
  });
  return out;
}

export function readProperties(source: JsonSource, sink: DiagnosticSink): PropertiesModel {
  const ctx: Ctx = { source, sink };
  const root = isObject(source.value) ? source.value : {};
  const props = isObject(root.properties) ? root.properties : {};
  const P: PathSegment[] = ['properties'];
  const sets: ConnectionParameterSet[] = [];
  const setsRaw = isObject(props.connectionParameterSets) ? props.connectionParameterSets : {};
  (Array.isArray(setsRaw.values) ? setsRaw.values : []).forEach((set, i) => {
    if (!isObject(set)) return;
    const ui = isObject(set.uiDefinition) ? set.uiDefinition : {};
    sets.push({
      name: str(set.name) ?? '',
      displayName: str(ui.displayName),
      parameters: readParameters(ctx, set.parameters, [
        ...P,
        'connectionParameterSets',
        'values',
        i,
        'parameters',
      ]),
    });
  });
  const script = isObject(props.script) ? props.script : undefined;
  const scriptOps = Array.isArray(props.scriptOperations)
    ? props.scriptOperations
    : script && Array.isArray(script.operationIds)
      ? script.operationIds
      : undefined;
  return {
    connectionParameters: readParameters(ctx, props.connectionParameters, [...P, 'connectionParameters']),
    connectionParameterSets: sets,
    policies: readPolicies(ctx, props.policyTemplateInstances, [...P, 'policyTemplateInstances']),
    iconBrandColor: str(props.iconBrandColor),
    capabilities: Array.isArray(props.capabilities)
      ? props.capabilities.filter((c) => typeof c === 'string')
      : [],
    publisher: str(props.publisher),
    stackOwner: str(props.stackOwner),
    scriptOperations: scriptOps?.filter((s): s is string => typeof s === 'string'),
  };
}
