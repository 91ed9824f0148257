import { X509Certificate, createHash } from 'node:crypto';
import type { Random } from '../core/ids.ts';
import { badRequest } from './errors.ts';
import type {
  ApiApplication,
  AppRole,
  Application,
  KeyCredential,
  PermissionScope,
  RequiredResourceAccess,
  SignInAudience,
  WebApplication,
} from './model.ts';

/** What a caller may write on an application (Graph's writable properties); the rest is server-owned. */
export interface ApplicationInput {
  displayName?: string;
  description?: string | null;
  identifierUris?: string[];
  signInAudience?: SignInAudience;
  api?: Partial<Omit<ApiApplication, 'oauth2PermissionScopes'>> & {
    oauth2PermissionScopes?: PermissionScopeInput[];
  };
  appRoles?: AppRoleInput[];
  requiredResourceAccess?: RequiredResourceAccess[];
  web?: Partial<Omit<WebApplication, 'implicitGrantSettings'>> & {
    implicitGrantSettings?: Partial<WebApplication['implicitGrantSettings']>;
  };
  spa?: { redirectUris?: string[] };
  publicClient?: { redirectUris?: string[] };
  isFallbackPublicClient?: boolean;
  keyCredentials?: KeyCredentialInput[];
  tags?: string[];
}

export type PermissionScopeInput = Partial<PermissionScope> & { value: string };
export type AppRoleInput = Partial<AppRole> & { allowedMemberTypes: AppRole['allowedMemberTypes'] };

export interface KeyCredentialInput {
  keyId?: string;
  displayName?: string | null;
  type: 'AsymmetricX509Cert';
  usage: 'Verify';
  /** Base64 DER (or PEM) of the certificate. */
  key: string;
  startDateTime?: string;
  endDateTime?: string;
}

export function emptyApplication(
  base: Pick<Application, 'id' | 'tenantId' | 'appId' | 'createdDateTime'>,
): Application {
  return {
    ...base,
    displayName: '',
    description: null,
    identifierUris: [],
    signInAudience: 'AzureADMyOrg',
    api: {
      requestedAccessTokenVersion: null,
      oauth2PermissionScopes: [],
      preAuthorizedApplications: [],
      knownClientApplications: [],
      acceptMappedClaims: null,
    },
    appRoles: [],
    requiredResourceAccess: [],
    web: {
      redirectUris: [],
      homePageUrl: null,
      logoutUrl: null,
      implicitGrantSettings: { enableIdTokenIssuance: false, enableAccessTokenIssuance: false },
    },
    spa: { redirectUris: [] },
    publicClient: { redirectUris: [] },
    isFallbackPublicClient: false,
    passwordCredentials: [],
    keyCredentials: [],
    federatedIdentityCredentials: [],
    publisherDomain: null,
    tags: [],
  };
}

/**
 * Graph PATCH semantics: top-level properties given replace the stored ones; complex properties (api,
 * web) merge one level deep, collections inside them are replaced whole.
 */
export function applyApplicationInput(
  app: Application,
  input: ApplicationInput,
  random: Random,
): Application {
  const next: Application = { ...app };
  if (input.displayName !== undefined) next.displayName = input.displayName;
  if (input.description !== undefined) next.description = input.description;
  if (input.identifierUris !== undefined) next.identifierUris = [...input.identifierUris];
  if (input.signInAudience !== undefined) next.signInAudience = input.signInAudience;
  if (input.isFallbackPublicClient !== undefined) next.isFallbackPublicClient = input.isFallbackPublicClient;
  if (input.tags !== undefined) next.tags = [...input.tags];
  if (input.requiredResourceAccess !== undefined) next.requiredResourceAccess = input.requiredResourceAccess;
  if (input.api !== undefined) {
    const { oauth2PermissionScopes, ...rest } = input.api;
    next.api = { ...app.api, ...definedFields(rest) };
    if (oauth2PermissionScopes !== undefined)
      next.api.oauth2PermissionScopes = oauth2PermissionScopes.map((s) => completeScope(s, random));
  }
  if (input.appRoles !== undefined) next.appRoles = input.appRoles.map((r) => completeRole(r, random));
  if (input.web !== undefined) {
    const { implicitGrantSettings, ...rest } = input.web;
    next.web = {
      ...app.web,
      ...definedFields(rest),
      implicitGrantSettings: {
        ...app.web.implicitGrantSettings,
        ...definedFields(implicitGrantSettings ?? {}),
      },
    };
  }
  if (input.spa?.redirectUris !== undefined) next.spa = { redirectUris: [...input.spa.redirectUris] };
  if (input.publicClient?.redirectUris !== undefined)
    next.publicClient = { redirectUris: [...input.publicClient.redirectUris] };
  if (input.keyCredentials !== undefined)
    next.keyCredentials = input.keyCredentials.map((k) => completeKeyCredential(k, random));
  return next;
}

function definedFields<T extends object>(value: T): Partial<T> {
  return Object.fromEntries(Object.entries(value).filter(([, v]) => v !== undefined)) as Partial<T>;
}

function completeScope(input: PermissionScopeInput, random: Random): PermissionScope {
  return {
    id: input.id ?? random.uuid(),
    value: input.value,
    type: input.type ?? 'User',
    isEnabled: input.isEnabled ?? true,
    adminConsentDisplayName: input.adminConsentDisplayName ?? null,
    adminConsentDescription: input.adminConsentDescription ?? null,
    userConsentDisplayName: input.userConsentDisplayName ?? null,
    userConsentDescription: input.userConsentDescription ?? null,
  };
}

function completeRole(input: AppRoleInput, random: Random): AppRole {
  return {
    id: input.id ?? random.uuid(),
    value: input.value ?? null,
    displayName: input.displayName ?? null,
    description: input.description ?? null,
    allowedMemberTypes: [...input.allowedMemberTypes],
    isEnabled: input.isEnabled ?? true,
    ...(input.origin !== undefined ? { origin: input.origin } : { origin: 'Application' }),
  };
}

/** Certificates are parsed here so a key credential always carries the thumbprint clients name in `x5t`. */
function completeKeyCredential(input: KeyCredentialInput, random: Random): KeyCredential {
  const der = input.key.includes('-----BEGIN')
    ? Buffer.from(input.key.replace(/-----[^-]+-----/g, '').replace(/\s+/g, ''), 'base64')
    : Buffer.from(input.key, 'base64');
  let certificate: X509Certificate;
  try {
    certificate = new X509Certificate(der);
  } catch {
    throw badRequest('keyCredentials.key must be a base64-encoded X.509 certificate (DER).');
  }
  return {
    keyId: input.keyId ?? random.uuid(),
    displayName: input.displayName ?? certificate.subject.replace(/\n/g, ', '),
    type: 'AsymmetricX509Cert',
    usage: 'Verify',
    key: der.toString('base64'),
    customKeyIdentifier: createHash('sha1').update(der).digest('base64'),
    startDateTime: input.startDateTime ?? new Date(certificate.validFrom).toISOString(),
    endDateTime: input.endDateTime ?? new Date(certificate.validTo).toISOString(),
  };
}
