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
import { checkRedirectUriOf, looksLikeClientIdUrl } from '../../idp/endpoints/client-metadata-document.ts';
import { createClientMetadataDocuments } from '../../idp/endpoints/client-metadata-document-fetch.ts';
import type { TokenService } from '../../idp/token-service.ts';
import type { RecordStore } from '../../storage/record-store.ts';
import type { RouteModule } from '../server.ts';
import { createClientMetadataApps } from './client-metadata-apps.ts';
import type { McpResourceApps } from './mcp-resource-app.ts';
import { createRateLimiter } from './rate-limit.ts';
import { DYNAMIC_REGISTRATION_APP_TAG } from '../../idp/self-registered-apps.ts';

/**
 * The authorization server as MCP clients meet it (MCP authorization 2025-11-25): RFC 8414 metadata,
 * client ID metadata documents, RFC 7591 registration, and `resource`-aware (RFC 8707) front doors to
 * Behalf's own /authorize and /token. A `client_id` that is a metadata document URL is fetched,
 * checked and mapped to its public-client application here, so the standard endpoints see an appId. Entra's v2 endpoints refuse `resource` (AADSTS901002) and Behalf keeps them Entra-exact, so
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
  /**
   * Client ID metadata documents (advertised and accepted only when given): where their applications
   * are recorded, which loopback/private origins may serve them (configuration
   * `clientMetadataAllowlist`), Behalf's local CA, and how many uncached document fetches one client
   * address may cause per window (default 30 per 10 minutes).
   */
  readonly clientMetadata?: {
    readonly store: RecordStore;
    readonly allowedPrivateOrigins: readonly string[];
    readonly caCertificatePem?: string | undefined;
    readonly fetchLimit?: { readonly count: number; readonly windowMs: number };
  };
}

export const MCP_OAUTH_PREFIX = '/mcp-oauth';

class OAuthError extends WireError {
  readonly status: number;
  readonly code: string;
  readonly extraHeaders: Record<string, string>;
  constructor(status: number, code: string, description: string, extraHeaders: Record<string, string> = {}) {
    super(description);
    this.status = status;
    this.code = code;
    this.extraHeaders = extraHeaders;
  }
  body() {
    return { error: this.code, error_description: this.message };
  }
  override headers() {
    return { 'cache-control': 'no-store', ...this.extraHeaders };
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
  const cimd = options.clientMetadata;
  const documents = cimd
    ? createClientMetadataDocuments({
        clock: options.clock,
        allowedPrivateOrigins: cimd.allowedPrivateOrigins,
        ...(cimd.caCertificatePem ? { extraCaPem: [cimd.caCertificatePem] } : {}),
      })
    : undefined;
  const clientApps = cimd ? createClientMetadataApps({ directory, store: cimd.store }) : undefined;
  const fetchLimiter = createRateLimiter({
    ...(cimd?.fetchLimit ?? { count: 30, windowMs: 10 * 60_000 }),
    clock: options.clock,
  });

  /**
   * A `client_id` that is a client ID metadata document URL: fetched (or cached), checked, and turned
   * into its application's appId in this tenant; the redirect URI, when given, must be one the
   * document lists. Any other client_id is returned unchanged for the standard endpoints to judge.
   */
  async function resolveClient(
    tenantId: string,
    clientId: string | undefined,
    ip: string,
    redirectUri?: { readonly value: string | undefined },
  ): Promise<string | undefined> {
    if (!documents || !clientApps || !looksLikeClientIdUrl(clientId)) return clientId;
    const metadata = await documents.get(clientId, {
      beforeFetch: () => {
        const wait = fetchLimiter.take(ip);
        if (wait > 0)
          throw new OAuthError(
            429,
            'temporarily_unavailable',
            'Too many client ID metadata documents fetched for this address; try again later.',
            { 'retry-after': String(Math.ceil(wait / 1000)) },
          );
      },
    });
    if (redirectUri) checkRedirectUriOf(metadata, redirectUri.value);
    return clientApps.appIdFor(tenantId, metadata);
  }

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
            mcpAuthorizationServerMetadata(
              {
                issuer: `${base}/${tenant.id}/v2.0`,
                endpoints: `${base}${MCP_OAUTH_PREFIX}/${tenant.id}`,
                jwksUri: `${base}/${tenant.id}/discovery/keys`,
                tenantRoot: `${base}/${tenant.id}`,
              },
              { clientIdMetadataDocuments: documents !== undefined },
            ),
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
          tags: [DYNAMIC_REGISTRATION_APP_TAG],
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
          // The client first: an unverified client or redirect URI gets an error here, never a redirect.
          const clientId = await resolveClient(tenant.id, rest['client_id'], request.ip, {
            value: rest['redirect_uri'],
          });
          if (clientId !== undefined) rest['client_id'] = clientId;
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
          const clientId = await resolveClient(tenant.id, rest['client_id'], request.ip);
          if (clientId !== undefined) rest['client_id'] = clientId;
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
