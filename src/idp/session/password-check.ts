import type { User } from '../../directory/model.ts';
import type { IdpDirectory } from '../directory-port.ts';
import type { Lockout } from './lockout.ts';

/**
 * The one password check of every sign-in form (authorize, my account): lockout first, then the
 * password. The answer is the same for an unknown user and a wrong password, and an unknown user's
 * failures count towards the lockout too, so the forms never reveal which accounts exist.
 */
export async function checkPassword(
  deps: { directory: IdpDirectory; lockout: Lockout },
  tenantId: string,
  username: string,
  password: string,
): Promise<{ ok: true; user: User } | { ok: false; reason: 'invalid' | 'locked' }> {
  if (await deps.lockout.isLocked(tenantId, username)) return { ok: false, reason: 'locked' };
  const user = username ? await deps.directory.getUserByUpn(tenantId, username) : undefined;
  const ok =
    user !== undefined &&
    password !== '' &&
    (await deps.directory.verifyUserPassword(tenantId, user.id, password));
  if (!ok || !user) {
    const locked = await deps.lockout.recordFailure(tenantId, username);
    return { ok: false, reason: locked ? 'locked' : 'invalid' };
  }
  await deps.lockout.recordSuccess(tenantId, username);
  return { ok: true, user };
}
