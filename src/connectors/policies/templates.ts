import type { PolicySection } from '../model.ts';
import { isObject } from '../pointer.ts';
import { bodyPath, deleteAt, getAt, setAt } from './body-path.ts';
import type { Scope } from './expression.ts';
import { interpolate, parseWhole, stringify } from './expression.ts';
import type { InboundResponse, OutboundRequest, PolicyContext } from './types.ts';
import { PolicyError } from './types.ts';

type Params = Readonly<Record<string, unknown>>;
type Mutable<T> = { -readonly [K in keyof T]: T[K] };
export type Req = Mutable<OutboundRequest> & {
  headers: Record<string, string>;
  query: Record<string, string>;
};
export type Res = Mutable<InboundResponse> & { headers: Record<string, string> };
export interface ResponseState {
  connectionUnauthenticated: boolean;
  trigger?: { items: unknown; state: Record<string, string> };
}

export interface PolicyTemplate {
  readonly id: string;
  /** Required `x-ms-apimTemplateParameter.*` names (connector-format.md §1.3.4). */
  readonly required: readonly string[];
  readonly optional: readonly string[];
  readonly sections: readonly PolicySection[];
  readonly request?: (p: Params, req: Req, ctx: PolicyContext) => Promise<void> | void;
  readonly response?: (p: Params, res: Res, ctx: PolicyContext, state: ResponseState) => void;
  /**
   * The body property names `response` acts on: with none of them in a response body, it changes
   * nothing, and the gateway may relay the body without parsing it (apply.ts, responsePolicyTargets).
   */
  readonly responseActsOn?: (p: Params) => readonly string[];
}

export function requestScope(req: Req, ctx: PolicyContext): Scope {
  return {
    connectionParameters: ctx.connectionParameters,
    headers: req.headers,
    query: req.query,
    body: req.body,
    method: ctx.request?.method ?? req.method,
  };
}

export function responseScope(res: Res, ctx: PolicyContext): Scope {
  return {
    connectionParameters: ctx.connectionParameters,
    headers: res.headers,
    query: ctx.request?.query ?? {},
    body: res.body,
    triggerBody: res.body,
    method: ctx.request?.method ?? 'GET',
  };
}

function text(p: Params, name: string, scope: Scope): string {
  const raw = p[name];
  return typeof raw === 'string' ? stringify(interpolate(raw, scope)) : stringify(raw);
}

function setNamed(record: Record<string, string>, name: string, value: string, action: unknown): void {
  const existing = Object.keys(record).find((k) => k.toLowerCase() === name.toLowerCase());
  const mode = typeof action === 'string' ? action.toLowerCase() : 'override';
  if (existing !== undefined && mode === 'skip') return;
  if (existing !== undefined && mode === 'append') {
    record[existing] = `${record[existing]},${value}`;
    return;
  }
  if (existing !== undefined) delete record[existing];
  record[name] = value;
}

/** Replaces the base of a URL: a template with a path replaces scheme+host+basePath, one without only the origin. */
function rebase(url: string, template: string, baseUrl: string | undefined): string {
  const target = template.replace(/\/+$/, '');
  if (target === '') return url;
  const hasPath = /^[a-z][a-z0-9+.-]*:\/\/[^/]+\/./i.test(target);
  const base = baseUrl?.replace(/\/+$/, '');
  if (hasPath && base && url.startsWith(base)) return target + url.slice(base.length);
  const origin = /^[a-z][a-z0-9+.-]*:\/\/[^/]+/i.exec(url)?.[0] ?? '';
  const withScheme = /^[a-z][a-z0-9+.-]*:\/\//i.test(target) ? target : `https://${target}`;
  return withScheme + url.slice(origin.length);
}

function currentBase(url: string, baseUrl: string | undefined): string {
  const base = baseUrl?.replace(/\/+$/, '');
  if (base && url.startsWith(base)) return base;
  return /^[a-z][a-z0-9+.-]*:\/\/[^/]+/i.exec(url)?.[0] ?? '';
}

