import { DuplicateKeyError, WireError } from '../core/errors.ts';
import type { Envelope } from '../crypto/envelope.ts';
import type { RecordStore } from '../storage/record-store.ts';

/**
 * Behalf Connections' own client secret (hop 1 of on-behalf-of), provisioned by Behalf itself: the
 * first time the gateway needs it, a password credential is added to the app registration through the
 * directory port and kept envelope-encrypted in the store, so no operator ever handles it and it is
 * never in clear at rest. A kept secret the directory no longer accepts (app re-created, credential
 * removed) is replaced on the next use.
 */
export const GATEWAY_SECRET_KIND = 'behalf-connections-secret';

export interface GatewayAppDirectory {
  /** Adds a password credential to the app; undefined when the app is not registered here. */
  issueSecret(appId: string): Promise<string | undefined>;
  isValid(appId: string, secret: string): Promise<boolean>;
}

export interface GatewayAppSecret {
  /** The secret, provisioning it on first use. Throws `GatewayAppNotRegisteredError` if it cannot. */
  get(): Promise<string>;
}

export class GatewayAppNotRegisteredError extends WireError {
  readonly status = 503;
  constructor(appId: string) {
    super(
      `Behalf Connections (appId ${appId}) is not registered in this directory, so single sign-on cannot ` +
        'exchange tokens; register it (behalf up --demo does) or use an interactive connection.',
    );
  }
  body() {
    return { error: { code: 'GatewayAppNotRegistered', message: this.message } };
  }
}

export function createGatewayAppSecret(options: {
  readonly appId: string;
  readonly store: RecordStore;
  readonly envelope: Envelope;
  readonly directory: GatewayAppDirectory;
}): GatewayAppSecret {
  const { appId, store, envelope, directory } = options;
  const associatedData = `behalf:gateway-app:${appId}:clientSecret`;
  let current: Promise<string> | undefined;

  async function load(): Promise<string> {
    const kept = await store.get<{ sealed: string }>(GATEWAY_SECRET_KIND, appId);
    if (kept) {
      const secret = envelope.decryptText(kept.data.sealed, associatedData);
      if (await directory.isValid(appId, secret)) return secret;
    }
    const issued = await directory.issueSecret(appId);
    if (issued === undefined) throw new GatewayAppNotRegisteredError(appId);
    const data = { sealed: envelope.encrypt(issued, associatedData) };
    if (kept) {
      if (await store.update(GATEWAY_SECRET_KIND, appId, kept.version, data)) return issued;
    } else {
      try {
        await store.insert({ kind: GATEWAY_SECRET_KIND, id: appId, partition: appId, data });
        return issued;
      } catch (error) {
        if (!(error instanceof DuplicateKeyError)) throw error;
      }
    }
    // Another process provisioned at the same time: theirs is the one kept, and equally valid.
    const winner = await store.get<{ sealed: string }>(GATEWAY_SECRET_KIND, appId);
    return winner ? envelope.decryptText(winner.data.sealed, associatedData) : issued;
  }

  return {
    get() {
      if (!current) {
        current = load();
        current.catch(() => {
          current = undefined;
        });
      }
      return current;
    },
  };
}
