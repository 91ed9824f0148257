import type { Caller } from '../../agents/ports.ts';
import type { AgentView } from '../../agents/agent-model.ts';
import type { TokenValidator, ValidatorOptions } from '../../easyauth/validator.ts';
import { createTokenValidator } from '../../easyauth/validator.ts';
import { invalidToken } from '../../easyauth/errors.ts';

/**
 * Verifies the bearer token an MCP client presents. The audience is exactly the agent's resource URL
 * (RFC 8707 `resource` → `aud`): "MCP servers MUST validate that access tokens were issued specifically
 * for them" (MCP authorization 2025-11-25, "Token Audience Binding and Validation"). A token for Behalf
 * Connections, Graph or another agent is refused, and app-only tokens are refused: a tool runs for a person.
 */
export type McpBearerVerifier = (token: string, agent: AgentView, resource: string) => Promise<Caller>;

export interface McpBearerVerifierOptions {
  /** The identity provider's base URL; the agent's tenant is appended (`{authority}/{tenantId}`). */
  readonly authority: () => string;
  /** Extra validator settings (fetch with the local CA, clock). */
  readonly validator?: Omit<ValidatorOptions, 'authority' | 'audiences'>;
  readonly isAdministrator?: (tenantId: string, userObjectId: string) => Promise<boolean>;
}

export function createMcpBearerVerifier(options: McpBearerVerifierOptions): McpBearerVerifier {
  const validators = new Map<string, TokenValidator>();
  return async (token, agent, resource) => {
    const authority = `${options.authority().replace(/\/+$/, '')}/${agent.tenantId}`;
    const key = `${authority} ${resource}`;
    let validator = validators.get(key);
    if (!validator) {
      validator = createTokenValidator({ ...options.validator, authority, audiences: [resource] });
      validators.set(key, validator);
    }
    const principal = await validator.validate(token);
    if (principal.isAppOnly)
      throw invalidToken('An app-only token cannot call agent tools: they run for a signed-in person.');
    if (principal.tid.toLowerCase() !== agent.tenantId.toLowerCase())
      throw invalidToken('The token is from another tenant.');
    return {
      tenantId: principal.tid,
      userObjectId: principal.oid,
      ...(principal.name !== undefined ? { displayName: principal.name } : {}),
      ...(principal.upn !== undefined ? { userPrincipalName: principal.upn } : {}),
      isAdministrator: (await options.isAdministrator?.(principal.tid, principal.oid)) ?? false,
      assertion: token,
    };
  };
}
