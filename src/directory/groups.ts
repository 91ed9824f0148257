import type { DirectoryDeps } from './deps.ts';
import { KIND, isoNow } from './deps.ts';
import { badRequest, concurrentChange, conflict, notFound } from './errors.ts';
import type { Group } from './model.ts';
import type { PageRequest } from './paging.ts';
import { scanPage } from './paging.ts';
import { definedOnly } from './users.ts';

const memberKey = (id: string) => 'member:' + id;
// Nested groups deeper than this are a loop or a mistake; Entra's transitive queries are bounded too.
const MAX_NESTING = 16;

export interface NewGroup {
  displayName: string;
  description?: string | null;
  mailNickname?: string | null;
  securityEnabled?: boolean;
}

export function groupRepository(deps: DirectoryDeps) {
  const { store } = deps;

  async function createGroup(tenantId: string, input: NewGroup): Promise<Group> {
    if (input.displayName.trim() === '') throw badRequest('displayName must not be empty.');
    const group: Group = {
      id: deps.random.uuid(),
      tenantId,
      displayName: input.displayName,
      description: input.description ?? null,
      mailNickname: input.mailNickname ?? null,
      securityEnabled: input.securityEnabled ?? true,
      members: [],
      createdDateTime: isoNow(deps),
    };
    await store.insert({ kind: KIND.group, id: group.id, partition: tenantId, data: group, indexKeys: [] });
    return group;
  }

  async function getGroup(tenantId: string, id: string): Promise<Group | undefined> {
    const record = await store.get<Group>(KIND.group, id.toLowerCase());
    return record && record.partition === tenantId ? record.data : undefined;
  }

  async function mutate(tenantId: string, id: string, change: (group: Group) => Group): Promise<Group> {
    const record = await store.get<Group>(KIND.group, id.toLowerCase());
    if (!record || record.partition !== tenantId) throw notFound(id);
    const next = change(record.data);
    const saved = await store.update(KIND.group, record.id, record.version, next, {
      indexKeys: next.members.map(memberKey),
    });
    if (!saved) throw concurrentChange();
    return next;
  }

  function updateGroup(tenantId: string, id: string, changes: Partial<NewGroup>): Promise<Group> {
    return mutate(tenantId, id, (group) => {
      const next = { ...group, ...definedOnly(changes) };
      if (next.displayName.trim() === '') throw badRequest('displayName must not be empty.');
      return next;
    });
  }

  async function deleteGroup(tenantId: string, id: string): Promise<void> {
    const group = await getGroup(tenantId, id);
    if (!group) throw notFound(id);
    await store.delete(KIND.group, group.id);
  }

  /** The caller has checked that `memberId` is a user, group or service principal of the tenant. */
  function addMember(tenantId: string, groupId: string, memberId: string): Promise<Group> {
    return mutate(tenantId, groupId, (group) => {
      // Graph: "One or more added object references already exist for the following modified properties: 'members'."
      if (group.members.includes(memberId))
        throw conflict(
          "One or more added object references already exist for the following modified properties: 'members'.",
        );
      if (memberId === group.id) throw badRequest('A group cannot be a member of itself.');
      return { ...group, members: [...group.members, memberId] };
    });
  }

  function removeMember(tenantId: string, groupId: string, memberId: string): Promise<Group> {
    return mutate(tenantId, groupId, (group) => {
      if (!group.members.includes(memberId)) throw notFound(memberId);
      return { ...group, members: group.members.filter((m) => m !== memberId) };
    });
  }

  /** Groups that contain `memberId`, directly or (transitive) through nested groups: the `groups` claim. */
  async function listGroupIdsOf(
    tenantId: string,
    memberId: string,
    options: { transitive?: boolean } = {},
  ): Promise<string[]> {
    const found = new Set<string>();
    let frontier = [memberId];
    for (let depth = 0; frontier.length > 0 && depth < MAX_NESTING; depth++) {
      const next: string[] = [];
      for (const id of frontier) {
        for (const record of await store.findByIndex<Group>(KIND.group, memberKey(id), {
          partition: tenantId,
        })) {
          if (found.has(record.id)) continue;
          found.add(record.id);
          next.push(record.id);
        }
      }
      if (!options.transitive) break;
      frontier = next;
    }
    return [...found];
  }

  function listGroups(tenantId: string, request: PageRequest<Group> = {}) {
    return scanPage<Group>(store, KIND.group, tenantId, request);
  }

  return {
    createGroup,
    getGroup,
    updateGroup,
    deleteGroup,
    addMember,
    removeMember,
    listGroupIdsOf,
    listGroups,
  };
}
