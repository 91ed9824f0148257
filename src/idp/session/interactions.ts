import { createHash } from 'node:crypto';
import type { Clock } from '../../core/clock.ts';
import type { Random } from '../../core/ids.ts';
import { opaqueToken } from '../../core/ids.ts';
import type { RecordStore } from '../../storage/record-store.ts';

/**
 * A pending interactive request (authorize, admin consent, device verification) while the user signs
 * in, picks an account or answers the consent page. The forms carry only its id; the request itself
 * stays on the server, so nothing the browser posts can change the client, redirect URI or scopes.
 * It is bound to the browser's CSRF cookie: an id lifted from one browser is useless in another.
 */
export interface Interaction<R = unknown> {
  readonly id: string;
  readonly tenantId: string;
  readonly browserBinding: string;
  readonly request: R;
  /** The SSO session (handle) chosen or created during this interaction. */
  readonly sessionHandle?: string;
  /** The user authenticated during this interaction (satisfies prompt=login and max_age). */
  readonly freshLogin?: boolean;
  /** The user picked an account (satisfies prompt=select_account). */
  readonly accountChosen?: boolean;
  /** The consent page was answered (satisfies prompt=consent). */
  readonly consentAnswered?: boolean;
  /** "Use another account" was chosen on the picker. */
  readonly wantsOtherAccount?: boolean;
}

const KIND = 'idp.interaction';
// Long enough to read a consent page, short enough that an abandoned one does not linger.
const LIFETIME_MS = 15 * 60 * 1000;

export interface Interactions {
  start<R>(tenantId: string, csrfCookie: string, request: R): Promise<Interaction<R>>;
  /** Undefined when unknown, expired, of another tenant or bound to another browser. */
  get<R>(id: string, tenantId: string, csrfCookie: string | undefined): Promise<Interaction<R> | undefined>;
  save<R>(interaction: Interaction<R>): Promise<void>;
  /** Single use: the first completion wins. */
  finish(id: string): Promise<boolean>;
}

export function createInteractions(deps: { store: RecordStore; clock: Clock; random: Random }): Interactions {
  const { store, clock, random } = deps;
  const bind = (csrfCookie: string) =>
    createHash('sha256')
      .update('interaction\0' + csrfCookie)
      .digest('base64url');

  return {
    async start(tenantId, csrfCookie, request) {
      const interaction = {
        id: opaqueToken(random, 24),
        tenantId,
        browserBinding: bind(csrfCookie),
        request,
      };
      await store.insert({
        kind: KIND,
        id: interaction.id,
        partition: tenantId,
        data: interaction,
        expiresAt: clock.now() + LIFETIME_MS,
      });
      return interaction;
    },
    async get(id, tenantId, csrfCookie) {
      if (!csrfCookie || id.length > 100) return undefined;
      const record = await store.get<Interaction<never>>(KIND, id);
      if (!record || record.data.tenantId !== tenantId || record.data.browserBinding !== bind(csrfCookie))
        return undefined;
      return record.data;
    },
    async save(interaction) {
      const record = await store.get(KIND, interaction.id);
      if (!record) return;
      await store.update(KIND, interaction.id, record.version, interaction, {
        expiresAt: clock.now() + LIFETIME_MS,
      });
    },
    async finish(id) {
      return store.delete(KIND, id);
    },
  };
}
