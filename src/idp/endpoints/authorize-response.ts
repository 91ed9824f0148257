import type { Page } from '../pages/layout.ts';
import { formPostPage } from '../pages/form-post.ts';
import type { InteractiveError } from './authorize-errors.ts';
import type { ResponseMode } from './authorize-request.ts';

/** What an interactive endpoint answers: a redirect, or a page (sign-in, consent, error, form_post). */
export type InteractiveResponse =
  | { readonly kind: 'redirect'; readonly location: string; readonly setCookies?: readonly string[] }
  | { readonly kind: 'page'; readonly page: Page; readonly setCookies?: readonly string[] };

export interface ClientTarget {
  readonly redirectUri: string;
  readonly responseMode: ResponseMode;
  readonly state?: string | undefined;
}

/**
 * Delivers parameters to the client's (verified) redirect URI in the requested response mode (OAuth
 * 2.0 Multiple Response Type Encoding Practices §2.1; Form Post Response Mode §2). `state` is echoed
 * verbatim whenever the client sent it, errors included (RFC 6749 §4.1.2.1).
 */
export function deliver(
  target: ClientTarget,
  parameters: Readonly<Record<string, string>>,
): InteractiveResponse {
  const fields: Record<string, string> = { ...parameters };
  if (target.state !== undefined) fields.state = target.state;
  if (target.responseMode === 'form_post')
    return { kind: 'page', page: formPostPage(target.redirectUri, fields) };
  const url = new URL(target.redirectUri);
  const encoded = new URLSearchParams(fields);
  if (target.responseMode === 'fragment') url.hash = encoded.toString();
  else for (const [name, value] of encoded) url.searchParams.append(name, value);
  return { kind: 'redirect', location: url.toString() };
}

/** Entra's error redirect: `error`, `error_description` with the AADSTS prefix and trace trailer. */
export function deliverError(
  target: ClientTarget,
  error: InteractiveError,
  trace: { traceId: string; correlationId: string; timestamp: string },
): InteractiveResponse {
  return deliver(target, {
    error: error.error,
    error_description: `AADSTS${error.code}: ${error.text}\r\nTrace ID: ${trace.traceId}\r\nCorrelation ID: ${trace.correlationId}\r\nTimestamp: ${trace.timestamp}`,
    error_uri: `https://login.microsoftonline.com/error?code=${error.code}`,
  });
}
