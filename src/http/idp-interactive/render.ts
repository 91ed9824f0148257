import type { FastifyReply, FastifyRequest } from 'fastify';
import { isGuid } from '../../core/ids.ts';
import type { Random } from '../../core/ids.ts';
import type { BrowserContext } from '../../idp/endpoints/authorize-deps.ts';
import type { InteractiveResponse } from '../../idp/endpoints/authorize-response.ts';
import { pageHeaders } from '../../idp/pages/layout.ts';

/** The browser request as the interactive endpoints see it: cookies, parameters, a correlation id. */
export function browserContext(request: FastifyRequest, random: Random): BrowserContext {
  const header = request.headers['client-request-id'];
  const supplied = typeof header === 'string' && isGuid(header) ? header : undefined;
  const query = (request.query ?? {}) as Record<string, unknown>;
  const body =
    request.method === 'POST' && request.body && typeof request.body === 'object' ? request.body : {};
  const params: Record<string, string | undefined> = {};
  // Entra accepts /authorize parameters in the query or, for POST, the form body.
  for (const source of [query, body as Record<string, unknown>])
    for (const [name, value] of Object.entries(source)) if (typeof value === 'string') params[name] = value;
  return { cookieHeader: request.headers.cookie, correlationId: supplied ?? random.uuid(), params };
}

export function send(reply: FastifyReply, response: InteractiveResponse): FastifyReply {
  if (response.setCookies && response.setCookies.length > 0)
    reply.header('set-cookie', [...response.setCookies]);
  if (response.kind === 'redirect') {
    return reply
      .code(302)
      .headers({
        location: response.location,
        'cache-control': 'no-store',
        pragma: 'no-cache',
        'referrer-policy': 'no-referrer',
      })
      .send();
  }
  return reply.code(response.page.status).headers(pageHeaders(response.page)).send(response.page.html);
}
