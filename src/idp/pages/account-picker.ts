import { hiddenFields, html } from './html.ts';
import { layout } from './layout.ts';
import type { Page } from './layout.ts';
import type { FormContext } from './sign-in.ts';

export interface AccountChoice {
  /** An opaque handle of the SSO session (never the session id itself). */
  readonly handle: string;
  readonly displayName: string;
  readonly username: string;
}

export function accountPickerPage(view: FormContext & { accounts: readonly AccountChoice[] }): Page {
  const body = html`<h1 id="page-title">Pick an account</h1>
    <form method="post" action="${view.action}">
      ${hiddenFields({ csrf_token: view.csrfToken, interaction: view.interaction })}
      <ul class="accounts">
        ${view.accounts.map(
          (a) =>
            html`<li>
              <button type="submit" name="account" value="${a.handle}">
                <strong>${a.displayName}</strong><br /><span class="muted">${a.username}</span>
              </button>
            </li>`,
        )}
        <li><button type="submit" name="account" value="other">Use another account</button></li>
      </ul>
    </form>`;
  return {
    status: 200,
    html: layout({ title: 'Pick an account', body, tenantName: view.tenantName }),
    formTargets: view.formTargets ?? [],
  };
}
