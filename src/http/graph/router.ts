import type { Directory } from '../../directory/directory.ts';
import type { Access, GraphCaller } from './caller.ts';
import { graphError } from './errors.ts';
import type { ListQuery } from './odata.ts';
import { parseListQuery, selectFields, skipToken } from './odata.ts';

export interface GraphContext {
  readonly directory: Directory;
  readonly caller: GraphCaller;
  readonly tenantId: string;
  readonly homeTenantId: () => string | undefined;
  readonly params: Readonly<Record<string, string>>;
  readonly body: unknown;
  readonly query: Record<string, unknown>;
  /** `https://host:port/v1.0` as the caller addressed it, for @odata.context and next links. */
  readonly serviceRoot: string;
  /** The request path below the service root, e.g. `/applications/{id}/federatedIdentityCredentials`. */
  readonly path: string;
}

export interface GraphResponse {
  readonly status: number;
  readonly body?: unknown;
  readonly headers?: Record<string, string>;
}

export interface GraphRoute {
  readonly method: 'GET' | 'POST' | 'PATCH' | 'DELETE';
  /** Segments; `{name}` captures one. */
  readonly path: string;
  readonly access: Access;
  handle(context: GraphContext): Promise<GraphResponse>;
}

export interface MatchedRoute {
  readonly route: GraphRoute;
  readonly params: Record<string, string>;
}

export function matchRoute(routes: readonly GraphRoute[], method: string, path: string): MatchedRoute {
  const segments = path.split('/').filter((s) => s !== '');
  let pathMatched = false;
  for (const route of routes) {
    const pattern = route.path.split('/').filter((s) => s !== '');
    if (pattern.length !== segments.length) continue;
    const params: Record<string, string> = {};
    const ok = pattern.every((p, i) => {
      const actual = segments[i]!;
      if (p.startsWith('{') && p.endsWith('}')) {
        params[p.slice(1, -1)] = actual;
        return true;
      }
      return p.toLowerCase() === actual.toLowerCase();
    });
    if (!ok) continue;
    pathMatched = true;
    if (route.method === method) return { route, params };
  }
  if (pathMatched) throw graphError.notAllowed(method, path);
  const known = new Set(
    routes.flatMap((r) => r.path.split('/').filter((s) => s !== '' && !s.startsWith('{'))),
  );
  throw graphError.noSegment(segments.find((s, i) => i % 2 === 0 && !known.has(s)) ?? segments.at(-1) ?? '');
}

/** A collection response: `@odata.context`, `value`, and `@odata.nextLink` when more follow. */
export function collection(
  context: GraphContext,
  contextFragment: string,
  page: { items: Record<string, unknown>[]; next?: string | undefined },
  query: ListQuery,
  type: string,
): GraphResponse {
  const body: Record<string, unknown> = {
    '@odata.context': `${context.serviceRoot}/$metadata#${contextFragment}`,
    value: page.items.map((v) => selectFields(v, query.select, type)),
  };
  if (page.next !== undefined) {
    const params = new URLSearchParams();
    params.set('$top', String(query.top));
    if (query.filter !== undefined) params.set('$filter', query.filter);
    if (query.select) params.set('$select', query.select.join(','));
    params.set('$skiptoken', skipToken(page.next));
    body['@odata.nextLink'] = `${context.serviceRoot}${context.path}?${params.toString()}`;
  }
  return { status: 200, body };
}

export function entity(
  context: GraphContext,
  contextFragment: string,
  view: Record<string, unknown>,
  status = 200,
  type?: string,
): GraphResponse {
  const select = type ? parseListQuery(context.query).select : undefined;
  return {
    status,
    body: {
      '@odata.context': `${context.serviceRoot}/$metadata#${contextFragment}/$entity`,
      ...(type ? selectFields(view, select, type) : view),
    },
  };
}

export const noContent: GraphResponse = { status: 204 };
