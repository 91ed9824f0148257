/**
 * The AADSTS codes Behalf answers with, as data: one row per code with its OAuth `error`, HTTP status
 * and message template. Messages follow Microsoft's error reference
 * (https://learn.microsoft.com/entra/identity-platform/reference-error-codes) and recorded responses
 * (shared/reference/entra-protocol.md §5.2). `{name}` placeholders are filled from the error's params.
 * docs/errors.md is checked against this table by a test, so the two cannot drift.
 */
export interface AadstsEntry {
  readonly error: string;
  /** 400 unless stated; Entra answers 401 for `invalid_client` (recorded 7000215/7000222 responses). */
  readonly status: number;
  readonly message: string;
  readonly suberror?: string;
}

function row(
  error: string,
  message: string,
  extra: { status?: number; suberror?: string } = {},
): AadstsEntry {
  const status = extra.status ?? (error === 'invalid_client' ? 401 : 400);
  return { error, status, message, ...(extra.suberror ? { suberror: extra.suberror } : {}) };
}

export const AADSTS = {
  // Request shape
  900144: row('invalid_request', "The request body must contain the following parameter: '{name}'."),
  90014: row('invalid_request', "The required field '{name}' is missing from the credential."),
  // Entra answers garbled codes and refresh tokens with this code and `invalid_grant` (UNCONFIRMED).
  9002313: row('invalid_grant', 'Invalid request. Request is malformed or invalid.'),
  901002: row('invalid_request', "The 'resource' request parameter isn't supported."),
  70003: row('unsupported_grant_type', "The app requested an unsupported grant type '{grantType}'."),
  50027: row('invalid_request', 'JWT token is invalid or malformed.'),
  // Tenant
  90002: row(
    'invalid_request',
    "Tenant '{tenant}' not found. Check to make sure you have the correct tenant ID and are signing into the correct cloud. Check with your subscription administrator, this may happen if there are no active subscriptions for the tenant.",
  ),
  9001023: row(
    'invalid_request',
    "The grant type isn't supported over the /common or /consumers endpoints. Please use the /organizations or tenant-specific endpoint.",
  ),
  50049: row('invalid_instance', "Unknown or invalid instance '{instance}'."),
  // Client identity and authentication
  700016: row(
    'unauthorized_client',
    "Application with identifier '{appId}' was not found in the directory '{tenant}'. This can happen if the application has not been installed by the administrator of the tenant or consented to by any user in the tenant. You may have sent your authentication request to the wrong tenant.",
  ),
  7000112: row('unauthorized_client', "Application '{appId}'({name}) is disabled."),
  7000215: row(
    'invalid_client',
    "Invalid client secret provided. Ensure the secret being sent in the request is the client secret value, not the client secret ID, for a secret added to app '{appId}'.",
  ),
  7000216: row(
    'invalid_client',
    "'client_assertion', 'client_secret' or 'request' is required for the 'client_credentials' grant type.",
  ),
  7000218: row(
    'invalid_client',
    "The request body must contain the following parameter: 'client_assertion' or 'client_secret'.",
  ),
  7000222: row(
    'invalid_client',
    "The provided client secret keys for app '{appId}' are expired. Visit the Azure portal to create new keys for your app: https://aka.ms/NewClientSecret, or consider using certificate credentials for added security: https://aka.ms/certCreds.",
  ),
  700025: row(
    'invalid_client',
    "Client is public so neither 'client_assertion' nor 'client_secret' should be presented.",
  ),
  700027: row('invalid_client', 'Client assertion failed signature validation. [Reason - {reason}]'),
  700024: row(
    'invalid_client',
    'Client assertion is not within its valid time range. Current time: {now}, assertion valid from {nbf}, expiry time of assertion {exp}. Review the documentation at https://learn.microsoft.com/entra/identity-platform/certificate-credentials .',
  ),
  700023: row(
    'invalid_client',
    'Client assertion audience claim does not match Realm issuer. Review the documentation at https://learn.microsoft.com/entra/identity-platform/certificate-credentials .',
  ),
  50048: row(
    'invalid_client',
    "Subject mismatches Issuer claim in the client assertion for application '{appId}'.",
  ),
  5002741: row(
    'invalid_client',
    'Number of audience values in the provided client credential exceed maximum allowed. {count} audience values provided, maximum allowed is 1.',
  ),
  7000228: row(
    'invalid_client',
    'The client assertion has already been used (jti {jti}); a fresh assertion is required.',
  ),
  700211: row(
    'invalid_client',
    "No matching federated identity record found for presented assertion issuer '{issuer}'. Please note that the matching is done using a case-sensitive comparison. Check your federated identity credential Subject, Audience and Issuer against the presented assertion.",
  ),
  700212: row(
    'invalid_client',
    "No matching federated identity record found for presented assertion audience '{audience}'. Please note that the matching is done using a case-sensitive comparison. Check your federated identity credential Subject, Audience and Issuer against the presented assertion.",
  ),
  700213: row(
    'invalid_client',
    "No matching federated identity record found for presented assertion subject '{subject}'. Please note that the matching is done using a case-sensitive comparison. Check your federated identity credential Subject, Audience and Issuer against the presented assertion.",
  ),
  700229: row(
    'invalid_client',
    'ForbiddenTokenType- Only app-only tokens can be used as Federated Identity Credentials for Microsoft Entra issuer.',
  ),
  7002129: row(
    'invalid_client',
    "Failed to retrieve the signing keys of the federated issuer '{issuer}': {reason}",
  ),
  // Resources and scopes
  500011: row(
    'invalid_resource',
    'The resource principal named {name} was not found in the tenant named {tenant}. This can happen if the application has not been installed by the administrator of the tenant or consented to by any user in the tenant. You might have sent your authentication request to the wrong tenant.',
  ),
  70011: row(
    'invalid_scope',
    "The provided request must include a 'scope' input parameter. The provided value for the input parameter 'scope' is not valid. The scope {scope} is not valid.",
  ),
  1002012: row(
    'invalid_scope',
    'The provided value for scope {scope} is not valid. Client credential flows must have a scope value with /.default suffixed to the resource identifier (application ID URI).',
  ),
  28003: row(
    'invalid_scope',
    'Provided value for the input parameter scope cannot be empty when requesting an access token using the provided authorization code. Please specify a valid scope.',
  ),
  700022: row(
    'invalid_scope',
    'The provided value for the input parameter scope is not valid because it contains more than one resource. Scope {scope} is not valid.',
  ),
  90009: row(
    'invalid_request',
    "Application '{appId}'({name}) is requesting a token for itself. This scenario is supported only if resource is specified using the GUID based App Identifier.",
  ),
  501051: row(
    'invalid_client',
    "Application '{appId}'({name}) is not assigned to a role for the application '{resourceAppId}'({resourceName}).",
  ),
  65001: row(
    'invalid_grant',
    "The user or administrator has not consented to use the application with ID '{appId}' named '{name}'. Send an interactive authorization request for this user and resource.",
    { suberror: 'consent_required' },
  ),
  // Grants: codes, refresh tokens, assertions, users
  70008: row(
    'invalid_grant',
    'The provided authorization code or refresh token has expired due to inactivity. Send a new interactive authorization request for this user and resource.',
  ),
  54005: row(
    'invalid_grant',
    'OAuth2 Authorization code was already redeemed, please retry with a new valid code or use an existing refresh token.',
  ),
  70000: row('invalid_grant', "The provided value for the '{name}' is not valid."),
  700005: row(
    'invalid_grant',
    'Provided Authorization Code is intended to use against other tenant, thus rejected.',
  ),
  501481: row(
    'invalid_grant',
    "The Code_Verifier doesn't match the code_challenge supplied in the authorization request.",
  ),
  50011: row(
    'invalid_grant',
    "The redirect URI '{redirectUri}' specified in the request does not match the redirect URI used to obtain the authorization code.",
  ),
  70001: row(
    'unauthorized_client',
    "The application '{appId}' is not authorized to redeem this authorization code.",
  ),
  50173: row(
    'invalid_grant',
    'The provided grant has been revoked due to a reuse of the refresh token. The user might have to sign in again.',
  ),
  700082: row(
    'invalid_grant',
    'The refresh token has expired due to inactivity. The token was issued on {issued} and was inactive for {inactive}.',
  ),
  // Device code polling (ED:v2-oauth2-device-code.md; entra-protocol.md §1.8). 65004 answers a user who
  // cancelled, with the documented `authorization_declined`.
  70016: row(
    'authorization_pending',
    'OAuth 2.0 device flow error. Authorization is pending. Continue polling.',
  ),
  70018: row(
    'bad_verification_code',
    'Invalid verification code due to User typing in wrong user code for device code flow.',
  ),
  70019: row('expired_token', 'Verification code expired. Have the user retry the sign-in.'),
  65004: row('authorization_declined', 'User declined to consent to access the app.'),
  50126: row('invalid_grant', 'Error validating credentials due to invalid username or password.'),
  50034: row(
    'invalid_grant',
    'The user account {upn} does not exist in the {tenant} directory. To sign into this application, the account must be added to the directory.',
  ),
  50057: row('invalid_grant', 'The user account is disabled.'),
  50013: row('invalid_grant', 'Assertion failed signature validation. [Reason - {reason}]'),
  500131: row(
    'invalid_grant',
    "Assertion audience does not match the Client app presenting the assertion. The audience in the assertion was '{audience}' and the expected audience is '{appId}' or one of the Application Uris of this application with App ID '{appId}'({name}). The downstream client must request a token for the expected audience (the application that made the OBO request) and this application should use that token as the assertion.",
  ),
  500133: row(
    'invalid_grant',
    'Assertion is not within its valid time range. Ensure that the access token is not expired before using it for user assertion, or request a new token. Current time: {now}, expiry time of assertion {exp}.',
  ),
  240002: row(
    'invalid_grant',
    "Input id_token cannot be used as 'urn:ietf:params:oauth:grant-type:jwt-bearer' grant.",
  ),
  7000114: row(
    'invalid_grant',
    "Application '{appId}' isn't allowed to make application on-behalf-of calls.",
  ),
  50085: row(
    'invalid_grant',
    "The 'requested_token_use' value '{value}' is not supported; use 'on_behalf_of'.",
  ),
} as const satisfies Record<number, AadstsEntry>;

export type AadstsCode = keyof typeof AADSTS;

export function fillTemplate(template: string, params: Readonly<Record<string, string | number>>): string {
  return template.replace(/\{(\w+)\}/g, (whole, name: string) => {
    const value = params[name];
    return value === undefined ? whole : String(value);
  });
}
