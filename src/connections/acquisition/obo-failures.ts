import type { ConsentCard } from '../errors.ts';
import { ConnectionError } from '../errors.ts';
import { OAuthError } from '../oauth-client.ts';

/**
 * What a failed on-behalf-of exchange means, named by the link of the chain that is missing
 * (ARCHITECTURE.md, "The on-behalf-of chain"). A table keyed by AADSTS number (Entra's
 * `error_codes`), with the OAuth `error` as the fallback: the "connection manager" prompt of the real
 * platform gives no clue; these say what to fix and where.
 */
export type OboHop = 1 | 2;

export interface OboContext {
  readonly hop: OboHop;
  /** Behalf Connections' appId (hop 1 client). */
  readonly behalfClientId: string;
  /** The connector app X (hop 1 audience, hop 2 client). */
  readonly connectorClientId: string;
  readonly scope: string;
  readonly consentCard: () => ConsentCard;
}

interface Explanation {
  readonly status: number;
  readonly code: string;
  readonly consent: boolean;
  readonly text: (ctx: OboContext) => string;
}

const hopLabel = (ctx: OboContext) =>
  ctx.hop === 1
    ? `Behalf Connections (${ctx.behalfClientId}) → connector app ${ctx.connectorClientId}`
    : `connector app ${ctx.connectorClientId} → ${ctx.scope}`;

const consentText = (ctx: OboContext) =>
  ctx.hop === 1
    ? `Connector app ${ctx.connectorClientId} does not pre-authorize Behalf Connections (${ctx.behalfClientId}) for its scope, and you have not consented yet. Consent once, or ask an administrator to add Behalf Connections to the app's authorized client applications (Expose an API → Authorized client applications).`
    : `Connector app ${ctx.connectorClientId} has no consented delegated permission for ${ctx.scope}. Consent once, or ask an administrator to add the delegated permission to the app and grant admin consent.`;

const BY_CODE: Readonly<Record<number, Explanation>> = {
  65001: { status: 403, code: 'ConsentRequired', consent: true, text: consentText },
  65004: {
    status: 403,
    code: 'ConsentDeclined',
    consent: true,
    text: (c) => `Consent was declined for ${hopLabel(c)}. ${consentText(c)}`,
  },
  50013: {
    status: 401,
    code: 'AssertionAudienceMismatch',
    consent: false,
    text: (c) =>
      c.hop === 1
        ? `Your token is not for Behalf Connections (${c.behalfClientId}); the client must request a token with that audience.`
        : `The token for connector app ${c.connectorClientId} was not accepted as an assertion; check the app's identifier URI and that hop 1 asks for it.`,
  },
  500011: {
    status: 400,
    code: 'ResourceNotFound',
    consent: false,
    text: (c) =>
      `The resource in scope '${c.scope}' does not exist in the tenant: the connector's Resource URL is wrong (use the API app's identifier URI or client id).`,
  },
  70011: {
    status: 400,
    code: 'InvalidScope',
    consent: false,
    text: (c) =>
      `The scope '${c.scope}' is not valid for ${hopLabel(c)}: check the connector's Scope and Resource URL settings.`,
  },
  7000215: {
    status: 401,
    code: 'InvalidClientSecret',
    consent: false,
    text: (c) =>
      `The client secret of ${c.hop === 1 ? 'Behalf Connections' : `connector app ${c.connectorClientId}`} is wrong or expired; update it in the connector's security settings.`,
  },
  7000222: {
    status: 401,
    code: 'ClientSecretExpired',
    consent: false,
    text: (c) =>
      `The client secret of ${c.hop === 1 ? 'Behalf Connections' : `connector app ${c.connectorClientId}`} has expired.`,
  },
  700213: {
    status: 401,
    code: 'NoMatchingFederatedCredential',
    consent: false,
    text: (c) =>
      `Connector app ${c.connectorClientId} has no federated credential for Behalf's workload identity issuer and this connector's subject; add it under Certificates & secrets → Federated credentials.`,
  },
  70021: {
    status: 401,
    code: 'NoMatchingFederatedCredential',
    consent: false,
    text: (c) =>
      `Connector app ${c.connectorClientId} has no federated credential matching Behalf's workload identity assertion.`,
  },
  700016: {
    status: 400,
    code: 'ApplicationNotFound',
    consent: false,
    text: (c) =>
      `Application ${c.hop === 1 ? c.behalfClientId : c.connectorClientId} is not in the tenant; check the client id in the connector settings.`,
  },
  50076: {
    status: 403,
    code: 'InteractionRequired',
    consent: true,
    text: () =>
      'Your organisation requires multi-factor authentication for this API; sign in again interactively.',
  },
  50079: {
    status: 403,
    code: 'InteractionRequired',
    consent: true,
    text: () => 'You must register for multi-factor authentication before this API can be used.',
  },
};

const BY_ERROR: Readonly<Record<string, Explanation>> = {
  consent_required: BY_CODE[65001]!,
  interaction_required: {
    status: 403,
    code: 'InteractionRequired',
    consent: true,
    text: (c) => `Sign-in is needed for ${hopLabel(c)}.`,
  },
  invalid_client: {
    status: 401,
    code: 'InvalidClient',
    consent: false,
    text: (c) =>
      `The identity provider did not accept the credentials of ${c.hop === 1 ? 'Behalf Connections' : `connector app ${c.connectorClientId}`}.`,
  },
  invalid_scope: BY_CODE[70011]!,
  invalid_grant: {
    status: 401,
    code: 'InvalidAssertion',
    consent: false,
    text: (c) => `The identity provider refused the token presented for ${hopLabel(c)}; sign in again.`,
  },
  unauthorized_client: {
    status: 403,
    code: 'UnauthorizedClient',
    consent: false,
    text: (c) => `${hopLabel(c)}: the client is not allowed to use the on-behalf-of grant.`,
  },
};

export function explainOboFailure(error: unknown, ctx: OboContext): ConnectionError {
  if (!(error instanceof OAuthError)) {
    if (error instanceof ConnectionError) return error;
    return new ConnectionError(
      502,
      'OnBehalfOfFailed',
      `The on-behalf-of exchange (${hopLabel(ctx)}) failed: ${(error as Error).message}`,
    );
  }
  const explanation =
    error.codes.map((code) => BY_CODE[code]).find((e) => e !== undefined) ?? BY_ERROR[error.error];
  const aadsts = error.codes[0] !== undefined ? ` (AADSTS${error.codes[0]})` : '';
  if (!explanation)
    return new ConnectionError(
      502,
      'OnBehalfOfFailed',
      `The identity provider at ${error.host} refused the on-behalf-of exchange (${hopLabel(ctx)}): ${error.error}${aadsts}.`,
    );
  const text = explanation.text(ctx);
  return new ConnectionError(explanation.status, explanation.code, `${text}${aadsts}`, {
    remediation: text,
    ...(explanation.consent ? { consentCard: ctx.consentCard() } : {}),
  });
}
