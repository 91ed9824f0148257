import type { WorkloadIdentityIssuer } from './workload-identity.ts';

/**
 * How an OAuth client (Behalf Connections, or a connector app X) proves itself at the token endpoint:
 * a client secret, or, with no secret at all, a federated credential: an assertion from Behalf's
 * workload-identity issuer (RFC 7523 §2.2 client authentication, `client_assertion_type` jwt-bearer).
 */
export type AppCredential =
  | { readonly kind: 'secret'; readonly clientId: string; readonly secret: () => Promise<string> }
  | { readonly kind: 'federated'; readonly clientId: string; readonly subject: string }
  | { readonly kind: 'none'; readonly clientId: string };

export const CLIENT_ASSERTION_TYPE = 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer';

export async function clientAuthenticationFields(
  credential: AppCredential,
  issuer: WorkloadIdentityIssuer,
): Promise<Record<string, string>> {
  switch (credential.kind) {
    case 'secret':
      return { client_id: credential.clientId, client_secret: await credential.secret() };
    case 'federated':
      return {
        client_id: credential.clientId,
        client_assertion_type: CLIENT_ASSERTION_TYPE,
        client_assertion: await issuer.assertion(credential.subject),
      };
    case 'none':
      return { client_id: credential.clientId };
  }
}
