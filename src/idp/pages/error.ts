import { html } from './html.ts';
import { layout } from './layout.ts';
import type { Page } from './layout.ts';

export interface ErrorView {
  /** The AADSTS number, e.g. 50011. */
  readonly code: number;
  readonly message: string;
  readonly correlationId: string;
  readonly timestamp: string;
  readonly status?: number;
  readonly tenantName?: string;
}

/**
 * Errors that must not be sent to the client (unknown client, unregistered redirect URI, a broken
 * form) are shown to the user, with the code and ids an administrator needs to find the log line.
 */
export function errorPage(view: ErrorView): Page {
  const body = html`<h1 id="page-title">Sorry, but we’re having trouble signing you in.</h1>
    <p class="error" role="alert">AADSTS${view.code}: ${view.message}</p>
    <div class="details muted">
      <p>Correlation ID: <span class="code">${view.correlationId}</span></p>
      <p>Timestamp: ${view.timestamp}</p>
    </div>`;
  return {
    status: view.status ?? 400,
    html: layout({ title: 'Error', body, tenantName: view.tenantName }),
  };
}
