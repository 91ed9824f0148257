import type { FastifyRequest } from 'fastify';
import type { Caller } from '../../agents/ports.ts';
import type { CallerVerifier } from '../../connections/caller-verifier.ts';
import { ConnectionError } from '../../connections/errors.ts';
import type { VerifyBearer } from '../graph/caller.ts';
import { bearerToken, requireAccess } from '../graph/caller.ts';
import { graphError } from '../graph/errors.ts';

/**
 * Who is calling the agents API. Makers use the same management bearer as the directory and connector
 * APIs (Graph audience, application read/write permissions); people chatting present a token for Behalf
 * Connections, which the chat keeps as the on-behalf-of assertion for their tool calls.
 */
export function makerAuthorizer(verify: VerifyBearer) {
  return async (request: FastifyRequest): Promise<{ tenantId: string }> => {
    const caller = await verify(bearerToken(request.headers.authorization));
    if (!caller) throw graphError.invalidToken();
    requireAccess(caller, request.method === 'GET' ? 'applications.read' : 'applications.write');
    return { tenantId: caller.tenantId };
  };
}

export function userAuthenticator(
  verifier: CallerVerifier,
  isAdministrator: (tenantId: string, objectId: string) => Promise<boolean>,
) {
  const fromToken = personFromToken(verifier, isAdministrator);
  return (request: FastifyRequest): Promise<Caller> => fromToken(request.headers.authorization);
}

/** The person behind an `Authorization` header value carrying a token for Behalf Connections. */
export function personFromToken(
  verifier: CallerVerifier,
  isAdministrator: (tenantId: string, objectId: string) => Promise<boolean>,
) {
  return async (authorization: string | undefined): Promise<Caller> => {
    const who = await verifier.verify(authorization);
    // A chat runs tools for a person; an app-only token has nobody to act for.
    if (who.appOnly)
      throw new ConnectionError(
        403,
        'UserRequired',
        'The chat API acts for a signed-in person; app-only tokens cannot chat or read run history.',
      );
    return {
      tenantId: who.tenantId,
      userObjectId: who.objectId,
      ...(who.name !== undefined ? { displayName: who.name } : {}),
      ...(who.upn !== undefined ? { userPrincipalName: who.upn } : {}),
      isAdministrator: await isAdministrator(who.tenantId, who.objectId),
      assertion: who.token,
    };
  };
}
