import type { Caller } from '../connections/caller-verifier.ts';
import type { ConnectionRecord, ConnectionRepository } from '../connections/connection-repository.ts';
import type { LoadedConnector } from '../connections/connector-source.ts';
import type { CredentialResolver } from '../connections/credentials.ts';
import type { ConsentCard } from '../connections/errors.ts';
import { ConnectionError, connectionErrors } from '../connections/errors.ts';

/**
 * Which connection a call runs on. With an id: the caller's own per-user connection or a shared one
 * of this connector; anything else (Alice's connection asked for by Bob, another connector's) is the
 * same 404 as a connection that does not exist. Without an id: the caller's own connection; for an
 * SSO connector one is created on first use (it holds no credential: the caller's token is the
 * credential); otherwise a shared connection; otherwise a consent card to create one.
 *
 * Reads go through the repository's `recent` cache (at most 1 s old for changes made by another
 * process; this process's own writes are seen at once), as a store read per call is most of the
 * gateway's budget.
 */
export async function resolveConnection(input: {
  caller: Caller;
  connector: LoadedConnector;
  connectionId: string | undefined;
  connections: ConnectionRepository;
  credentials: CredentialResolver;
  /** A card that creates the caller's connection by signing in (interactive connectors). */
  consentCard?: (caller: Caller, connector: LoadedConnector) => ConsentCard;
}): Promise<ConnectionRecord> {
  const { caller, connector, connections, credentials } = input;
  const owner = { tenantId: caller.tenantId, userObjectId: caller.objectId };
  if (input.connectionId !== undefined) {
    const record = await connections.recent.getForCaller(input.connectionId, owner);
    if (record.data.connectorId !== connector.id) throw connectionErrors.notFound(input.connectionId);
    return record;
  }
  const mine = (await connections.recent.listByOwner(owner)).filter(
    (c) => c.data.connectorId === connector.id,
  );
  const usable = mine.find((c) => c.data.state === 'connected') ?? mine[0];
  if (usable) return usable;
  if (!caller.appOnly && credentials.usesOnBehalfOf(connector, caller.tenantId))
    return connections.create({
      tenantId: caller.tenantId,
      connectorId: connector.id,
      displayName: `${connector.model.title} (single sign-on)`,
      mode: 'per-user',
      owner,
      createdBy: caller.objectId,
      state: 'connected',
    });
  const shared = (await connections.recent.listByConnector(caller.tenantId, connector.id)).find(
    (c) => c.data.mode === 'shared',
  );
  if (shared) return shared;
  const auth = credentials.authOf(connector);
  if (auth.kind === 'oauth' && input.consentCard)
    throw new ConnectionError(
      403,
      'ConsentRequired',
      `You have no connection to ${connector.model.title} yet.`,
      {
        remediation: `Open the consent link and sign in to ${connector.model.title} once, then retry.`,
        consentCard: input.consentCard(caller, connector),
      },
    );
  throw new ConnectionError(404, 'NoConnection', `You have no connection to ${connector.model.title}.`, {
    remediation:
      auth.kind === 'oauth'
        ? `Create a connection to ${connector.model.title} (sign in once), then retry.`
        : `Ask an administrator to create a connection to ${connector.model.title}.`,
  });
}
