import { z } from 'zod';

/**
 * Request bodies, validated at the edge. Objects are strict (an unknown property is an error naming
 * it, as Graph does) and accept the `@odata.type` annotations Graph SDKs add to nested objects.
 */
const odata = { '@odata.type': z.string().optional() };
const guid = z.guid();
const text = (max: number) => z.string().max(max);
const nullableText = (max: number) => z.string().max(max).nullable().optional();
const uris = z.array(z.string().max(2048)).max(256);

const permissionScope = z.strictObject({
  ...odata,
  id: guid.optional(),
  value: text(120),
  type: z.enum(['User', 'Admin']).optional(),
  isEnabled: z.boolean().optional(),
  adminConsentDisplayName: nullableText(256),
  adminConsentDescription: nullableText(1024),
  userConsentDisplayName: nullableText(256),
  userConsentDescription: nullableText(1024),
  origin: z.string().max(64).nullable().optional(),
});

const appRole = z.strictObject({
  ...odata,
  id: guid.optional(),
  value: z.string().max(120).nullable().optional(),
  displayName: nullableText(256),
  description: nullableText(1024),
  allowedMemberTypes: z
    .array(z.enum(['User', 'Application']))
    .min(1)
    .max(2),
  isEnabled: z.boolean().optional(),
  origin: z.string().max(64).optional(),
});

const api = z.strictObject({
  ...odata,
  requestedAccessTokenVersion: z
    .union([z.literal(1), z.literal(2)])
    .nullable()
    .optional(),
  oauth2PermissionScopes: z.array(permissionScope).max(100).optional(),
  preAuthorizedApplications: z
    .array(z.strictObject({ ...odata, appId: guid, delegatedPermissionIds: z.array(guid).max(100) }))
    .max(100)
    .optional(),
  knownClientApplications: z.array(guid).max(100).optional(),
  acceptMappedClaims: z.boolean().nullable().optional(),
});

const web = z.strictObject({
  ...odata,
  redirectUris: uris.optional(),
  homePageUrl: z.string().max(2048).nullable().optional(),
  logoutUrl: z.string().max(2048).nullable().optional(),
  implicitGrantSettings: z
    .strictObject({
      ...odata,
      enableIdTokenIssuance: z.boolean().optional(),
      enableAccessTokenIssuance: z.boolean().optional(),
    })
    .optional(),
});

const keyCredential = z.strictObject({
  ...odata,
  keyId: guid.optional(),
  displayName: nullableText(256),
  type: z.literal('AsymmetricX509Cert'),
  usage: z.literal('Verify'),
  key: z.string().min(1).max(16384),
  startDateTime: z.iso.datetime({ offset: true }).optional(),
  endDateTime: z.iso.datetime({ offset: true }).optional(),
  customKeyIdentifier: z.string().nullable().optional(),
});

export const applicationBody = z.strictObject({
  ...odata,
  displayName: text(256).optional(),
  description: nullableText(1024),
  identifierUris: z.array(z.string().max(255)).max(50).optional(),
  signInAudience: z
    .enum([
      'AzureADMyOrg',
      'AzureADMultipleOrgs',
      'AzureADandPersonalMicrosoftAccount',
      'PersonalMicrosoftAccount',
    ])
    .optional(),
  api: api.optional(),
  appRoles: z.array(appRole).max(100).optional(),
  requiredResourceAccess: z
    .array(
      z.strictObject({
        ...odata,
        resourceAppId: guid,
        resourceAccess: z
          .array(z.strictObject({ ...odata, id: guid, type: z.enum(['Scope', 'Role']) }))
          .max(400),
      }),
    )
    .max(50)
    .optional(),
  web: web.optional(),
  spa: z.strictObject({ ...odata, redirectUris: uris.optional() }).optional(),
  publicClient: z.strictObject({ ...odata, redirectUris: uris.optional() }).optional(),
  isFallbackPublicClient: z.boolean().nullable().optional(),
  keyCredentials: z.array(keyCredential).max(20).optional(),
  tags: z.array(text(256)).max(50).optional(),
});

export const addPasswordBody = z.strictObject({
  passwordCredential: z
    .strictObject({
      ...odata,
      displayName: nullableText(256),
      startDateTime: z.iso.datetime({ offset: true }).nullable().optional(),
      endDateTime: z.iso.datetime({ offset: true }).nullable().optional(),
    })
    .optional(),
});

export const removePasswordBody = z.strictObject({ keyId: guid });

export const federatedCredentialBody = z.strictObject({
  ...odata,
  name: text(120),
  issuer: text(600),
  subject: text(600),
  audiences: z.array(text(600)),
  description: nullableText(600),
});

export const federatedCredentialPatch = federatedCredentialBody.partial();

export const servicePrincipalBody = z.strictObject({
  ...odata,
  appId: guid,
  accountEnabled: z.boolean().optional(),
  appRoleAssignmentRequired: z.boolean().optional(),
  tags: z.array(text(256)).max(50).optional(),
});

export const servicePrincipalPatch = z.strictObject({
  ...odata,
  accountEnabled: z.boolean().optional(),
  appRoleAssignmentRequired: z.boolean().optional(),
  tags: z.array(text(256)).max(50).optional(),
  displayName: text(256).optional(),
});

export const userBody = z.strictObject({
  ...odata,
  userPrincipalName: text(113),
  displayName: text(256),
  mailNickname: text(64).optional(),
  mail: z.string().max(320).nullable().optional(),
  givenName: nullableText(64),
  surname: nullableText(64),
  accountEnabled: z.boolean().optional(),
  passwordProfile: z.strictObject({
    ...odata,
    password: text(256),
    forceChangePasswordNextSignIn: z.boolean().optional(),
  }),
});

export const userPatch = userBody.partial();

export const groupBody = z.strictObject({
  ...odata,
  displayName: text(256),
  description: nullableText(1024),
  mailNickname: z.string().max(64).nullable().optional(),
  mailEnabled: z.literal(false).optional(),
  securityEnabled: z.boolean().optional(),
  groupTypes: z.array(z.string()).max(0).optional(),
});

export const groupPatch = groupBody.partial();

export const memberRefBody = z.strictObject({ '@odata.id': z.string().max(2048) });

export const grantBody = z.strictObject({
  ...odata,
  clientId: guid,
  consentType: z.enum(['AllPrincipals', 'Principal']),
  principalId: guid.nullable().optional(),
  resourceId: guid,
  scope: text(4000),
  // Deprecated by Graph and ignored, but SDKs still send them.
  startTime: z.string().optional(),
  expiryTime: z.string().optional(),
});

export const grantPatch = z.strictObject({ ...odata, scope: text(4000) });

export const appRoleAssignmentBody = z.strictObject({
  ...odata,
  principalId: guid,
  resourceId: guid,
  appRoleId: guid,
});

/** Behalf extension: POST /v1.0/organization creates a tenant. */
export const organizationBody = z.strictObject({
  ...odata,
  displayName: text(256),
  verifiedDomains: z
    .array(z.strictObject({ ...odata, name: text(253), isDefault: z.boolean().optional() }))
    .min(1)
    .max(20),
});
