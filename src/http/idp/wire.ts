import type { Clock } from '../../core/clock.ts';
import type { Config } from '../../core/config.ts';
import type { Random } from '../../core/ids.ts';
import type { Logger } from '../../core/logger.ts';
import { createEnvelope } from '../../crypto/envelope.ts';
import type { MasterKeyRing } from '../../crypto/master-key.ts';
import { createSigningKeyRing } from '../../crypto/signing-keys.ts';
import type { SigningKeyRing } from '../../crypto/signing-keys.ts';
import type { Directory } from '../../directory/directory.ts';
import { createFederationKeySource } from '../../idp/client-auth/federation-keys.ts';
import { keyRingSigner, jwtTools } from '../../idp/crypto-adapter.ts';
import { idpDirectoryFrom } from '../../idp/directory-adapter.ts';
import { recordStoreKeyPersistence } from '../../idp/signing-key-store.ts';
import { createTokenService } from '../../idp/token-service.ts';
import type { TokenService, TokenServiceOptions } from '../../idp/token-service.ts';
import type { RecordStore } from '../../storage/record-store.ts';
import type { RouteModule } from '../server.ts';
import { idpTokenRoutes } from './routes.ts';

export interface TokenIdpOptions {
  readonly config: Config;
  readonly store: RecordStore;
  readonly clock: Clock;
  readonly random: Random;
  readonly logger: Logger;
  readonly directory: Directory;
  readonly masterKeys: MasterKeyRing;
  readonly baseUrl: () => string;
  /** Behalf's local CA (PEM): trusted, besides the system roots, when fetching federated issuers' keys. */
  readonly caCertificatePem?: string | undefined;
  /** More grant types (the device code grant of the interactive flows). */
  readonly extraGrants?: TokenServiceOptions['extraGrants'];
  /** The directory writes of this process, so the token service's directory cache drops what they changed. */
  readonly directoryChanges?: TokenServiceOptions['directoryChanges'];
}

/** Builds the signing key ring, the token service and its routes (one call in main.ts). */
export async function createTokenIdp(
  options: TokenIdpOptions,
): Promise<{ routes: RouteModule; tokens: TokenService; signingKeys: SigningKeyRing }> {
  const { config, store, clock, random, logger } = options;
  const signingKeys = createSigningKeyRing({
    persistence: recordStoreKeyPersistence(store),
    cipher: createEnvelope(options.masterKeys),
    clock,
    tokenLifetimeSeconds: Math.max(config.accessTokenLifetime, config.idTokenLifetime),
  });
  await signingKeys.ensure();
  const tokens = createTokenService({
    directory: idpDirectoryFrom(options.directory),
    store,
    clock,
    random,
    signer: keyRingSigner(signingKeys, clock),
    jwt: jwtTools(clock),
    federation: createFederationKeySource({
      clock,
      allowedPrivateOrigins: config.federatedIssuerAllowlist,
      ownBaseUrl: options.baseUrl,
      ...(options.caCertificatePem ? { extraCaPem: [options.caCertificatePem] } : {}),
    }),
    baseUrl: options.baseUrl,
    subjectKey: options.masterKeys.deriveKey('idp pairwise subject'),
    lifetimes: {
      accessToken: config.accessTokenLifetime,
      idToken: config.idTokenLifetime,
      refreshToken: config.refreshTokenLifetime,
      authorizationCode: config.authorizationCodeLifetime,
      refreshReuseGrace: config.refreshTokenReuseGrace,
    },
    ...(options.extraGrants ? { extraGrants: options.extraGrants } : {}),
    ...(options.directoryChanges ? { directoryChanges: options.directoryChanges } : {}),
  });
  return { routes: idpTokenRoutes({ tokens, clock, random, logger }), tokens, signingKeys };
}
