import { callsIn, ExpressionError, isKnownFunction } from '../policies/expression.ts';
import { templateFor, TEMPLATE_IDS } from '../policies/templates.ts';
import { isObject, valueAt } from '../pointer.ts';
import type { Finding, Rule, RuleContext } from './types.ts';

const P = ['properties', 'policyTemplateInstances'] as const;
const PREFIX = 'x-ms-apimTemplateParameter.';

function operationIds(ctx: RuleContext): Set<string> {
  return new Set(ctx.model.operations.map((o) => o.operationId.toLowerCase()));
}

function connectionParameterNames(ctx: RuleContext): Set<string> {
  const names = new Set(Object.keys(ctx.model.connectionParameters).map((n) => n.toLowerCase()));
  for (const set of ctx.model.connectionParameterSets)
    for (const n of Object.keys(set.parameters)) names.add(n.toLowerCase());
  return names;
}

export const POLICY_RULES: readonly Rule[] = [
  {
    id: 'policy.unknown-template',
    severity: 'error',
    fix: `Use one of the policy templates: ${TEMPLATE_IDS.join(', ')}.`,
    *check(ctx) {
      for (const p of ctx.model.policies)
        if (!templateFor(p.templateId))
          yield {
            in: 'properties',
            path: [...P, p.index, 'templateId'],
            message: `Unknown policy template "${p.templateId}"; the operations it targets would run without it.`,
          };
    },
  },
  {
    id: 'policy.missing-parameter',
    severity: 'error',
    fix: 'Add the parameter to the policy\'s "parameters".',
    *check(ctx) {
      for (const p of ctx.model.policies) {
        const template = templateFor(p.templateId);
        for (const name of template?.required ?? [])
          if (!Object.hasOwn(p.parameters, name))
            yield {
              in: 'properties',
              path: [...P, p.index, 'parameters'],
              message: `Policy "${p.title ?? p.templateId}" (${template!.id}) is missing its required parameter "${PREFIX}${name}".`,
              fix: `Add "${PREFIX}${name}": "…" to this policy's parameters.`,
            };
      }
    },
  },
  {
    id: 'policy.section',
    severity: 'error',
    fix: 'Set "x-ms-apimTemplate-policySection" to "Request" or "Response" ("Failure" for setheader).',
    *check(ctx) {
      for (const p of ctx.model.policies) {
        const params = valueAt(ctx.properties?.value, [...P, p.index, 'parameters']);
        if (!isObject(params)) continue;
        const key = Object.keys(params).find((k) => k.toLowerCase() === 'x-ms-apimtemplate-policysection');
        if (key === undefined) continue;
        const raw = String(params[key]).toLowerCase();
        const template = templateFor(p.templateId);
        if (!['request', 'response', 'failure'].includes(raw))
          yield {
            in: 'properties',
            path: [...P, p.index, 'parameters', key],
            message: `Unknown policy section ${JSON.stringify(params[key])}.`,
          };
        else if (template && !template.sections.includes(p.section))
          yield {
            in: 'properties',
            path: [...P, p.index, 'parameters', key],
            message: `${template.id} does not run in the ${p.section} section.`,
          };
      }
    },
  },
  {
    id: 'policy.unknown-operation',
    severity: 'warning',
    fix: 'Correct the operationId or remove it from x-ms-apimTemplate-operationName.',
    *check(ctx) {
      const ids = operationIds(ctx);
      for (const p of ctx.model.policies)
        for (const [i, id] of (p.operationIds ?? []).entries())
          if (!ids.has(id.toLowerCase()))
            yield {
              in: 'properties',
              path: [...P, p.index, 'parameters', 'x-ms-apimTemplate-operationName', i],
              message: `Policy "${p.title ?? p.templateId}" targets operation "${id}", which the definition does not have.`,
            };
    },
  },
  {
    id: 'policy.expression',
    severity: 'error',
    fix: "Use @connectionParameters('name'), @headers('name'), @queryParameters('name'), @body().path or @{…} interpolation.",
    *check(ctx) {
      const names = connectionParameterNames(ctx);
      for (const p of ctx.model.policies)
        for (const [name, value] of Object.entries(p.parameters)) {
          if (typeof value !== 'string') continue;
          const path = [...P, p.index, 'parameters', `${PREFIX}${name}`];
          let calls;
          try {
            calls = callsIn(value);
          } catch (error) {
            if (!(error instanceof ExpressionError)) throw error;
            yield {
              in: 'properties',
              path,
              message: `Cannot parse the expression ${JSON.stringify(value)}: ${error.message}.`,
            };
            continue;
          }
          for (const call of calls) {
            if (!isKnownFunction(call.name))
              yield {
                in: 'properties',
                path,
                message: `Unknown expression function "${call.name}" in ${JSON.stringify(value)}.`,
              };
            else if (
              call.name.toLowerCase() === 'connectionparameters' &&
              call.args.length < 2 &&
              !names.has((call.args[0] ?? '').toLowerCase())
            )
              yield {
                in: 'properties',
                path,
                severity: 'warning',
                message: `The policy reads connection parameter "${call.args[0] ?? ''}", which is not declared and has no default.`,
                fix: `Declare "${call.args[0] ?? ''}" under connectionParameters, or give a default: @connectionParameters('${call.args[0] ?? ''}','…').`,
              };
          }
        }
    },
  },
];

export type { Finding };
