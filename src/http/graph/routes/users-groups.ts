import type { Group, User } from '../../../directory/model.ts';
import { graphError } from '../errors.ts';
import { parseFilter, parseListQuery } from '../odata.ts';
import type { GraphContext, GraphRoute } from '../router.ts';
import { collection, entity, noContent } from '../router.ts';
import {
  appRoleAssignmentBody,
  groupBody,
  groupPatch,
  memberRefBody,
  userBody,
  userPatch,
} from '../schemas.ts';
import { clean, parseBody } from '../validate.ts';
import { assignmentView, directoryObjectView, groupView, servicePrincipalView, userView } from '../views.ts';
import { guidParam } from './common.ts';

const USER_FILTER = {
  id: (u: User) => u.id,
  userPrincipalName: (u: User) => u.userPrincipalName,
  displayName: (u: User) => u.displayName,
  mail: (u: User) => u.mail,
  accountEnabled: (u: User) => String(u.accountEnabled),
};
const GROUP_FILTER = { id: (g: Group) => g.id, displayName: (g: Group) => g.displayName };

/** `/users/{id | userPrincipalName}`, as Graph addresses users. */
async function requireUser(context: GraphContext): Promise<User> {
  const key = context.params.id!;
  const user = await context.directory.findUser(context.tenantId, key);
  if (!user) throw graphError.notFoundId(key);
  return user;
}

function userInput(body: ReturnType<typeof userPatch.parse>) {
  const { passwordProfile, mailNickname: _n, '@odata.type': _t, ...rest } = body;
  void _n;
  void _t;
  return clean({ ...rest, ...(passwordProfile ? { password: passwordProfile.password } : {}) });
}

/** A member reference: `https://graph.microsoft.com/v1.0/directoryObjects/{id}` (or users/, groups/…). */
function memberIdFromRef(ref: string): string {
  const match = ref.match(/\/(?:directoryObjects|users|groups|servicePrincipals)\/([0-9a-fA-F-]{36})\/?$/);
  if (!match) throw graphError.badRequest(`Invalid '@odata.id' reference '${ref.slice(0, 200)}'.`);
  return match[1]!.toLowerCase();
}

async function describeMember(context: GraphContext, id: string) {
  const user = await context.directory.getUser(context.tenantId, id);
  if (user) return directoryObjectView('user', userView(user));
  const group = await context.directory.getGroup(context.tenantId, id);
  if (group) return directoryObjectView('group', groupView(group));
  const sp = await context.directory.getServicePrincipal(context.tenantId, id);
  if (sp) return directoryObjectView('servicePrincipal', servicePrincipalView(sp));
  return undefined;
}

export const userRoutes: GraphRoute[] = [
  {
    method: 'GET',
    path: '/users',
    access: 'users.read',
    async handle(context) {
      const query = parseListQuery(context.query);
      const where = parseFilter<User>(query.filter, USER_FILTER, 'user');
      const page = await context.directory.listUsers(context.tenantId, {
        after: query.after,
        limit: query.top,
        where,
      });
      return collection(context, 'users', { ...page, items: page.items.map(userView) }, query, 'user');
    },
  },
  {
    method: 'POST',
    path: '/users',
    access: 'users.write',
    async handle(context) {
      const input = userInput(parseBody(userBody, context.body, 'user'));
      const user = await context.directory.createUser(
        context.tenantId,
        input as typeof input & { password: string; userPrincipalName: string; displayName: string },
      );
      return entity(context, 'users', userView(user), 201);
    },
  },
  {
    method: 'GET',
    path: '/users/{id}',
    access: 'users.read',
    async handle(context) {
      return entity(context, 'users', userView(await requireUser(context)), 200, 'user');
    },
  },
  {
    method: 'PATCH',
    path: '/users/{id}',
    access: 'users.write',
    async handle(context) {
      const user = await requireUser(context);
      await context.directory.updateUser(
        context.tenantId,
        user.id,
        userInput(parseBody(userPatch, context.body, 'user')),
      );
      return noContent;
    },
  },
  {
    method: 'DELETE',
    path: '/users/{id}',
    access: 'users.write',
    async handle(context) {
      const user = await requireUser(context);
      await context.directory.deleteUser(context.tenantId, user.id);
      return noContent;
    },
  },
  {
    method: 'GET',
    path: '/users/{id}/memberOf',
    access: 'users.read',
    async handle(context) {
      const user = await requireUser(context);
      const ids = await context.directory.listGroupIdsOf(context.tenantId, user.id);
      const groups = (
        await Promise.all(ids.map((id) => context.directory.getGroup(context.tenantId, id)))
      ).filter((g): g is Group => g !== undefined);
      return collection(
        context,
        'directoryObjects',
        { items: groups.map((g) => directoryObjectView('group', groupView(g))) },
        parseListQuery(context.query),
        'group',
      );
    },
  },
];

