import { isGuid } from '../../core/ids.ts';
import { badRequest } from '../errors.ts';

// identifierUris: api://, https://, urn: or a bare-scheme URI, no fragment, no wildcard, ≤ 255 chars
// (learn.microsoft.com/entra/identity-platform/identifier-uri-restrictions).
const MAX_LENGTH = 255;

export function checkIdentifierUri(uri: string): void {
  const property = 'identifierUris';
  if (uri.length > MAX_LENGTH)
    throw badRequest(`${property}: '${uri.slice(0, 40)}…' is longer than ${MAX_LENGTH} characters.`);
  if (uri.includes('*')) throw badRequest(`${property}: '${uri}' must not contain a wildcard.`);
  if (uri.includes('#')) throw badRequest(`${property}: '${uri}' must not contain a fragment.`);
  if (/\s/.test(uri)) throw badRequest(`${property}: '${uri}' must not contain spaces.`);
  let parsed: URL;
  try {
    parsed = new URL(uri);
  } catch {
    throw badRequest(`${property}: '${uri}' is not an absolute URI (expected api://…, https://… or urn:…).`);
  }
  if (parsed.protocol === 'http:')
    throw badRequest(`${property}: '${uri}' must not use http; use api://, https:// or urn:.`);
  if (parsed.protocol === 'api:' && uri.length <= 'api://'.length)
    throw badRequest(`${property}: '${uri}' needs something after api://.`);
}

/**
 * The key identifierUris are compared by: case-insensitive, and `https://x/` is the same resource as
 * `https://x` (resource parameters and `.default` scopes are written both ways).
 */
export function identifierKey(uri: string): string {
  return uri.toLowerCase().replace(/\/+$/, '');
}

/** The forms `resource` / scope prefixes resolve by: an appId GUID or an identifier URI. */
export function servicePrincipalNameKey(name: string): string {
  return isGuid(name) ? name.toLowerCase() : identifierKey(name);
}
