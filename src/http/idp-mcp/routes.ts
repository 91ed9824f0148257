import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { Clock } from '../../core/clock.ts';
import { isWireError, WireError } from '../../core/errors.ts';
import type { Logger } from '../../core/logger.ts';
import type { Directory } from '../../directory/directory.ts';
import { mcpAuthorizationServerMetadata } from '../../idp/endpoints/mcp-authorization-server-metadata.ts';
import {
  parseRegistrationRequest,
  RegistrationRateLimitedError,
  registrationResponse,
} from '../../idp/endpoints/dynamic-registration.ts';
import type { TokenService } from '../../idp/token-service.ts';
import type { RouteModule } from '../server.ts';
import type { McpResourceApps } from './mcp-resource-app.ts';
import { createRateLimiter } from './rate-limit.ts';

/**
 * The authorization server as MCP clients meet it (MCP authorization 2025-11-25): RFC 8414 metadata,
 * RFC 7591 registration, and `resource`-aware (RFC 8707) front doors to Behalf's own /authorize and
 * /token. Entra's v2 endpoints refuse `resource` (AADSTS901002) and Behalf keeps them Entra-exact, so
 * these endpoints check the resource is an agent of the tenant, turn it into the scope
 * `{resource}/user_impersonation` of the tenant's Behalf MCP app, and hand over to the standard
 * endpoints: same sign-in and consent pages, same codes, same token service.
 */
export interface McpIdpRoutesOptions {
  readonly directory: Directory;
  readonly tokens: TokenService;
  readonly resourceApps: McpResourceApps;
  /** Whether `resource` is the MCP URL of an agent of this tenant. */
  readonly isAgentResource: (tenantId: string, resource: string) => Promise<boolean>;
  readonly publicUrl: () => string;
  readonly clock: Clock;
  readonly logger: Logger;
  /** Registrations per client address per window (default 20 per 10 minutes). */
  readonly registrationLimit?: { readonly count: number; readonly windowMs: number };
}

export const MCP_OAUTH_PREFIX = '/mcp-oauth';

class OAuthError extends WireError {
  readonly status: number;
  readonly code: string;
  constructor(status: number, code: string, description: string) {
    super(description);
    this.status = status;
    this.code = code;
  }
  body() {
    return { error: this.code, error_description: this.message };
  }
  override headers() {
    return { 'cache-control': 'no-store' };
  }
}

const OIDC_SCOPES = ['openid', 'profile', 'email', 'offline_access'];
const NO_STORE = { 'cache-control': 'no-store', pragma: 'no-cache' };
type TenantParams = { Params: { tenant: string } };

function audienceOf(accessToken: unknown): string | undefined {
  if (typeof accessToken !== 'string') return undefined;
  try {
    const payload = JSON.parse(
      Buffer.from(accessToken.split('.')[1] ?? '', 'base64url').toString('utf8'),
    ) as {
      aud?: unknown;
    };
    return typeof payload.aud === 'string' ? payload.aud : undefined;
  } catch {
    return undefined;
  }
}