export const userAssignmentRoutes: GraphRoute[] = [
  {
    method: 'GET',
    path: '/users/{id}/appRoleAssignments',
    access: 'users.read',
    async handle(context) {
      const user = await requireUser(context);
      const held = await context.directory.listAppRoleAssignments({
        tenantId: context.tenantId,
        principalId: user.id,
      });
      return collection(
        context,
        `users('${user.id}')/appRoleAssignments`,
        { items: held.map(assignmentView) },
        parseListQuery(context.query),
        'appRoleAssignment',
      );
    },
  },
  {
    method: 'POST',
    path: '/users/{id}/appRoleAssignments',
    access: 'assignments.write',
    async handle(context) {
      const user = await requireUser(context);
      const { '@odata.type': _t, ...body } = parseBody(
        appRoleAssignmentBody,
        context.body,
        'appRoleAssignment',
      );
      void _t;
      if (body.principalId.toLowerCase() !== user.id)
        throw graphError.badRequest(
          `The principalId of the body must be the user in the URL ('${user.id}').`,
        );
      const created = await context.directory.createAssignment(context.tenantId, body);
      return entity(context, `users('${user.id}')/appRoleAssignments`, assignmentView(created), 201);
    },
  },
];

export const groupRoutes: GraphRoute[] = [
  {
    method: 'GET',
    path: '/groups',
    access: 'groups.read',
    async handle(context) {
      const query = parseListQuery(context.query);
      const where = parseFilter<Group>(query.filter, GROUP_FILTER, 'group');
      const page = await context.directory.listGroups(context.tenantId, {
        after: query.after,
        limit: query.top,
        where,
      });
      return collection(context, 'groups', { ...page, items: page.items.map(groupView) }, query, 'group');
    },
  },
  {
    method: 'POST',
    path: '/groups',
    access: 'groups.write',
    async handle(context) {
      const {
        '@odata.type': _t,
        mailEnabled: _m,
        groupTypes: _g,
        ...input
      } = parseBody(groupBody, context.body, 'group');
      void [_t, _m, _g];
      const group = await context.directory.createGroup(context.tenantId, clean(input));
      return entity(context, 'groups', groupView(group), 201);
    },
  },
  {
    method: 'GET',
    path: '/groups/{id}',
    access: 'groups.read',
    async handle(context) {
      const group = await context.directory.getGroup(context.tenantId, guidParam(context));
      if (!group) throw graphError.notFoundId(context.params.id!);
      return entity(context, 'groups', groupView(group), 200, 'group');
    },
  },
  {
    method: 'PATCH',
    path: '/groups/{id}',
    access: 'groups.write',
    async handle(context) {
      const {
        '@odata.type': _t,
        mailEnabled: _m,
        groupTypes: _g,
        ...changes
      } = parseBody(groupPatch, context.body, 'group');
      void [_t, _m, _g];
      await context.directory.updateGroup(context.tenantId, guidParam(context), clean(changes));
      return noContent;
    },
  },
  {
    method: 'DELETE',
    path: '/groups/{id}',
    access: 'groups.write',
    async handle(context) {
      await context.directory.deleteGroup(context.tenantId, guidParam(context));
      return noContent;
    },
  },
  {
    method: 'GET',
    path: '/groups/{id}/members',
    access: 'groups.read',
    async handle(context) {
      const group = await context.directory.getGroup(context.tenantId, guidParam(context));
      if (!group) throw graphError.notFoundId(context.params.id!);
      const members = (await Promise.all(group.members.map((id) => describeMember(context, id)))).filter(
        (m) => m !== undefined,
      );
      return {
        status: 200,
        body: { '@odata.context': `${context.serviceRoot}/$metadata#directoryObjects`, value: members },
      };
    },
  },
  {
    method: 'POST',
    path: '/groups/{id}/members/$ref',
    access: 'groups.write',
    async handle(context) {
      const memberId = memberIdFromRef(
        parseBody(memberRefBody, context.body, 'directoryObject')['@odata.id'],
      );
      if (!(await describeMember(context, memberId))) throw graphError.notFoundId(memberId);
      await context.directory.addMember(context.tenantId, guidParam(context), memberId);
      return noContent;
    },
  },
  {
    method: 'DELETE',
    path: '/groups/{id}/members/{member}/$ref',
    access: 'groups.write',
    async handle(context) {
      await context.directory.removeMember(
        context.tenantId,
        guidParam(context),
        guidParam(context, 'member'),
      );
      return noContent;
    },
  },
];
