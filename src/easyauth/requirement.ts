import { insufficientScope } from './errors.ts';
import type { Principal } from './principal.ts';

/**
 * What a route demands. Delegated callers are checked against `scopes` (`scp`), app-only callers
 * against `roles` (Entra's rule: "use scp for delegated, roles for application permissions";
 * access-tokens.md). A route that lists only scopes is delegated-only, only roles app-only.
 */
export interface Requirement {
  /** Any one of these delegated scopes is enough. */
  readonly scopes?: readonly string[];
  /** Any one of these app roles is enough (for app-only callers; see `userRoles` for users). */
  readonly roles?: readonly string[];
  /** Any one of these app roles assigned to the *user* is enough (delegated callers). */
  readonly userRoles?: readonly string[];
  /** Overrides who may call; by default derived from which lists are set. */
  readonly callers?: 'delegated' | 'app' | 'any';
}

/** Throws a 403 `insufficient_scope` saying what was missing. */
export function enforce(principal: Principal, requirement: Requirement | undefined): void {
  if (!requirement) return;
  const scopes = requirement.scopes ?? [];
  const roles = requirement.roles ?? [];
  const userRoles = requirement.userRoles ?? [];
  const callers =
    requirement.callers ??
    (scopes.length + userRoles.length > 0 && roles.length > 0
      ? 'any'
      : roles.length > 0
        ? 'app'
        : scopes.length + userRoles.length > 0
          ? 'delegated'
          : 'any');
  if (principal.isAppOnly) {
    if (callers === 'delegated')
      throw insufficientScope(
        'This operation requires a delegated (user) token; an app-only token was presented.',
        scopes,
      );
    if (roles.length > 0 && !roles.some((r) => principal.roles.includes(r)))
      throw insufficientScope(
        `The application lacks the app role required: one of ${roles.join(', ')}.`,
        roles,
      );
    return;
  }
  if (callers === 'app')
    throw insufficientScope(
      'This operation requires an application (app-only) token; a user token was presented.',
      roles,
    );
  if (scopes.length > 0 && !scopes.some((s) => principal.scopes.includes(s)))
    throw insufficientScope(
      `The token lacks the delegated permission required: one of ${scopes.join(', ')}.`,
      scopes,
    );
  if (userRoles.length > 0 && !userRoles.some((r) => principal.roles.includes(r)))
    throw insufficientScope(
      `The user lacks the app role required: one of ${userRoles.join(', ')}.`,
      userRoles,
    );
}
