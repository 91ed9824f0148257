/**
 * Microsoft Graph's permissions as Behalf's Graph resource exposes them, with Microsoft's own ids
 * (the ids in every Graph service principal: learn.microsoft.com/graph/permissions-reference), so an
 * application manifest or script written for Entra (requiredResourceAccess by id) works unchanged.
 */
export interface GraphPermission {
  readonly value: string;
  readonly scopeId?: string;
  readonly roleId?: string;
  readonly description: string;
  /** Delegated permissions a user may consent to alone; the rest need an administrator. */
  readonly userConsent?: boolean;
}

export const GRAPH_PERMISSIONS: readonly GraphPermission[] = [
  {
    value: 'openid',
    scopeId: '37f7f235-527c-4136-accd-4a02d197296e',
    description: 'Sign users in',
    userConsent: true,
  },
  {
    value: 'profile',
    scopeId: '14dad69e-099b-42c9-810b-d002981feec1',
    description: "View users' basic profile",
    userConsent: true,
  },
  {
    value: 'email',
    scopeId: '64a6cdd6-aab1-4aaf-94b8-3cc8405e90d0',
    description: "View users' email address",
    userConsent: true,
  },
  {
    value: 'offline_access',
    scopeId: '7427e0e9-2fba-42fe-b0c0-848c9e6a8182',
    description: 'Maintain access to data you have given it access to',
    userConsent: true,
  },
  {
    value: 'User.Read',
    scopeId: 'e1fe6dd8-ba31-4d61-89e7-88639da4683d',
    description: 'Sign in and read user profile',
    userConsent: true,
  },
  {
    value: 'User.ReadBasic.All',
    scopeId: 'b340eb25-3456-403f-be2f-af7a0d370277',
    description: "Read all users' basic profiles",
    userConsent: true,
  },
  {
    value: 'User.Read.All',
    scopeId: 'a154be20-db9c-4678-8ab7-66f6cc099a59',
    roleId: 'df021288-bdef-4463-88db-98f22de89214',
    description: "Read all users' full profiles",
  },
  {
    value: 'User.ReadWrite.All',
    scopeId: '204e0828-b5ca-4ad8-b9f3-f32a958e7cc4',
    roleId: '741f803b-c850-494e-b5df-cde7c675a1ca',
    description: "Read and write all users' full profiles",
  },
  {
    value: 'Group.Read.All',
    scopeId: '5f8c59db-677d-491f-a6b8-5f174b11ec1d',
    roleId: '5b567255-7703-4780-807c-7be8301ae99b',
    description: 'Read all groups',
  },
  {
    value: 'Group.ReadWrite.All',
    scopeId: '4e46008b-f24c-477d-8fff-7bb4ec7aafe0',
    roleId: '62a82d76-70ea-41e2-9197-370581804d09',
    description: 'Read and write all groups',
  },
  {
    value: 'Application.Read.All',
    scopeId: 'c79f8feb-a9db-4090-85f9-90d820caa0eb',
    roleId: '9a5d68dd-52b0-4cc2-bd40-abcf44ac3a30',
    description: 'Read applications',
  },
  {
    value: 'Application.ReadWrite.All',
    scopeId: 'bdfbf15f-ee85-4955-8675-146e8e5296b5',
    roleId: '1bfefb4e-e0b5-418b-a88f-73c46d2cc8e9',
    description: 'Read and write all applications',
  },
  {
    value: 'Directory.Read.All',
    scopeId: '06da0dbc-49e2-44d2-8312-53f166ab848a',
    roleId: '7ab1d382-f21e-4acd-a863-ba3e13f7da61',
    description: 'Read directory data',
  },
  {
    value: 'Directory.ReadWrite.All',
    scopeId: 'c5366453-9fb0-48a5-a156-24f0c49a4b84',
    roleId: '19dbc75e-c2e2-444c-a770-ec69d8559fc7',
    description: 'Read and write directory data',
  },
  {
    value: 'Directory.AccessAsUser.All',
    scopeId: '0e263e50-5827-48a4-b97c-d940288653c7',
    description: 'Access directory as the signed in user',
  },
  {
    value: 'AppRoleAssignment.ReadWrite.All',
    scopeId: '84bccea3-f856-4a8a-967b-dbe0a3d53a64',
    roleId: '06b708a9-e830-4db3-a914-8e69da51d44f',
    description: 'Manage app permission grants and app role assignments',
  },
  {
    value: 'DelegatedPermissionGrant.ReadWrite.All',
    scopeId: '41ce6ca6-6826-4807-84f1-1c82854f7ee5',
    roleId: '8e8e4742-1d95-4f68-9d56-6ee75648c72a',
    description: 'Manage all delegated permission grants',
  },
];

/** What the built-in administrator app holds: every Graph write role the management API checks. */
export const ADMIN_GRAPH_ROLES = [
  'Application.ReadWrite.All',
  'Directory.ReadWrite.All',
  'User.ReadWrite.All',
  'Group.ReadWrite.All',
  'AppRoleAssignment.ReadWrite.All',
  'DelegatedPermissionGrant.ReadWrite.All',
] as const;