function splitQuery(path: string, query: Record<string, string>): string {
  const q = path.indexOf('?');
  if (q === -1) return path;
  for (const [k, v] of new URLSearchParams(path.slice(q + 1))) query[k] = v;
  return path.slice(0, q);
}

/** Applies a body transform in whichever section the instance is in. */
function bodyTransform(fn: (p: Params, body: { body: unknown }, scope: Scope) => void) {
  return {
    request: (p: Params, req: Req, ctx: PolicyContext) => fn(p, req, requestScope(req, ctx)),
    response: (p: Params, res: Res, ctx: PolicyContext) => fn(p, res, responseScope(res, ctx)),
  };
}

const both: readonly PolicySection[] = ['request', 'response'];

const TEMPLATES: readonly PolicyTemplate[] = [
  {
    id: 'setheader',
    required: ['name', 'value'],
    optional: ['existsAction'],
    sections: ['request', 'response', 'failure'],
    request: (p, req, ctx) =>
      setNamed(req.headers, String(p.name), text(p, 'value', requestScope(req, ctx)), p.existsAction),
    response: (p, res, ctx) =>
      setNamed(res.headers, String(p.name), text(p, 'value', responseScope(res, ctx)), p.existsAction),
  },
  {
    id: 'setqueryparameter',
    required: ['name', 'value'],
    optional: ['existsAction'],
    sections: ['request'],
    request: (p, req, ctx) =>
      setNamed(req.query, String(p.name), text(p, 'value', requestScope(req, ctx)), p.existsAction),
  },
  ...(['dynamichosturl', 'dynamicsubdomain'] as const).map((id): PolicyTemplate => ({
    id,
    required: ['urlTemplate'],
    optional: [],
    sections: ['request'],
    request: (p, req, ctx) => {
      req.url = rebase(req.url, text(p, 'urlTemplate', requestScope(req, ctx)), ctx.baseUrl);
    },
  })),
  {
    id: 'routerequesttoendpoint',
    required: ['newPath'],
    optional: ['httpMethod'],
    sections: ['request'],
    request: (p, req, ctx) => {
      const scope = requestScope(req, ctx);
      const parameters = ctx.parameters ?? {};
      const raw = text(p, 'newPath', scope).replace(/\{([^{}@]+)\}/g, (whole, name: string) =>
        Object.hasOwn(parameters, name) ? encodeURIComponent(parameters[name]!) : whole,
      );
      const path = splitQuery(raw, req.query);
      req.url = `${currentBase(req.url, ctx.baseUrl)}/${path.replace(/^\/+/, '')}`;
      if (p.httpMethod !== undefined) req.method = text(p, 'httpMethod', scope).toUpperCase() || req.method;
    },
  },
  {
    id: 'setproperty',
    required: ['newPropertyParentPathTemplate', 'newPropertySubPathTemplate', 'propertyValuePathTemplate'],
    optional: [],
    sections: both,
    ...bodyTransform((p, target, scope) => {
      const path = [...bodyPath(p.newPropertyParentPathTemplate), ...bodyPath(p.newPropertySubPathTemplate)];
      const raw = p.propertyValuePathTemplate;
      const value = typeof raw === 'string' ? interpolate(raw, scope) : raw;
      target.body = setAt(target.body, path, value);
    }),
  },
  {
    id: 'stringreplace',
    required: ['propertyParentPath', 'sourceString', 'replacementString', 'newPropertyPath'],
    optional: ['propertySubPath'],
    sections: both,
    ...bodyTransform((p, target) => {
      const value = getAt(target.body, [...bodyPath(p.propertyParentPath), ...bodyPath(p.propertySubPath)]);
      if (typeof value !== 'string') return;
      const replaced = value.split(String(p.sourceString)).join(String(p.replacementString));
      target.body = setAt(target.body, bodyPath(p.newPropertyPath), replaced);
    }),
  },
  {
    id: 'updatenextlink',
    required: ['nextLinkPropertyName'],
    optional: ['nextLinkParentPropertyPath'],
    sections: ['response'],
    responseActsOn: (p) => [String(p.nextLinkPropertyName)],
    response: (p, res, ctx) => {
      // The property name is a literal key such as "@odata.nextLink", never an expression.
      const path = [...bodyPath(p.nextLinkParentPropertyPath), String(p.nextLinkPropertyName)];
      const link = getAt(res.body, path);
      if (typeof link === 'string' && ctx.rewriteNextLink)
        res.body = setAt(res.body, path, ctx.rewriteNextLink(link));
    },
  },
  {
    id: 'convertobjecttoarray',
    required: ['propertyParentPath', 'newPropertyPath'],
    optional: ['keyName', 'valueName', 'propertySubPath'],
    sections: both,
    ...bodyTransform((p, target) => {
      const source = getAt(target.body, [...bodyPath(p.propertyParentPath), ...bodyPath(p.propertySubPath)]);
      if (!isObject(source)) return;
      const keyName = typeof p.keyName === 'string' ? p.keyName : 'key';
      const valueName = typeof p.valueName === 'string' ? p.valueName : 'value';
      const array = Object.entries(source).map(([k, v]) => ({ [keyName]: k, [valueName]: v }));
      target.body = setAt(target.body, bodyPath(p.newPropertyPath), array);
    }),
  },
  {
    id: 'convertarraytoobject',
    required: ['propertyParentPath', 'keyWithinCollectionPath', 'newPropertyPath'],
    optional: ['retainKey'],
    sections: both,
    ...bodyTransform((p, target) => {
      const source = getAt(target.body, bodyPath(p.propertyParentPath));
      if (!Array.isArray(source)) return;
      const keyPath = bodyPath(p.keyWithinCollectionPath);
      const retain = String(p.retainKey).toLowerCase() === 'true';
      const out: Record<string, unknown> = {};
      for (const item of source) {
        const key = stringify(getAt(item, keyPath));
        const copy = isObject(item) ? { ...item } : item;
        if (!retain && isObject(copy)) deleteAt(copy, keyPath);
        out[key] = copy;
      }
      target.body = setAt(target.body, bodyPath(p.newPropertyPath), out);
    }),
  },
  {
    id: 'stringtoarray',
    required: ['propertyParentPath', 'delimiterList', 'childPropertyName', 'newPropertyPath'],
    optional: [],
    sections: both,
    ...bodyTransform((p, target) => {
      const value = getAt(target.body, bodyPath(p.propertyParentPath));
      if (typeof value !== 'string') return;
      const delimiters = Array.isArray(p.delimiterList)
        ? p.delimiterList.map(String)
        : String(p.delimiterList).split('');
      const escaped = delimiters.filter((d) => d !== '').map((d) => d.replace(/[.*+?^${}()|[\]\\]/g, '\\$&'));
      const parts = escaped.length ? value.split(new RegExp(escaped.join('|'))) : [value];
      const child = String(p.childPropertyName);
      target.body = setAt(
        target.body,
        bodyPath(p.newPropertyPath),
        parts.filter((s) => s !== '').map((s) => ({ [child]: s })),
      );
    }),
  },
  {
    id: 'encodepropertyvalue',
    required: ['propertyParentPath', 'newPropertyPath'],
    optional: ['encodingType'],
    sections: both,
    ...bodyTransform((p, target) => {
      const value = getAt(target.body, bodyPath(p.propertyParentPath));
      if (value === undefined) return;
      const raw = stringify(value);
      const encoded =
        String(p.encodingType ?? 'base64').toLowerCase() === 'uri'
          ? encodeURIComponent(raw)
          : Buffer.from(raw, 'utf8').toString('base64');
      target.body = setAt(target.body, bodyPath(p.newPropertyPath), encoded);
    }),
  },
  {
    id: 'setvaluefromurl',
    required: ['parameterTemplate', 'parameterValueUrl', 'parameterValuePathTemplate'],
    optional: ['httpMethod'],
    sections: ['request'],
    request: async (p, req, ctx) => {
      if (!ctx.fetch)
        throw new PolicyError('setvaluefromurl', 'setvaluefromurl needs an HTTP fetcher from the gateway.');
      const scope = requestScope(req, ctx);
      const target = text(p, 'parameterValueUrl', scope);
      const query: Record<string, string> = {};
      const path = splitQuery(target, query);
      const url = /^[a-z]+:\/\//i.test(path)
        ? path
        : `${currentBase(req.url, ctx.baseUrl)}/${path.replace(/^\/+/, '')}`;
      const method = p.httpMethod === undefined ? 'GET' : text(p, 'httpMethod', scope).toUpperCase();
      const fetched = await ctx.fetch({
        method,
        url,
        headers: { ...req.headers },
        query,
        body: method === 'GET' ? undefined : req.body,
      });
      const valueTemplate = String(p.parameterValuePathTemplate);
      const value = interpolate(valueTemplate, { ...scope, body: fetched.body, headers: fetched.headers });
      writeTarget(req, String(p.parameterTemplate), stringify(value));
    },
  },
  {
    id: 'pollingtrigger',
    required: ['triggerConfig', 'triggerDataPath'],
    optional: ['type'],
    sections: both,
    request: (_p, req, ctx) => {
      for (const [name, value] of Object.entries(ctx.triggerState ?? {}))
        if (!name.startsWith('x-ms-triggerConfig-')) req.query[name] = value;
    },
    response: (p, res, ctx, state) => {
      const scope = responseScope(res, ctx);
      const items = typeof p.triggerDataPath === 'string' ? interpolate(p.triggerDataPath, scope) : undefined;
      const next: Record<string, string> = {};
      const config = isObject(p.triggerConfig) ? p.triggerConfig : {};
      for (const [name, template] of Object.entries(config)) {
        try {
          next[name] =
            typeof template === 'string' ? stringify(interpolate(template, scope)) : stringify(template);
        } catch {
          // No items this time (value[0] missing): the previous state stays.
          const previous = ctx.triggerState?.[name];
          if (previous !== undefined) next[name] = previous;
        }
      }
      state.trigger = { items, state: next };
    },
  },
  {
    id: 'moveproperties',
    required: ['srcParentPath', 'srcSubPath', 'dstParentPath', 'dstSubPath'],
    optional: ['copyOnlySubProperties'],
    sections: both,
    ...bodyTransform((p, target) => {
      const src = [...bodyPath(p.srcParentPath), ...bodyPath(p.srcSubPath)];
      const dst = [...bodyPath(p.dstParentPath), ...bodyPath(p.dstSubPath)];
      const value = getAt(target.body, src);
      if (value === undefined) return;
      deleteAt(target.body, src);
      if (String(p.copyOnlySubProperties).toLowerCase() === 'true' && isObject(value)) {
        const existing = getAt(target.body, dst);
        target.body = setAt(target.body, dst, { ...(isObject(existing) ? existing : {}), ...value });
      } else target.body = setAt(target.body, dst, value);
    }),
  },
  {
    id: 'setconnectionstatustounauthenticated',
    required: ['statusCode'],
    optional: [],
    sections: ['response'],
    response: (p, res, _ctx, state) => {
      if (Number(p.statusCode) === res.status) state.connectionUnauthenticated = true;
    },
  },
];

/** setvaluefromurl's target: `@headers('X')`, `@queryParameters('x')` or a body path. */
function writeTarget(req: Req, template: string, value: string): void {
  const call = parseWhole(template);
  const name = call?.args[0] ?? '';
  if (call?.name.toLowerCase() === 'headers') setNamed(req.headers, name, value, 'override');
  else if (call?.name.toLowerCase() === 'queryparameters') setNamed(req.query, name, value, 'override');
  else req.body = setAt(req.body, bodyPath(template), value);
}

const BY_ID = new Map(TEMPLATES.map((t) => [t.id, t]));

export const TEMPLATE_IDS: readonly string[] = TEMPLATES.map((t) => t.id);

export function templateFor(id: string): PolicyTemplate | undefined {
  return BY_ID.get(id.toLowerCase());
}
