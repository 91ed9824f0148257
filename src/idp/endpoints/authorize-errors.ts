import { fillTemplate } from '../errors/aadsts.ts';

/**
 * The AADSTS codes of the interactive endpoints (authorize, admin consent, logout, device
 * verification), as data. `page` rows are shown to the user and never redirected: sending them to an
 * unverified redirect URI would make Behalf an open redirector (RFC 6749 §4.1.2.1). The others travel
 * to the client's redirect URI as `error` + `error_description`. Texts follow Microsoft's error
 * reference (https://learn.microsoft.com/entra/identity-platform/reference-error-codes).
 */
export interface InteractiveErrorEntry {
  /** The OAuth `error` when redirected; `page` when only ever shown to the user. */
  readonly error: string;
  readonly message: string;
}

export const INTERACTIVE_ERRORS = {
  50011: {
    error: 'page',
    message:
      "The redirect URI '{redirectUri}' specified in the request does not match the redirect URIs configured for the application '{appId}'. Make sure the redirect URI sent in the request matches one added to your application.",
  },
  500113: { error: 'page', message: 'No reply address is registered for the application.' },
  900971: { error: 'page', message: 'No reply address provided.' },
  700016: {
    error: 'page',
    message:
      "Application with identifier '{appId}' was not found in the directory '{tenant}'. This can happen if the application has not been installed by the administrator of the tenant or consented to by any user in the tenant. You may have sent your authentication request to the wrong tenant.",
  },
  90002: {
    error: 'page',
    message:
      "Tenant '{tenant}' not found. Check to make sure you have the correct tenant ID and are signing into the correct cloud.",
  },
  900144: {
    error: 'invalid_request',
    message: "The request body must contain the following parameter: '{name}'.",
  },
  90019: {
    error: 'page',
    message:
      'No tenant-identifying information found in either the request or implied by any provided credentials.',
  },
  // Our own form checks: a post without a valid CSRF token, or for an interaction that expired.
  90100: {
    error: 'page',
    message:
      'The sign-in form was missing its security token or it did not match. Go back to the application and start again.',
  },
  90101: {
    error: 'page',
    message:
      'This sign-in request has expired or was already completed. Go back to the application and start again.',
  },
  50058: {
    error: 'login_required',
    message:
      "A silent sign-in request was sent but no user is signed in. The cookies used to represent the user's session were not sent in the request to Azure AD.",
  },
  16000: {
    error: 'interaction_required',
    message: 'Multiple user identities are available for the current request; the user must pick one.',
  },
  50105: {
    error: 'access_denied',
    message:
      "Your administrator has configured the application {name} ('{appId}') to block users unless they are specifically granted ('assigned') access to the application.",
  },
  50057: { error: 'access_denied', message: 'The user account is disabled.' },
  65001: {
    error: 'consent_required',
    message:
      "The user or administrator has not consented to use the application with ID '{appId}' named '{name}'. Send an interactive authorization request for this user and resource.",
  },
  65004: { error: 'access_denied', message: 'User declined to consent to access the app.' },
  90094: {
    error: 'page',
    message:
      'The grant requires admin permission. {name} needs permission to access resources in your organization that only an admin can grant. Ask an admin to grant permission to this app before you can use it.',
  },
  90008: {
    error: 'page',
    message: 'The user is not an administrator of this organization and cannot grant consent on its behalf.',
  },
  700054: {
    error: 'unsupported_response_type',
    message: "response_type '{responseType}' is not enabled for the application.",
  },
  900561: {
    error: 'unsupported_response_type',
    message: "The response_type '{responseType}' is not supported.",
  },
  900562: {
    error: 'invalid_request',
    message: "The response_mode '{responseMode}' is not supported for response_type '{responseType}'.",
  },
  90023: { error: 'invalid_request', message: "The '{name}' parameter has an invalid value '{value}'." },
  9002325: {
    error: 'invalid_request',
    message: 'Proof Key for Code Exchange (S256) is required for public and single-page application clients.',
  },
  70011: {
    error: 'invalid_scope',
    message:
      "The provided request must include a 'scope' input parameter. The provided value for the input parameter 'scope' is not valid. The scope {scope} is not valid.",
  },
  500011: {
    error: 'invalid_resource',
    message:
      'The resource principal named {name} was not found in the tenant named {tenant}. This can happen if the application has not been installed by the administrator of the tenant or consented to by any user in the tenant. You might have sent your authentication request to the wrong tenant.',
  },
  901002: { error: 'invalid_request', message: "The 'resource' request parameter isn't supported." },
} as const satisfies Record<number, InteractiveErrorEntry>;

export type InteractiveErrorCode = keyof typeof INTERACTIVE_ERRORS;

/** An error of the interactive flow: shown as a page or sent to the (verified) redirect URI. */
export class InteractiveError extends Error {
  readonly code: InteractiveErrorCode;
  readonly params: Readonly<Record<string, string | number>>;
  constructor(code: InteractiveErrorCode, params: Readonly<Record<string, string | number>> = {}) {
    super(`AADSTS${code}`);
    this.name = 'InteractiveError';
    this.code = code;
    this.params = params;
  }
  get error(): string {
    return INTERACTIVE_ERRORS[this.code].error;
  }
  get isPageOnly(): boolean {
    return this.error === 'page';
  }
  get text(): string {
    return fillTemplate(INTERACTIVE_ERRORS[this.code].message, this.params);
  }
}

export function interactiveError(
  code: InteractiveErrorCode,
  params: Readonly<Record<string, string | number>> = {},
): InteractiveError {
  return new InteractiveError(code, params);
}
