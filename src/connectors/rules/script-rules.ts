import type { Rule } from './types.ts';

/** Custom code (connector-format.md §1.3.5): C# that Behalf does not run. */
export const SCRIPT_RULES: readonly Rule[] = [
  {
    id: 'script.custom-code',
    severity: 'warning',
    fix: 'Reimplement what script.csx does with policy templates, or in the backend API.',
    *check(ctx) {
      const ops = ctx.model.operations.filter((o) => o.needsCustomCode).map((o) => o.operationId);
      if (ctx.model.hasScript && ops.length > 0)
        yield {
          in: 'script',
          path: [],
          message: `script.csx is C# custom code, which does not run in Behalf; invoking ${ops.length === ctx.model.operations.length ? 'any operation' : ops.join(', ')} fails with a clear error.`,
        };
    },
  },
  {
    id: 'script.missing',
    severity: 'warning',
    fix: 'Add script.csx to the package (paconn: --script), or empty scriptOperations.',
    *check(ctx) {
      const declared = ctx.scriptOperationsDeclared ?? [];
      if (!ctx.model.hasScript && declared.length > 0)
        yield {
          in: 'properties',
          path: ['properties', 'scriptOperations'],
          message: `scriptOperations routes ${declared.join(', ')} to custom code, but the package has no script.csx; those operations cannot run.`,
        };
    },
  },
  {
    id: 'script.unknown-operation',
    severity: 'warning',
    fix: 'Correct the operationId or remove it from scriptOperations.',
    *check(ctx) {
      const ids = new Set(ctx.model.operations.map((o) => o.operationId.toLowerCase()));
      for (const [i, id] of (ctx.scriptOperationsDeclared ?? []).entries())
        if (!ids.has(id.toLowerCase()))
          yield {
            in: 'properties',
            path: ['properties', 'scriptOperations', i],
            message: `scriptOperations names "${id}", which the definition does not have.`,
          };
    },
  },
];
