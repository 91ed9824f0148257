import type {
  AppRoleAssignment,
  Application,
  FederatedIdentityCredential,
  Group,
  OAuth2PermissionGrant,
  ServicePrincipal,
  Tenant,
  User,
} from '../../directory/model.ts';
import type { CreatedPassword } from '../../directory/credentials.ts';
import { toPublicPassword } from '../../directory/credentials.ts';

/**
 * Stored objects → Graph JSON. Internal fields (tenantId, secret hashes, membership arrays) never leave;
 * relationships Graph does not inline (federatedIdentityCredentials, members) have their own routes.
 */
type View = Record<string, unknown>;

export function applicationView(app: Application): View {
  const {
    tenantId: _t,
    federatedIdentityCredentials: _f,
    passwordCredentials,
    keyCredentials,
    ...rest
  } = app;
  void _t;
  void _f;
  return {
    ...rest,
    deletedDateTime: null,
    passwordCredentials: passwordCredentials.map(toPublicPassword),
    // Graph returns `key` only on a $select of a single object; Behalf never returns it.
    keyCredentials: keyCredentials.map((k) => ({ ...k, key: null })),
  };
}

export function servicePrincipalView(sp: ServicePrincipal): View {
  const { tenantId: _t, ...rest } = sp;
  void _t;
  return { ...rest, deletedDateTime: null, passwordCredentials: [], keyCredentials: [] };
}

export function userView(user: User): View {
  const { tenantId: _t, ...rest } = user;
  void _t;
  return {
    ...rest,
    businessPhones: [],
    jobTitle: null,
    mobilePhone: null,
    officeLocation: null,
    preferredLanguage: null,
  };
}

export function groupView(group: Group): View {
  const { tenantId: _t, members: _m, ...rest } = group;
  void _t;
  void _m;
  return { ...rest, mailEnabled: false, groupTypes: [], deletedDateTime: null };
}

export function grantView(grant: OAuth2PermissionGrant): View {
  const { tenantId: _t, ...rest } = grant;
  void _t;
  return { ...rest };
}

export function assignmentView(assignment: AppRoleAssignment): View {
  const { tenantId: _t, ...rest } = assignment;
  void _t;
  return { ...rest, deletedDateTime: null };
}

export function federatedCredentialView(credential: FederatedIdentityCredential): View {
  return { ...credential };
}

export function passwordView(created: CreatedPassword): View {
  return { ...created };
}

export function organizationView(tenant: Tenant): View {
  return {
    id: tenant.id,
    displayName: tenant.displayName,
    createdDateTime: tenant.createdDateTime,
    tenantType: 'AAD',
    verifiedDomains: tenant.verifiedDomains.map((d) => ({ ...d, type: 'Managed', capabilities: 'None' })),
  };
}

export function directoryObjectView(type: 'user' | 'group' | 'servicePrincipal', view: View): View {
  return { '@odata.type': `#microsoft.graph.${type}`, ...view };
}
