import { isGuid } from '../../core/ids.ts';
import { badRequest } from '../errors.ts';
import type { Application } from '../model.ts';
import { checkIdentifierUri, identifierKey } from './identifier-uri.ts';
import { checkPublicClientRedirectUri, checkRedirectUri } from './redirect-uri.ts';
import { checkPermissionValue } from './scope-value.ts';

// Entra's limits on an application object (learn.microsoft.com/entra/identity-platform/
// reference-app-manifest, "Manifest limits"): 256 redirect URIs across platforms, display names of 256.
const MAX_REDIRECT_URIS = 256;
const MAX_DISPLAY_NAME = 256;

/** Every rule a stored application satisfies; `previous` enables the rules about changes. */
export function checkApplication(app: Application, previous?: Application): void {
  if (app.displayName.trim() === '' || app.displayName.length > MAX_DISPLAY_NAME)
    throw badRequest(`displayName must be 1-${MAX_DISPLAY_NAME} characters.`);

  const uris = new Set<string>();
  for (const uri of app.identifierUris) {
    checkIdentifierUri(uri);
    if (uris.has(identifierKey(uri))) throw badRequest(`identifierUris lists '${uri}' twice.`);
    uris.add(identifierKey(uri));
  }

  for (const uri of app.web.redirectUris) checkRedirectUri(uri, 'web.redirectUris');
  for (const uri of app.spa.redirectUris) checkRedirectUri(uri, 'spa.redirectUris');
  for (const uri of app.publicClient.redirectUris)
    checkPublicClientRedirectUri(uri, 'publicClient.redirectUris');
  for (const [name, list] of [
    ['web.redirectUris', app.web.redirectUris],
    ['spa.redirectUris', app.spa.redirectUris],
    ['publicClient.redirectUris', app.publicClient.redirectUris],
  ] as const)
    if (new Set(list).size !== list.length) throw badRequest(`${name} contains a duplicate.`);
  const redirectCount =
    app.web.redirectUris.length + app.spa.redirectUris.length + app.publicClient.redirectUris.length;
  if (redirectCount > MAX_REDIRECT_URIS)
    throw badRequest(`An application can have at most ${MAX_REDIRECT_URIS} redirect URIs.`);
  for (const url of [app.web.homePageUrl, app.web.logoutUrl])
    if (url !== null) checkRedirectUri(url, 'web.homePageUrl/logoutUrl');

  const ids = new Set<string>();
  const claim = (id: string, property: string) => {
    if (!isGuid(id)) throw badRequest(`${property}.id '${id}' is not a GUID.`);
    if (ids.has(id.toLowerCase()))
      throw badRequest(`${property}.id '${id}' is used twice in this application.`);
    ids.add(id.toLowerCase());
  };
  const scopeValues = new Set<string>();
  for (const scope of app.api.oauth2PermissionScopes) {
    claim(scope.id, 'api.oauth2PermissionScopes');
    checkPermissionValue(scope.value, 'api.oauth2PermissionScopes');
    if (scopeValues.has(scope.value.toLowerCase()))
      throw badRequest(`api.oauth2PermissionScopes: value '${scope.value}' is used twice.`);
    scopeValues.add(scope.value.toLowerCase());
  }
  const roleValues = new Set<string>();
  for (const role of app.appRoles) {
    claim(role.id, 'appRoles');
    if (role.allowedMemberTypes.length === 0)
      throw badRequest(`appRoles: role '${role.id}' needs allowedMemberTypes.`);
    if (role.value === null) continue;
    checkPermissionValue(role.value, 'appRoles');
    if (roleValues.has(role.value.toLowerCase()))
      throw badRequest(`appRoles: value '${role.value}' is used twice.`);
    roleValues.add(role.value.toLowerCase());
  }

  const scopeIds = new Set(app.api.oauth2PermissionScopes.map((s) => s.id.toLowerCase()));
  for (const pre of app.api.preAuthorizedApplications) {
    if (!isGuid(pre.appId))
      throw badRequest(`api.preAuthorizedApplications: appId '${pre.appId}' is not a GUID.`);
    for (const id of pre.delegatedPermissionIds)
      if (!scopeIds.has(id.toLowerCase()))
        throw badRequest(
          `api.preAuthorizedApplications: '${id}' is not the id of a permission scope this application exposes.`,
        );
  }
  for (const known of app.api.knownClientApplications)
    if (!isGuid(known)) throw badRequest(`api.knownClientApplications: '${known}' is not a GUID.`);

  for (const required of app.requiredResourceAccess) {
    if (!isGuid(required.resourceAppId))
      throw badRequest(`requiredResourceAccess: resourceAppId '${required.resourceAppId}' is not a GUID.`);
    for (const access of required.resourceAccess)
      if (!isGuid(access.id))
        throw badRequest(`requiredResourceAccess: resourceAccess id '${access.id}' is not a GUID.`);
  }

  if (previous) checkRemovals(app, previous);
}

// Graph: a permission must be disabled (isEnabled: false) in one update before it can be removed in a
// later one, so tokens and grants referring to it are never left dangling by accident.
function checkRemovals(app: Application, previous: Application): void {
  const keptScopes = new Set(app.api.oauth2PermissionScopes.map((s) => s.id));
  for (const scope of previous.api.oauth2PermissionScopes)
    if (scope.isEnabled && !keptScopes.has(scope.id))
      throw badRequest(
        `Permission (scope or role) cannot be deleted or updated unless disabled first: set isEnabled to false on scope '${scope.value}' before removing it.`,
      );
  const keptRoles = new Set(app.appRoles.map((r) => r.id));
  for (const role of previous.appRoles)
    if (role.isEnabled && !keptRoles.has(role.id))
      throw badRequest(
        `Permission (scope or role) cannot be deleted or updated unless disabled first: set isEnabled to false on app role '${role.value ?? role.id}' before removing it.`,
      );
}
