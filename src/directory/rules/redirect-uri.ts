import { badRequest } from '../errors.ts';

// Entra accepts http:// only for loopback hosts; everything else must be https, and no fragment
// (learn.microsoft.com/entra/identity-platform/reply-url: "Restrictions on redirect URIs").
const LOOPBACK_HOSTS = new Set(['localhost', '127.0.0.1', '[::1]']);
const MAX_LENGTH = 256;

/** Web and SPA redirect URIs. */
export function checkRedirectUri(uri: string, property: string): void {
  if (uri.length > MAX_LENGTH)
    throw badRequest(`${property}: redirect URI is longer than ${MAX_LENGTH} characters.`);
  let parsed: URL;
  try {
    parsed = new URL(uri);
  } catch {
    throw badRequest(`${property}: '${uri}' is not an absolute URI.`);
  }
  if (parsed.hash !== '' || uri.includes('#'))
    throw badRequest(`${property}: '${uri}' must not contain a fragment.`);
  if (parsed.protocol === 'https:') return;
  if (parsed.protocol === 'http:' && LOOPBACK_HOSTS.has(parsed.hostname)) return;
  throw badRequest(
    `${property}: '${uri}' must use https (http is allowed only for localhost and 127.0.0.1).`,
  );
}

/**
 * Public-client redirect URIs also allow custom schemes (`myapp://auth`, `msal{appId}://auth`) and the
 * native-client URN, as Entra does for mobile and desktop apps.
 */
export function checkPublicClientRedirectUri(uri: string, property: string): void {
  if (uri === 'urn:ietf:wg:oauth:2.0:oob') return;
  let parsed: URL;
  try {
    parsed = new URL(uri);
  } catch {
    throw badRequest(`${property}: '${uri}' is not an absolute URI.`);
  }
  if (parsed.protocol === 'https:' || parsed.protocol === 'http:') return checkRedirectUri(uri, property);
  if (uri.length > MAX_LENGTH)
    throw badRequest(`${property}: redirect URI is longer than ${MAX_LENGTH} characters.`);
}
