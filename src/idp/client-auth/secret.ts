import type { Application } from '../../directory/model.ts';
import type { IdpDirectory } from '../directory-port.ts';
import { entraError } from '../errors/entra-error.ts';

/**
 * A client secret (post or basic). A match on a credential past its `endDateTime` is AADSTS7000222,
 * anything else AADSTS7000215 (both 401, recorded responses in entra-protocol.md §5.1).
 */
export async function checkClientSecret(
  directory: IdpDirectory,
  app: Application,
  secret: string,
): Promise<void> {
  const check = await directory.verifyClientSecret(app.appId, secret);
  if (check.status === 'valid') return;
  if (check.status === 'expired') throw entraError(7000222, { appId: app.appId });
  throw entraError(7000215, { appId: app.appId });
}
