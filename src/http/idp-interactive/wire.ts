import type { Clock } from '../../core/clock.ts';
import type { Random } from '../../core/ids.ts';
import type { Logger } from '../../core/logger.ts';
import type { Directory } from '../../directory/directory.ts';
import { idpDirectoryFrom } from '../../idp/directory-adapter.ts';
import { createConsentWriter } from '../../idp/endpoints/admin-consent-writer.ts';
import type { InteractiveDeps } from '../../idp/endpoints/authorize-deps.ts';
import { createAdministrators } from '../../idp/session/administrators.ts';
import type { Administrators } from '../../idp/session/administrators.ts';
import { createCsrf } from '../../idp/session/csrf.ts';
import { createInteractions } from '../../idp/session/interactions.ts';
import { createDeviceCodes } from '../../idp/session/device-codes.ts';
import type { SigningKeyRing } from '../../crypto/signing-keys.ts';
import { keyRingSigner } from '../../idp/crypto-adapter.ts';
import { createFrontChannelIdTokens } from '../../idp/endpoints/authorize-id-token.ts';
import { deviceCodeGrants } from '../../idp/grants/device-code.ts';
import type { Grant } from '../../idp/grants/index.ts';
import type { UserInfoDeps } from '../../idp/endpoints/userinfo.ts';
import { createLockout } from '../../idp/session/lockout.ts';
import type { LockoutPolicy } from '../../idp/session/lockout.ts';
import { createSealer } from '../../idp/session/seal.ts';
import { createSsoSessions } from '../../idp/session/sso-session.ts';
import { createAuthorizationCodeStore } from '../../idp/stores/authorization-codes.ts';
import type { RecordStore } from '../../storage/record-store.ts';
import type { RouteModule } from '../server.ts';
import type { InteractiveRoute } from './routes.ts';
import { idpInteractiveRoutes } from './routes.ts';

export interface InteractiveIdpOptions {
  readonly store: RecordStore;
  readonly clock: Clock;
  readonly random: Random;
  readonly logger: Logger;
  readonly directory: Directory;
  /** The master key ring's HKDF: cookie sealing and CSRF keys never share a key with anything else. */
  readonly deriveKey: (purpose: string) => Buffer;
  readonly authorizationCodeLifetime: number;
  readonly lockoutPolicy?: LockoutPolicy;
  readonly frontChannelIdToken?: InteractiveDeps['frontChannelIdToken'];
  readonly extraRoutes?: readonly InteractiveRoute[];
  /** The public base URL, read lazily (known once the server listens). */
  readonly baseUrl?: () => string;
  /**
   * The token signing keys, read at request time (the token service is built after this): with them
   * `response_type=id_token` / `code id_token` are offered to apps that enable ID token issuance.
   */
  readonly signingKeys?: () => SigningKeyRing;
  readonly idTokenLifetime?: number;
  /** The token service's check of Behalf-issued access tokens (userinfo); read at request time. */
  readonly verifyAccessToken?: UserInfoDeps['verifyAccessToken'];
}

/** Builds the interactive identity provider's services and its route module (one call in main.ts). */
export function createInteractiveIdp(options: InteractiveIdpOptions): {
  routes: RouteModule;
  administrators: Administrators;
  deps: InteractiveDeps;
  /** The device code grant, for the token service's `extraGrants`. */
  grants: Record<string, Grant>;
} {
  const { store, clock, random, logger } = options;
  const administrators = createAdministrators(store);
  const deviceCodes = createDeviceCodes({ store, clock, random });
  const signingKeys = options.signingKeys;
  let frontChannelIdToken = options.frontChannelIdToken;
  if (!frontChannelIdToken && signingKeys) {
    let issue: NonNullable<InteractiveDeps['frontChannelIdToken']> | undefined;
    frontChannelIdToken = (input) => {
      issue ??= createFrontChannelIdTokens({
        signer: keyRingSigner(signingKeys(), clock),
        clock,
        random,
        baseUrl: options.baseUrl ?? (() => ''),
        // The token service's pairwise-subject key (http/idp/wire.ts): the same `sub` on both channels.
        subjectKey: options.deriveKey('idp pairwise subject'),
        lifetimeSeconds: options.idTokenLifetime ?? 3600,
      });
      return issue(input);
    };
  }
  const deps: InteractiveDeps = {
    directory: idpDirectoryFrom(options.directory),
    consent: createConsentWriter(options.directory),
    administrators,
    codes: createAuthorizationCodeStore({
      store,
      clock,
      random,
      lifetimeSeconds: options.authorizationCodeLifetime,
    }),
    sessions: createSsoSessions({
      store,
      clock,
      random,
      sealer: createSealer(options.deriveKey('idp sso session cookie')),
    }),
    lockout: createLockout({
      store,
      clock,
      ...(options.lockoutPolicy ? { policy: options.lockoutPolicy } : {}),
    }),
    csrf: createCsrf(options.deriveKey('idp csrf token'), random),
    interactions: createInteractions({ store, clock, random }),
    deviceCodes,
    baseUrl: options.baseUrl ?? (() => ''),
    clock,
    random,
    logger,
    ...(frontChannelIdToken ? { frontChannelIdToken } : {}),
  };
  const verifyAccessToken = options.verifyAccessToken;
  const userInfo: UserInfoDeps | undefined = verifyAccessToken && {
    directory: deps.directory,
    // The token service's key for pairwise `sub`: userinfo answers the same `sub` as the ID token.
    subjectKey: options.deriveKey('idp pairwise subject'),
    verifyAccessToken,
  };
  return {
    routes: idpInteractiveRoutes({ ...deps, ...(userInfo ? { userInfo } : {}) }, options.extraRoutes),
    administrators,
    deps,
    grants: deviceCodeGrants(deviceCodes),
  };
}
