import { DuplicateKeyError } from '../core/errors.ts';
import type { DirectoryDeps } from './deps.ts';
import { KIND, isoNow } from './deps.ts';
import { badRequest, concurrentChange, conflict, notFound } from './errors.ts';
import type { User, UserPasswordHash } from './model.ts';
import type { PageRequest } from './paging.ts';
import { scanPage } from './paging.ts';
import type { tenantRepository } from './tenants.ts';

const upnKey = (upn: string) => 'upn:' + upn.toLowerCase();
// Graph's minimum password complexity is richer; Behalf asks for length, the part that matters.
const MIN_PASSWORD_LENGTH = 8;
const MAX_PASSWORD_LENGTH = 256;

export interface NewUser {
  userPrincipalName: string;
  displayName: string;
  mail?: string | null;
  givenName?: string | null;
  surname?: string | null;
  accountEnabled?: boolean;
  password: string;
}

export type UserChanges = Partial<Omit<NewUser, 'password'>> & { password?: string };

export function userRepository(deps: DirectoryDeps, tenants: ReturnType<typeof tenantRepository>) {
  const { store } = deps;

  async function checkUpn(tenantId: string, upn: string): Promise<void> {
    const at = upn.lastIndexOf('@');
    if (at <= 0 || at === upn.length - 1 || /\s/.test(upn))
      throw badRequest(`userPrincipalName '${upn}' must look like alias@domain.`);
    const tenant = await tenants.requireTenant(tenantId);
    const domain = upn.slice(at + 1).toLowerCase();
    // Graph: "The domain portion of the userPrincipalName property is invalid. You must use one of the
    // verified domain names in your organization."
    if (!tenant.verifiedDomains.some((d) => d.name === domain))
      throw badRequest(
        `The domain portion of the userPrincipalName property is invalid. You must use one of the verified domain names in your organization (${tenant.verifiedDomains.map((d) => d.name).join(', ')}).`,
      );
  }

  function checkPassword(password: string): void {
    if (password.length < MIN_PASSWORD_LENGTH || password.length > MAX_PASSWORD_LENGTH)
      throw badRequest(
        `passwordProfile.password must be ${MIN_PASSWORD_LENGTH}-${MAX_PASSWORD_LENGTH} characters long.`,
      );
  }

  async function createUser(tenantId: string, input: NewUser): Promise<User> {
    if (input.displayName.trim() === '') throw badRequest('displayName must not be empty.');
    await checkUpn(tenantId, input.userPrincipalName);
    checkPassword(input.password);
    const hash = await deps.passwordHasher.hash(input.password);
    const user: User = {
      id: deps.random.uuid(),
      tenantId,
      userPrincipalName: input.userPrincipalName,
      displayName: input.displayName,
      mail: input.mail ?? null,
      givenName: input.givenName ?? null,
      surname: input.surname ?? null,
      accountEnabled: input.accountEnabled ?? true,
      createdDateTime: isoNow(deps),
    };
    try {
      await store.transaction(async (tx) => {
        await tx.insert({
          kind: KIND.user,
          id: user.id,
          partition: tenantId,
          data: user,
          uniqueKeys: [upnKey(user.userPrincipalName)],
        });
        await tx.insert<UserPasswordHash>({
          kind: KIND.userPassword,
          id: user.id,
          partition: tenantId,
          data: { userId: user.id, hash },
        });
      });
    } catch (error) {
      if (error instanceof DuplicateKeyError)
        throw conflict('Another object with the same value for property userPrincipalName already exists.');
      throw error;
    }
    return user;
  }

  async function getUser(tenantId: string, id: string): Promise<User | undefined> {
    const record = await store.get<User>(KIND.user, id.toLowerCase());
    return record && record.partition === tenantId ? record.data : undefined;
  }

  /** By object id or userPrincipalName, as Graph addresses `/users/{id | userPrincipalName}`. */
  async function findUser(tenantId: string, idOrUpn: string): Promise<User | undefined> {
    if (idOrUpn.includes('@')) {
      const user = await getUserByUpn(idOrUpn);
      return user?.tenantId === tenantId ? user : undefined;
    }
    return getUser(tenantId, idOrUpn);
  }

  async function getUserByUpn(upn: string): Promise<User | undefined> {
    return (await store.findByUniqueKey<User>(KIND.user, upnKey(upn)))?.data;
  }

  async function updateUser(tenantId: string, id: string, changes: UserChanges): Promise<User> {
    if (changes.userPrincipalName !== undefined) await checkUpn(tenantId, changes.userPrincipalName);
    if (changes.password !== undefined) checkPassword(changes.password);
    const hash =
      changes.password !== undefined ? await deps.passwordHasher.hash(changes.password) : undefined;
    try {
      return await store.transaction(async (tx) => {
        const record = await tx.get<User>(KIND.user, id);
        if (!record || record.partition !== tenantId) throw notFound(id);
        const { password: _password, ...fields } = changes;
        void _password;
        const user: User = { ...record.data, ...definedOnly(fields) };
        if (user.displayName.trim() === '') throw badRequest('displayName must not be empty.');
        const saved = await tx.update(KIND.user, id, record.version, user, {
          uniqueKeys: [upnKey(user.userPrincipalName)],
        });
        if (!saved) throw concurrentChange();
        if (hash !== undefined) {
          const current = await tx.get<UserPasswordHash>(KIND.userPassword, id);
          if (current) await tx.update(KIND.userPassword, id, current.version, { userId: id, hash });
          else
            await tx.insert({ kind: KIND.userPassword, id, partition: tenantId, data: { userId: id, hash } });
        }
        return user;
      });
    } catch (error) {
      if (error instanceof DuplicateKeyError)
        throw conflict('Another object with the same value for property userPrincipalName already exists.');
      throw error;
    }
  }

  async function deleteUser(tenantId: string, id: string): Promise<void> {
    const user = await getUser(tenantId, id);
    if (!user) throw notFound(id);
    await store.transaction(async (tx) => {
      await tx.delete(KIND.user, user.id);
      await tx.delete(KIND.userPassword, user.id);
    });
  }

  /** Constant work whether or not the user exists would need a dummy hash; the caller rate-limits. */
  async function verifyUserPassword(userId: string, password: string): Promise<boolean> {
    const record = await store.get<UserPasswordHash>(KIND.userPassword, userId);
    if (!record) return false;
    return deps.passwordHasher.verify(password, record.data.hash);
  }

  function listUsers(tenantId: string, request: PageRequest<User> = {}) {
    return scanPage<User>(store, KIND.user, tenantId, request);
  }

  return {
    createUser,
    getUser,
    findUser,
    getUserByUpn,
    updateUser,
    deleteUser,
    verifyUserPassword,
    listUsers,
  };
}

export function definedOnly<T extends object>(value: T): { [K in keyof T]: Exclude<T[K], undefined> } {
  return Object.fromEntries(Object.entries(value).filter(([, v]) => v !== undefined)) as never;
}
