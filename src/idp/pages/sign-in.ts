import { hiddenFields, html } from './html.ts';
import { layout } from './layout.ts';
import type { Page } from './layout.ts';

export interface FormContext {
  /** Where the form posts (always our own origin). */
  readonly action: string;
  readonly csrfToken: string;
  /** The pending authorization request this form continues. */
  readonly interaction: string;
  readonly tenantName: string;
  /** The client's redirect origin: the form's post ends in a redirect there (CSP form-action). */
  readonly formTargets?: readonly string[];
}

export interface SignInView extends FormContext {
  readonly username?: string;
  /** Generic on purpose: the page never says whether the account exists. */
  readonly error?: 'invalid' | 'locked';
  readonly clientName: string;
}

const ERRORS = {
  invalid:
    'Your account or password is incorrect. If you don\u2019t remember your password, ask your administrator to reset it.',
  locked: 'Your account is temporarily locked to prevent unauthorized use. Try again later.',
} as const;

export function signInPage(view: SignInView): Page {
  const errorId = view.error ? 'sign-in-error' : undefined;
  const body = html`<h1 id="page-title">Sign in</h1>
    <p class="muted">to continue to ${view.clientName}</p>
    ${view.error ? html`<p class="error" id="sign-in-error" role="alert">${ERRORS[view.error]}</p>` : ''}
    <form method="post" action="${view.action}">
      ${hiddenFields({ csrf_token: view.csrfToken, interaction: view.interaction })}
      <label for="username">Email or username</label>
      <input
        type="email"
        id="username"
        name="username"
        autocomplete="username"
        required
        autofocus
        value="${view.username ?? ''}"
        ${errorId ? html` aria-describedby="${errorId}"` : ''}
      />
      <label for="password">Password</label>
      <input
        type="password"
        id="password"
        name="password"
        autocomplete="current-password"
        required${errorId ? html` aria-describedby="${errorId}"` : ''}
      />
      <div class="actions"><button type="submit" class="primary">Sign in</button></div>
    </form>`;
  return {
    status: view.error ? 400 : 200,
    html: layout({ title: 'Sign in', body, tenantName: view.tenantName }),
    formTargets: view.formTargets ?? [],
  };
}
