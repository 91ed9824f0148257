import type { PolicyInstance } from '../model.ts';
import { ExpressionError } from './expression.ts';
import type { PolicyTemplate, Req, Res, ResponseState } from './templates.ts';
import { templateFor } from './templates.ts';
import type { InboundResponse, OutboundRequest, PolicyContext, ResponseOutcome } from './types.ts';
import { PolicyError } from './types.ts';

/** The instances that apply to an operation, in file order (`x-ms-apimTemplate-operationName` scopes them). */
export function policiesFor(policies: readonly PolicyInstance[], operationId: string): PolicyInstance[] {
  const id = operationId.toLowerCase();
  return policies.filter(
    (p) => p.operationIds === undefined || p.operationIds.some((o) => o.toLowerCase() === id),
  );
}

function copy<T>(value: T): T {
  return value === undefined ? value : structuredClone(value);
}

async function run(policy: PolicyInstance, work: () => Promise<void> | void): Promise<void> {
  try {
    await work();
  } catch (error) {
    if (error instanceof PolicyError) throw error;
    if (error instanceof ExpressionError)
      throw new PolicyError(
        policy.templateId,
        `Policy #${policy.index} (${policy.templateId}): ${error.message}`,
      );
    throw error;
  }
}

function unknownTemplate(policy: PolicyInstance): PolicyError {
  return new PolicyError(
    policy.templateId,
    `Policy #${policy.index} uses the template "${policy.templateId}", which Behalf does not know; the operation cannot run as the connector intends.`,
  );
}

/** Applies the request-section policies of `ctx.operationId` to a request; the input is not modified. */
export async function applyRequestPolicies(
  policies: readonly PolicyInstance[],
  request: OutboundRequest,
  ctx: PolicyContext,
): Promise<OutboundRequest> {
  const req: Req = {
    ...request,
    headers: { ...request.headers },
    query: { ...request.query },
    body: copy(request.body),
  };
  const context: PolicyContext = { ...ctx, request: ctx.request ?? request };
  for (const policy of policiesFor(policies, ctx.operationId)) {
    if (policy.section !== 'request') continue;
    const template = templateFor(policy.templateId);
    if (!template) throw unknownTemplate(policy);
    if (template.request) await run(policy, () => template.request!(policy.parameters, req, context));
  }
  return req;
}

function appliesToResponse(policy: PolicyInstance, template: PolicyTemplate, failed: boolean): boolean {
  return (
    policy.section === 'response' ||
    (policy.section === 'failure' && failed) ||
    // Templates that only make sense on responses run there whatever section the file names.
    (!template.request && template.response !== undefined) ||
    (policy.templateId === 'pollingtrigger' && !failed)
  );
}

/**
 * The body property names the response policies of `operationId` act on, for a response that failed
 * (4xx/5xx) or not: `[]` when none would run; undefined when one may change the response in other ways
 * (its template names no properties) or its template is unknown (applyResponsePolicies refuses it).
 * Worked out once per operation; `bodyMayHold` then tells per response whether they have work to do.
 */
export function responsePolicyTargets(
  policies: readonly PolicyInstance[],
  operationId: string,
  failed: boolean,
): readonly string[] | undefined {
  const names: string[] = [];
  for (const policy of policiesFor(policies, operationId)) {
    const template = templateFor(policy.templateId);
    if (!template) return undefined;
    if (!appliesToResponse(policy, template, failed) || !template.response) continue;
    const acted = template.responseActsOn?.(policy.parameters);
    if (!acted) return undefined;
    names.push(...acted);
  }
  return names;
}

/**
 * Whether a raw response body may hold one of these property names, judged without parsing it. A name
 * can hide behind a JSON escape (`\u0040`, `\/`), so a body with such escapes may hold any of them.
 */
export function bodyMayHold(body: Buffer, names: readonly string[]): boolean {
  if (names.length === 0) return false;
  if (body.includes('\\u') || body.includes('\\/')) return true;
  return names.some((name) => body.includes(JSON.stringify(name).slice(1, -1)));
}

/**
 * Applies the response-section (and, for failures, failure-section) policies to a response. The input
 * is not modified, unless `bodyOwned` says its body was made for this call (parsed from the upstream
 * bytes and held by nobody else): then policies change it in place, which spares a deep copy per call.
 */
export async function applyResponsePolicies(
  policies: readonly PolicyInstance[],
  response: InboundResponse,
  ctx: PolicyContext,
  options: { readonly bodyOwned?: boolean } = {},
): Promise<ResponseOutcome> {
  const body = options.bodyOwned ? response.body : copy(response.body);
  const res: Res = { ...response, headers: { ...response.headers }, body };
  const state: ResponseState = { connectionUnauthenticated: false };
  const failed = response.status >= 400;
  for (const policy of policiesFor(policies, ctx.operationId)) {
    const template = templateFor(policy.templateId);
    if (!template) throw unknownTemplate(policy);
    if (appliesToResponse(policy, template, failed) && template.response)
      await run(policy, () => template.response!(policy.parameters, res, ctx, state));
  }
  return {
    response: res,
    connectionUnauthenticated: state.connectionUnauthenticated,
    ...(state.trigger ? { trigger: state.trigger } : {}),
  };
}
