import { createHmac, timingSafeEqual } from 'node:crypto';
import type { Clock } from '../core/clock.ts';

/**
 * A consent link names who it is for. The card is handed to a caller (an agent, an API client) who
 * proved the user's identity with a bearer token, but the link is opened in a browser that carries no
 * such token; so the link carries a short-lived ticket, MACed with a key only Behalf holds, binding
 * tenant, user object id, connector, connection and the kind of consent. The flow that follows binds
 * the OAuth `state` to the same user, and the user who comes back must be that user.
 */
export type ConsentKind = 'interactive' | 'sso-1' | 'sso-2';

export interface ConsentTicket {
  readonly tenantId: string;
  readonly userObjectId: string;
  readonly connectorId: string;
  readonly connectionId?: string;
  readonly kind: ConsentKind;
  /** Milliseconds since the epoch. */
  readonly expiresAt: number;
}

export interface ConsentTickets {
  issue(ticket: Omit<ConsentTicket, 'expiresAt'>): string;
  /** The ticket, or undefined when it is forged, altered or expired. */
  read(text: string): ConsentTicket | undefined;
}

const KINDS: readonly ConsentKind[] = ['interactive', 'sso-1', 'sso-2'];

export function createConsentTickets(deps: {
  key: Buffer;
  clock: Clock;
  lifetimeMs?: number;
}): ConsentTickets {
  const lifetime = deps.lifetimeMs ?? 24 * 3600_000;
  const mac = (body: string) => createHmac('sha256', deps.key).update(body).digest('base64url');
  return {
    issue(ticket) {
      const body = Buffer.from(
        JSON.stringify([
          ticket.tenantId,
          ticket.userObjectId,
          ticket.connectorId,
          ticket.connectionId ?? '',
          ticket.kind,
          deps.clock.now() + lifetime,
        ]),
      ).toString('base64url');
      return `${body}.${mac(body)}`;
    },
    read(text) {
      const [body, tag] = text.split('.');
      if (!body || !tag) return undefined;
      const expected = Buffer.from(mac(body));
      const given = Buffer.from(tag);
      if (expected.length !== given.length || !timingSafeEqual(expected, given)) return undefined;
      try {
        const [tenantId, userObjectId, connectorId, connectionId, kind, expiresAt] = JSON.parse(
          Buffer.from(body, 'base64url').toString('utf8'),
        ) as [string, string, string, string, ConsentKind, number];
        if (!KINDS.includes(kind) || expiresAt < deps.clock.now()) return undefined;
        return {
          tenantId,
          userObjectId,
          connectorId,
          ...(connectionId ? { connectionId } : {}),
          kind,
          expiresAt,
        };
      } catch {
        return undefined;
      }
    },
  };
}