export function mcpIdpRoutes(options: McpIdpRoutesOptions): RouteModule {
  const { directory, tokens, resourceApps } = options;
  const limit = options.registrationLimit ?? { count: 20, windowMs: 10 * 60_000 };
  const limiter = createRateLimiter({ ...limit, clock: options.clock });

  async function tenantOf(segment: string) {
    const tenant = await directory.getTenant(segment);
    if (!tenant) throw new OAuthError(404, 'invalid_tenant', `Tenant '${segment.slice(0, 64)}' not found.`);
    return tenant;
  }

  /** RFC 8707 §2: one absolute URI without fragment, naming an agent of this tenant. */
  async function checkResource(tenantId: string, resource: string | undefined): Promise<string> {
    if (resource === undefined || resource === '')
      throw new OAuthError(
        400,
        'invalid_target',
        "'resource' is required: the URL of the agent's MCP server (RFC 8707).",
      );
    if (!(await options.isAgentResource(tenantId, resource)))
      throw new OAuthError(
        400,
        'invalid_target',
        `'${resource.slice(0, 200)}' is not the MCP server of an agent of this tenant.`,
      );
    return resource;
  }

  /** Keeps the OIDC scopes; anything else must belong to the resource; always offline_access for MCP clients. */
  function scopeFor(resource: string, requested: string | undefined): string {
    const scopes = (requested ?? '').split(' ').filter((s) => s !== '');
    const oidc = scopes.filter((s) => OIDC_SCOPES.includes(s.toLowerCase()));
    const foreign = scopes.filter((s) => !oidc.includes(s) && !s.startsWith(`${resource}/`));
    if (foreign.length > 0)
      throw new OAuthError(
        400,
        'invalid_scope',
        `The scope ${foreign[0]!.slice(0, 200)} is not a scope of ${resource}.`,
      );
    const own = scopes.filter((s) => s.startsWith(`${resource}/`));
    // Long-running MCP sessions need to renew silently; MSAL asks for offline_access the same way.
    const extra = oidc.map((s) => s.toLowerCase()).includes('offline_access') ? [] : ['offline_access'];
    return [...(own.length > 0 ? own : [`${resource}/user_impersonation`]), ...oidc, ...extra].join(' ');
  }

  return async (app: FastifyInstance) => {
    await app.register(async (scope) => {
      scope.addContentTypeParser(
        'application/x-www-form-urlencoded',
        { parseAs: 'string', bodyLimit: 64 * 1024 },
        (_request, body, done) => {
          const form: Record<string, string> = {};
          for (const [key, value] of new URLSearchParams(body as string))
            if (!(key in form)) form[key] = value;
          done(null, form);
        },
      );
      scope.setErrorHandler((error: Error, request, reply) => {
        if (isWireError(error)) return reply.code(error.status).headers(error.headers()).send(error.body());
        const status = (error as { statusCode?: number }).statusCode;
        if (status !== undefined && status >= 400 && status < 500)
          return reply
            .code(status)
            .headers(NO_STORE)
            .send({ error: 'invalid_request', error_description: error.message.split('\n')[0] });
        options.logger.error('MCP authorization endpoint failed', { url: request.url.split('?')[0], error });
        return reply.code(500).headers(NO_STORE).send({ error: 'server_error' });
      });

      scope.get<TenantParams>(
        '/.well-known/oauth-authorization-server/:tenant/v2.0',
        async (request, reply) => {
          const tenant = await tenantOf(request.params.tenant);
          const base = options.publicUrl();
          return reply.header('cache-control', 'max-age=3600').send(
            mcpAuthorizationServerMetadata({
              issuer: `${base}/${tenant.id}/v2.0`,
              endpoints: `${base}${MCP_OAUTH_PREFIX}/${tenant.id}`,
              jwksUri: `${base}/${tenant.id}/discovery/keys`,
              tenantRoot: `${base}/${tenant.id}`,
            }),
          );
        },
      );

      scope.post<TenantParams>(`${MCP_OAUTH_PREFIX}/:tenant/register`, async (request, reply) => {
        const tenant = await tenantOf(request.params.tenant);
        const wait = limiter.take(`${tenant.id} ${request.ip}`);
        if (wait > 0) throw new RegistrationRateLimitedError(Math.ceil(wait / 1000));
        const registration = parseRegistrationRequest(request.body);
        const client = await directory.createApplication(tenant.id, {
          displayName: registration.clientName,
          description: 'Registered by an MCP client (RFC 7591 dynamic client registration).',
          signInAudience: 'AzureADMyOrg',
          isFallbackPublicClient: true,
          publicClient: { redirectUris: [...registration.redirectUris] },
        });
        await directory.createServicePrincipal(tenant.id, { appId: client.appId });
        options.logger.info('MCP client registered', { tenantId: tenant.id, appId: client.appId });
        return reply
          .code(201)
          .headers(NO_STORE)
          .send(registrationResponse(registration, client.appId, Math.floor(options.clock.now() / 1000)));
      });

      scope.get<TenantParams & { Querystring: Record<string, string | undefined> }>(
        `${MCP_OAUTH_PREFIX}/:tenant/authorize`,
        async (request, reply: FastifyReply) => {
          const tenant = await tenantOf(request.params.tenant);
          const { resource, scope: requested, ...rest } = request.query;
          const checked = await checkResource(tenant.id, resource);
          await resourceApps.ensureResource(tenant.id, checked);
          const target = new URL(`${options.publicUrl()}/${tenant.id}/oauth2/v2.0/authorize`);
          for (const [name, value] of Object.entries(rest))
            if (typeof value === 'string') target.searchParams.set(name, value);
          target.searchParams.set('scope', scopeFor(checked, requested));
          return reply
            .code(302)
            .header('location', target.toString())
            .header('cache-control', 'no-store')
            .send();
        },
      );

      scope.post<TenantParams>(
        `${MCP_OAUTH_PREFIX}/:tenant/token`,
        async (request: FastifyRequest<TenantParams>, reply) => {
          const tenant = await tenantOf(request.params.tenant);
          const form = { ...((request.body ?? {}) as Record<string, string>) };
          const { resource, ...rest } = form;
          const grantType = rest['grant_type'];
          if (grantType !== 'authorization_code' && grantType !== 'refresh_token')
            throw new OAuthError(400, 'unsupported_grant_type', 'Use authorization_code or refresh_token.');
          const checked = await checkResource(tenant.id, resource);
          if (grantType === 'refresh_token') rest['scope'] = scopeFor(checked, rest['scope']);
          const body = (await tokens.token({ endpoint: 2, tenantSegment: tenant.id, form: rest })) as Record<
            string,
            unknown
          >;
          // The code or refresh token fixes the audience; a client naming another resource now is refused
          // rather than handed a token it did not ask for (RFC 8707 §2.2).
          if (audienceOf(body['access_token']) !== checked)
            throw new OAuthError(
              400,
              'invalid_target',
              'The grant was issued for another resource; authorize again for this one.',
            );
          return reply.headers(NO_STORE).send(body);
        },
      );
    });
  };
}
