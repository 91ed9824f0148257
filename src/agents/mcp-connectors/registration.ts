import { z } from 'zod';
import { registrationErrors } from './errors.ts';

/**
 * The registration of an external MCP server, as Copilot Studio's onboarding wizard asks for it
 * (connector-format.md §6.2): name, description, server URL, and authentication None, API key (header
 * or query, and its name) or OAuth 2.0. For OAuth, what is not given is discovered: the authorization
 * server and its endpoints (RFC 9728, RFC 8414) when no URLs are given, the client by dynamic
 * registration (RFC 7591) when no client id is given.
 */
const LOOPBACK = new Set(['localhost', '127.0.0.1', '[::1]']);

const url = z.string().url().max(2000);

const authSchema = z.discriminatedUnion('type', [
  z.object({ type: z.literal('none') }).strict(),
  z
    .object({
      type: z.literal('apiKey'),
      in: z.enum(['header', 'query']).default('header'),
      name: z
        .string()
        .regex(/^[A-Za-z0-9!#$%&'*+.^_`|~-]{1,100}$/, 'must be an HTTP header or query parameter name')
        .default('X-API-Key'),
      /** The key of a shared connection created with the connector; without it people bring their own. */
      value: z.string().min(1).max(4000).optional(),
    })
    .strict(),
  z
    .object({
      type: z.literal('oauth'),
      clientId: z.string().min(1).max(200).optional(),
      clientSecret: z.string().min(1).max(2000).optional(),
      scopes: z.array(z.string().min(1).max(500)).max(50).optional(),
      authorizationUrl: url.optional(),
      tokenUrl: url.optional(),
      refreshUrl: url.optional(),
    })
    .strict()
    .refine((a) => (a.authorizationUrl === undefined) === (a.tokenUrl === undefined), {
      message: 'give both authorizationUrl and tokenUrl, or neither (to discover them)',
      path: ['tokenUrl'],
    })
    .refine((a) => a.clientSecret === undefined || a.clientId !== undefined, {
      message: 'a clientSecret needs its clientId',
      path: ['clientId'],
    }),
]);

const registrationSchema = z
  .object({
    url: z.string().min(1).max(2000),
    displayName: z.string().trim().min(1).max(200).optional(),
    description: z.string().max(4000).default(''),
    auth: authSchema.default({ type: 'none' }),
  })
  .strict();

export type McpAuthInput = z.output<typeof authSchema>;

export interface McpRegistration {
  readonly url: URL;
  readonly displayName: string | undefined;
  readonly description: string;
  readonly auth: McpAuthInput;
}

/** Parses and checks a registration; every problem is a 400 naming the field. */
export function parseRegistration(raw: unknown): McpRegistration {
  const parsed = registrationSchema.safeParse(raw);
  if (!parsed.success)
    throw registrationErrors.invalid(
      parsed.error.issues.map((i) => ({ path: '/' + i.path.map(String).join('/'), message: i.message })),
    );
  return {
    url: serverUrl(parsed.data.url),
    displayName: parsed.data.displayName,
    description: parsed.data.description,
    auth: parsed.data.auth,
  };
}

/**
 * An absolute https URL without credentials, query or fragment (the connector holds scheme, host and
 * path; credentials go into connections, never into the URL). Plain http only on loopback, as the MCP
 * authorization specification allows for local development.
 */
export function serverUrl(text: string): URL {
  let parsed: URL;
  try {
    parsed = new URL(text);
  } catch {
    throw registrationErrors.badUrl(`"${text.slice(0, 200)}" is not an absolute URL.`);
  }
  if (parsed.protocol !== 'https:' && parsed.protocol !== 'http:')
    throw registrationErrors.badUrl(`The URL must be https (got ${parsed.protocol.slice(0, 20)}).`);
  if (parsed.protocol === 'http:' && !LOOPBACK.has(parsed.hostname))
    throw registrationErrors.badUrl(
      `The URL must be https: plain http is only accepted for localhost (${parsed.host} is not).`,
    );
  if (parsed.username !== '' || parsed.password !== '')
    throw registrationErrors.badUrl('The URL must not carry credentials; use auth apiKey or oauth.');
  if (parsed.search !== '' || parsed.hash !== '')
    throw registrationErrors.badUrl('The URL must not have a query or a fragment.');
  return parsed;
}
