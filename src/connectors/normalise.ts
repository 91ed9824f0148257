import { isObject } from './pointer.ts';

/**
 * The spellings real files use for names the platform matches case-insensitively or forgives
 * (connector-format.md §0.4 and §1.3): canonical name → accepted variants. Anything found under a
 * variant is read as the canonical name and reported once as a warning.
 */
export const KEY_TYPOS: Readonly<Record<string, string>> = {
  'x-ms-visibilty': 'x-ms-visibility',
  'x-ms-summmary': 'x-ms-summary',
};

export const CUSTOM_PARAMETER_NAMES = [
  'loginUri',
  'tenantId',
  'resourceUri',
  'enableOnbehalfOfLogin',
  'grantType',
  'loginUriAAD',
  'authorizationUrl',
  'tokenUrl',
  'refreshUrl',
  'authorizationUrlTemplate',
  'authorizationUrlQueryStringTemplate',
  'tokenUrlTemplate',
  'tokenBodyTemplate',
  'tokenUrlQueryStringTemplate',
  'refreshUrlTemplate',
  'refreshBodyTemplate',
  'refreshUrlQueryStringTemplate',
  'scopeListDelimiter',
] as const;

export const CONNECTION_PARAMETER_TYPES = [
  'securestring',
  'string',
  'int',
  'bool',
  'oauthSetting',
  'gatewaySetting',
  'clientCertificate',
] as const;

export const REDIRECT_MODES = ['Global', 'GlobalPerConnector', 'Direct'] as const;

/** The canonical form of `value` among `known`, compared case-insensitively. */
export function canonical<T extends string>(value: string, known: readonly T[]): T | undefined {
  const lower = value.toLowerCase();
  return known.find((k) => k.toLowerCase() === lower);
}

export interface FoundKey {
  readonly key: string;
  readonly value: unknown;
  /** The key is a variant spelling of the canonical name. */
  readonly variant: boolean;
}

/** Looks up `name` in `object`, exactly first, then case-insensitively. */
export function findKey(object: unknown, name: string): FoundKey | undefined {
  if (!isObject(object)) return undefined;
  if (Object.hasOwn(object, name)) return { key: name, value: object[name], variant: false };
  const lower = name.toLowerCase();
  for (const key of Object.keys(object))
    if (key.toLowerCase() === lower) return { key, value: object[key], variant: true };
  return undefined;
}

export function str(value: unknown): string | undefined {
  return typeof value === 'string' ? value : undefined;
}
