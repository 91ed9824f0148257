import { hiddenFields, html } from './html.ts';
import { layout } from './layout.ts';
import type { Page } from './layout.ts';

/**
 * response_mode=form_post (OAuth 2.0 Form Post Response Mode §2): an auto-submitted form to the
 * client's redirect URI. The submit script is a file on our origin (CSP script-src 'self'); without
 * JavaScript the user presses Continue.
 */
export function formPostPage(redirectUri: string, fields: Readonly<Record<string, string>>): Page {
  const body = html`<h1 id="page-title">Continue</h1>
    <form method="post" action="${redirectUri}" id="form-post">
      ${hiddenFields(fields)}
      <noscript><p>JavaScript is off: press Continue to return to the application.</p></noscript>
      <div class="actions"><button type="submit" class="primary">Continue</button></div>
    </form>
    <script src="/_behalf/form-post.js"></script>`;
  return {
    status: 200,
    html: layout({ title: 'Continue', body }),
    formTargets: [new URL(redirectUri).origin],
    script: true,
  };
}

export const FORM_POST_SCRIPT = "document.getElementById('form-post').submit();\n";
