import { hiddenFields, html } from './html.ts';
import { layout } from './layout.ts';
import type { Page } from './layout.ts';

export interface DeviceCodeView {
  readonly action: string;
  readonly csrfToken: string;
  readonly tenantName: string;
  readonly error?: boolean;
}

/** The verification page of the device authorization grant (RFC 8628 §3.3). */
export function deviceCodePage(view: DeviceCodeView): Page {
  const body = html`<h1 id="page-title">Enter code</h1>
    <p>Enter the code displayed on your app or device.</p>
    ${view.error ? html`<p class="error" role="alert" id="code-error">That code didn’t work. Check the code and try again.</p>` : ''}
    <form method="post" action="${view.action}">
      ${hiddenFields({ csrf_token: view.csrfToken })}
      <label for="user_code">Code</label>
      <input
        type="text"
        id="user_code"
        name="user_code"
        autocomplete="one-time-code"
        autocapitalize="characters"
        required
        autofocus${view.error ? html` aria-describedby="code-error"` : ''}
      />
      <div class="actions"><button type="submit" class="primary">Next</button></div>
    </form>`;
  return {
    status: view.error ? 400 : 200,
    html: layout({ title: 'Enter code', body, tenantName: view.tenantName }),
  };
}

export function messagePage(title: string, message: string, tenantName?: string): Page {
  const body = html`<h1 id="page-title">${title}</h1>
    <p>${message}</p>`;
  return { status: 200, html: layout({ title, body, tenantName }) };
}
