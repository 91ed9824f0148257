import { hiddenFields, html } from './html.ts';
import { layout } from './layout.ts';
import type { Page } from './layout.ts';

export interface AccountView {
  readonly tenantName: string;
  readonly accounts: readonly { displayName: string; username: string; objectId: string }[];
  /** The sign-out form (the logout endpoint, with its CSRF token). */
  readonly signOut: { readonly action: string; readonly csrfToken: string };
}

/**
 * "My account": who is signed in to this tenant in this browser. It is the page the demo's welcome
 * sends a newcomer to, and what a user checks after single sign-on.
 */
export function accountPage(view: AccountView): Page {
  const body = html`<h1 id="page-title">My account</h1>
    <p>You are signed in to ${view.tenantName} as:</p>
    <ul class="permissions">
      ${view.accounts.map(
        (a) =>
          html`<li>
            <strong>${a.displayName}</strong><br /><span class="muted">${a.username}</span><br /><span
              class="muted"
              >Object ID <span class="code">${a.objectId}</span></span
            >
          </li>`,
      )}
    </ul>
    <p class="muted">Applications of this organization now sign you in without asking for your password.</p>
    <form method="post" action="${view.signOut.action}">
      ${hiddenFields({ csrf_token: view.signOut.csrfToken })}
      <div class="actions"><button type="submit" class="primary">Sign out</button></div>
    </form>`;
  return { status: 200, html: layout({ title: 'My account', body, tenantName: view.tenantName }) };
}

/** After logout when no registered post-logout URI was given (Entra shows the same kind of page). */
export function signedOutPage(tenantName: string | undefined): Page {
  const body = html`<h1 id="page-title">You signed out of your account</h1>
    <p>It’s a good idea to close all browser windows.</p>`;
  return { status: 200, html: layout({ title: 'Signed out', body, tenantName }) };
}
