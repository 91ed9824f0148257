import { createHash } from 'node:crypto';
import { Html, html } from './html.ts';
import { STYLESHEET } from './style.ts';

/**
 * The page shell. The stylesheet is inline but allowed by its hash, and there is no script at all
 * except the form_post auto-submit, which is served as a file from our own origin: the CSP below
 * allows nothing else, so an injection that slipped past escaping still could not run.
 */
export interface Page {
  readonly status: number;
  readonly html: string;
  /** Origins the page's forms may post to besides our own (form_post to the client's redirect URI). */
  readonly formTargets?: readonly string[];
  /** The page loads /_behalf/form-post.js. */
  readonly script?: boolean;
}

export const STYLE_HASH = `'sha256-${createHash('sha256').update(STYLESHEET).digest('base64')}'`;

// Built outside the template so that formatting can never add whitespace the CSP hash does not cover.
const STYLE_TAG = new Html(`<style>${STYLESHEET}</style>`);

export function layout(options: { title: string; body: Html; tenantName?: string | undefined }): string {
  return html`<!doctype html>
    <html lang="en">
      <head>
        <meta charset="utf-8" />
        <meta name="viewport" content="width=device-width, initial-scale=1" />
        <meta name="referrer" content="no-referrer" />
        <title>${options.title} · Behalf</title>
        ${STYLE_TAG}
      </head>
      <body>
        <main class="card" aria-labelledby="page-title">
          <p class="brand">Behalf${options.tenantName ? html` · <span>${options.tenantName}</span>` : ''}</p>
          ${options.body}
        </main>
      </body>
    </html>`.value;
}

/**
 * Security headers of every interactive page: no framing (clickjacking of the consent button), a
 * strict CSP, no caching of pages that carry CSRF tokens, and no referrer leaking query parameters.
 */
export function pageHeaders(page: Page): Record<string, string> {
  const formAction = ["'self'", ...(page.formTargets ?? [])].join(' ');
  const csp = [
    "default-src 'none'",
    `style-src ${STYLE_HASH}`,
    page.script ? "script-src 'self'" : "script-src 'none'",
    "img-src 'self' data:",
    `form-action ${formAction}`,
    "frame-ancestors 'none'",
    "base-uri 'none'",
  ].join('; ');
  return {
    'content-type': 'text/html; charset=utf-8',
    'content-security-policy': csp,
    'x-frame-options': 'DENY',
    'x-content-type-options': 'nosniff',
    'referrer-policy': 'no-referrer',
    'cache-control': 'no-store',
    pragma: 'no-cache',
  };
}
