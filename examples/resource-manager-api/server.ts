import { randomUUID } from 'node:crypto';
import { createEasyAuth } from '../../src/easyauth/index.ts';
import type { BearerError, FetchLike, Principal } from '../../src/easyauth/index.ts';
import { serveApi } from '../serve.ts';
import type { ApiResult, Route, RunningApi, ServeOptions } from '../serve.ts';
import { defaultSubscriptionSeed } from './subscriptions-seed.ts';
import type { Subscription, SubscriptionSeed } from './subscriptions-seed.ts';

/**
 * Contoso Resource Manager: the Azure-Resource-Manager-shaped API of seed 000. It accepts v1 tokens
 * for `https://management.contoso.test/` (with or without the trailing slash, as ARM does) carrying
 * the delegated scope `user_impersonation`.
 */
export interface ResourceManagerApiOptions extends ServeOptions {
  readonly authority: string;
  readonly tenantId?: string;
  /** The API's appId and identifier URI (`https://management.contoso.test/`). */
  readonly audiences: readonly string[];
  readonly seed?: SubscriptionSeed;
  readonly ca?: string;
  readonly fetch?: FetchLike;
  readonly keyRefreshCooldownMs?: number;
}

/** The api-versions of `Subscriptions - List` the demo answers (ARM refuses any other). */
const API_VERSIONS = new Set(['2016-06-01', '2020-01-01', '2022-12-01']);

export async function startResourceManagerApi(options: ResourceManagerApiOptions): Promise<RunningApi> {
  const seed = options.seed ?? defaultSubscriptionSeed();
  const auth = createEasyAuth({
    authority: options.authority,
    audiences: options.audiences,
    audienceTrailingSlash: 'either',
    ...(options.tenantId ? { allowedTenants: [options.tenantId] } : {}),
    ...(options.ca ? { ca: options.ca } : {}),
    ...(options.fetch ? { fetch: options.fetch } : {}),
    ...(options.keyRefreshCooldownMs !== undefined
      ? { keyRefreshCooldownMs: options.keyRefreshCooldownMs }
      : {}),
    formatError: armAuthError,
  });

  const visibleTo = (p: Principal) => {
    const who = new Set([p.oid.toLowerCase(), (p.upn ?? '').toLowerCase()]);
    const ids = new Set(
      seed.roleAssignments.filter((a) => who.has(a.principal.toLowerCase())).map((a) => a.subscriptionId),
    );
    return seed.subscriptions.filter((s) => ids.has(s.subscriptionId));
  };

  function versionError(query: URLSearchParams): ApiResult | undefined {
    const version = query.get('api-version');
    if (!version)
      return armError(
        400,
        'MissingApiVersionParameter',
        'The api-version query parameter (?api-version=) is required for all requests.',
      );
    if (!API_VERSIONS.has(version))
      return armError(
        400,
        'InvalidApiVersionParameter',
        `The api-version '${version}' is invalid. The supported versions are '${[...API_VERSIONS].join(',')}'.`,
      );
    return undefined;
  }

  const routes: Route[] = [
    {
      method: 'GET',
      pattern: /^\/subscriptions\/?$/,
      requirement: { scopes: ['user_impersonation'] },
      handle: ({ principal, query }) => {
        const invalid = versionError(query);
        if (invalid) return invalid;
        const value = visibleTo(principal).map((s) => render(s, principal.tid));
        return { status: 200, body: { value, count: { type: 'Total', value: value.length } } };
      },
    },
    {
      method: 'GET',
      pattern: /^\/subscriptions\/(?<id>[^/]+)\/?$/,
      requirement: { scopes: ['user_impersonation'] },
      handle: ({ principal, query, params }) => {
        const invalid = versionError(query);
        if (invalid) return invalid;
        const found = visibleTo(principal).find((s) => s.subscriptionId === params['id']);
        // ARM does not reveal whether a subscription the caller cannot see exists.
        if (!found)
          return armError(
            404,
            'SubscriptionNotFound',
            `The subscription '${params['id']}' could not be found.`,
          );
        return { status: 200, body: render(found, principal.tid) };
      },
    },
  ];
  return serveApi(
    auth,
    routes,
    (path) => armError(404, 'InvalidResourceType', `The resource type could not be found for '${path}'.`),
    (message) => armError(400, 'InvalidRequestContent', message),
    options,
  );
}

function render(s: Subscription, tenantId: string) {
  return {
    id: `/subscriptions/${s.subscriptionId}`,
    authorizationSource: 'RoleBased',
    managedByTenants: [],
    subscriptionId: s.subscriptionId,
    tenantId,
    displayName: s.displayName,
    state: s.state,
    subscriptionPolicies: {
      locationPlacementId: 'Public_2014-09-01',
      quotaId: s.quotaId,
      spendingLimit: 'Off',
    },
  };
}

/** ARM's error envelope (`{"error":{"code","message"}}`, ARM RPC "Error response content"). */
function armError(status: number, code: string, message: string): ApiResult {
  return { status, body: { error: { code, message } } };
}

function armAuthError(error: BearerError) {
  const code =
    error.status === 403
      ? 'AuthorizationFailed'
      : /audience/.test(error.description)
        ? 'InvalidAuthenticationTokenAudience'
        : /tenant|issuer/i.test(error.description)
          ? 'InvalidAuthenticationTokenTenant'
          : error.code === undefined
            ? 'AuthenticationFailed'
            : 'InvalidAuthenticationToken';
  return { error: { code, message: error.description }, requestId: randomUUID() };
}
