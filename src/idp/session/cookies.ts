/**
 * Cookies of the sign-in pages. Every cookie carries the `__Host-` prefix, so a browser accepts it only
 * when it is Secure, has Path=/ and no Domain: a sibling host or an http: page cannot plant or overwrite
 * it (RFC 6265bis §4.1.3.2).
 */
export interface CookieOptions {
  /** Seconds; omitted = a browser-session cookie. */
  readonly maxAge?: number;
  readonly sameSite: 'Strict' | 'Lax';
}

export function serializeCookie(name: string, value: string, options: CookieOptions): string {
  if (!name.startsWith('__Host-')) throw new Error(`cookie ${name} must use the __Host- prefix`);
  const parts = [`${name}=${value}`, 'Path=/', 'Secure', 'HttpOnly', `SameSite=${options.sameSite}`];
  if (options.maxAge !== undefined) parts.push(`Max-Age=${options.maxAge}`);
  return parts.join('; ');
}

export function clearCookie(name: string): string {
  return `${name}=; Path=/; Secure; HttpOnly; SameSite=Lax; Max-Age=0`;
}

export function parseCookies(header: string | undefined): Map<string, string> {
  const cookies = new Map<string, string>();
  if (!header) return cookies;
  for (const part of header.split(';')) {
    const eq = part.indexOf('=');
    if (eq <= 0) continue;
    const name = part.slice(0, eq).trim();
    // The first occurrence wins, as in browsers' most-specific-path-first order.
    if (!cookies.has(name)) cookies.set(name, part.slice(eq + 1).trim());
  }
  return cookies;
}
