import { authorizationCodeGrant } from './authorization-code.ts';
import { clientCredentialsGrant } from './client-credentials.ts';
import type { Grant } from './grant.ts';
import { onBehalfOfGrant } from './jwt-bearer-obo.ts';
import { passwordGrant } from './password.ts';
import { refreshTokenGrant } from './refresh-token.ts';

/**
 * The grant map: one module per `grant_type` (node-oidc-provider style), never a switch. The device
 * code grant is registered by the interactive flows (issue 4) through `extraGrants`.
 */
export const GRANTS: Readonly<Record<string, Grant>> = {
  authorization_code: authorizationCodeGrant,
  refresh_token: refreshTokenGrant,
  client_credentials: clientCredentialsGrant,
  password: passwordGrant,
  'urn:ietf:params:oauth:grant-type:jwt-bearer': onBehalfOfGrant,
};

export type { Grant, GrantDeps, GrantRequest, Form } from './grant.ts';
