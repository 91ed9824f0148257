import type { Clock } from '../../core/clock.ts';
import type { Application, ServicePrincipal } from '../../directory/model.ts';
import type { RecordStore } from '../../storage/record-store.ts';
import type { ClientAuthLevel } from '../claims/access-token.ts';
import type { IdpDirectory } from '../directory-port.ts';
import { entraError } from '../errors/entra-error.ts';
import type { DecodedJwt, JwtTools } from '../jwt-port.ts';
import { checkAssertionTimes, singleAudience } from './assertion-claims.ts';
import { verifyCertificateAssertion } from './certificate.ts';
import { verifyFederatedAssertion } from './federated.ts';
import type { FederationKeySource } from './federation-keys.ts';
import { claimJti } from './jti-replay.ts';
import { checkClientSecret } from './secret.ts';

export const JWT_BEARER_ASSERTION_TYPE = 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer';

export interface ClientCredentials {
  readonly clientId: string | undefined;
  readonly secret: string | undefined;
  readonly assertion: string | undefined;
  readonly assertionType: string | undefined;
}

export interface AuthenticatedClient {
  readonly app: Application;
  readonly sp: ServicePrincipal;
  readonly auth: ClientAuthLevel;
}

export interface ClientAuthDeps {
  readonly directory: IdpDirectory;
  readonly store: RecordStore;
  readonly clock: Clock;
  readonly jwt: JwtTools;
  readonly federation: FederationKeySource;
}

/**
 * Client authentication at the token endpoint, as a pipeline of checks: find the client (the app and
 * its service principal in this tenant, enabled), then exactly one credential: a secret (post or
 * basic), a certificate assertion (`iss == sub == client_id`) or a federated credential (any other
 * issuer). A client presenting nothing is public, allowed only where the grant allows it.
 */
export async function authenticateClient(
  deps: ClientAuthDeps,
  tenantId: string,
  credentials: ClientCredentials,
  context: {
    readonly grantType: string;
    /** The audiences a client assertion may name (computed only when an assertion is presented). */
    readonly tokenEndpoints: () => readonly string[];
  },
): Promise<AuthenticatedClient> {
  const decoded = credentials.assertion !== undefined ? decodeAssertion(deps.jwt, credentials) : undefined;
  const clientId =
    credentials.clientId ?? (typeof decoded?.claims['sub'] === 'string' ? decoded.claims['sub'] : undefined);
  if (!clientId) throw entraError(900144, { name: 'client_id' });

  const app = await deps.directory.getApplicationByAppId(clientId);
  const sp = app ? await deps.directory.getServicePrincipalByAppId(tenantId, clientId) : undefined;
  if (!app || !sp) throw entraError(700016, { appId: clientId, tenant: tenantId });
  if (!sp.accountEnabled) throw entraError(7000112, { appId: clientId, name: sp.displayName });

  const now = deps.clock.now();
  if (credentials.secret !== undefined && credentials.assertion !== undefined) throw entraError(9002313);
  if (credentials.secret !== undefined) {
    refusePublicClient(app);
    await checkClientSecret(deps.directory, app, credentials.secret);
    return { app, sp, auth: '1' };
  }
  if (decoded && credentials.assertion !== undefined) {
    refusePublicClient(app);
    checkAssertionTimes(decoded.claims, now);
    const audience = singleAudience(decoded.claims);
    const issuer = decoded.claims['iss'];
    if (issuer === clientId) {
      if (decoded.claims['sub'] !== clientId) throw entraError(50048, { appId: clientId });
      if (!context.tokenEndpoints().includes(audience)) throw entraError(700023);
      await verifyCertificateAssertion(app, credentials.assertion, decoded, deps.jwt, now);
    } else {
      await verifyFederatedAssertion(
        app,
        credentials.assertion,
        decoded,
        deps.jwt,
        deps.federation,
        audience,
      );
      // Entra-issued tokens as FICs must be app-only (managed identity as FIC): AADSTS700229.
      if (decoded.claims['idtyp'] !== 'app' && typeof decoded.claims['scp'] === 'string')
        throw entraError(700229);
    }
    await checkJti(deps, decoded);
    return { app, sp, auth: '2' };
  }
  if (app.isFallbackPublicClient && context.grantType !== 'client_credentials') return { app, sp, auth: '0' };
  throw entraError(context.grantType === 'client_credentials' ? 7000216 : 7000218);
}

function decodeAssertion(jwt: JwtTools, credentials: ClientCredentials): DecodedJwt {
  if (credentials.assertionType !== JWT_BEARER_ASSERTION_TYPE) {
    throw entraError(900144, { name: 'client_assertion_type' });
  }
  const decoded = jwt.decode(credentials.assertion ?? '');
  if (!decoded) throw entraError(50027);
  return decoded;
}

/** A public client (no credentials registered at all) must not present one (AADSTS700025). */
function refusePublicClient(app: Application): void {
  const hasCredentials =
    app.passwordCredentials.length + app.keyCredentials.length + app.federatedIdentityCredentials.length > 0;
  if (app.isFallbackPublicClient && !hasCredentials) throw entraError(700025);
}

async function checkJti(deps: ClientAuthDeps, decoded: DecodedJwt): Promise<void> {
  const jti = decoded.claims['jti'];
  const exp = decoded.claims['exp'];
  // Entra does not require `jti` on federated tokens (GitHub/Kubernetes tokens carry one, others may not).
  if (typeof jti !== 'string' || typeof exp !== 'number') return;
  const fresh = await claimJti(deps.store, String(decoded.claims['iss']), jti, (exp + 300) * 1000);
  if (!fresh) throw entraError(7000228, { jti });
}
