import { hiddenFields, html } from './html.ts';
import { layout } from './layout.ts';
import type { Page } from './layout.ts';
import type { FormContext } from './sign-in.ts';

export interface PermissionView {
  readonly resourceName: string;
  readonly value: string;
  readonly displayName: string;
  readonly description: string;
  /** An application permission (app role): only an administrator can grant it. */
  readonly application?: boolean;
}

export interface ConsentView extends FormContext {
  readonly clientName: string;
  /** The publisher domain, or "unverified" when the app has none. */
  readonly publisher: string | null;
  readonly userName: string;
  readonly permissions: readonly PermissionView[];
  /** Offer "Consent on behalf of your organization" (the signed-in user is an administrator). */
  readonly offerOrganization: boolean;
  /** Admin consent endpoint: the grant is for the whole organization by definition. */
  readonly organizationOnly?: boolean;
}

export function consentPage(view: ConsentView): Page {
  const body = html`<h1 id="page-title">Permissions requested</h1>
    <p>
      <strong>${view.clientName}</strong><br /><span class="muted"
        >${view.publisher ? html`Publisher: ${view.publisher}` : 'Unverified publisher'}</span
      >
    </p>
    <p>
      ${view.organizationOnly ? 'This app would like to, for everyone in your organization:' : 'This app would like to:'}
    </p>
    <ul class="permissions">
      ${view.permissions.map(
        (p) =>
          html`<li>
            <strong>${p.displayName}</strong>${p.application ? ' (application permission)' : ''}<br /><span
              class="muted"
              >${p.description} <span class="code">${p.resourceName}: ${p.value}</span></span
            >
          </li>`,
      )}
    </ul>
    <form method="post" action="${view.action}">
      ${hiddenFields({ csrf_token: view.csrfToken, interaction: view.interaction })}
      ${
        view.offerOrganization && !view.organizationOnly
          ? html`<p>
              <input type="checkbox" id="organization" name="organization" value="true" />
              <label for="organization" class="inline">Consent on behalf of your organization</label>
            </p>`
          : ''
      }
      <p class="muted">
        Signed in as ${view.userName}. Accepting lets this app use the data as described; you can revoke it
        later.
      </p>
      <div class="actions">
        <button type="submit" name="decision" value="cancel">Cancel</button>
        <button type="submit" name="decision" value="accept" class="primary">Accept</button>
      </div>
    </form>`;
  return {
    status: 200,
    html: layout({ title: 'Permissions requested', body, tenantName: view.tenantName }),
    formTargets: view.formTargets ?? [],
  };
}
