import type { DiagnosticSink } from './diagnostics.ts';
import type { JsonSource } from './json-source.ts';
import type { ConnectorModel } from './model.ts';
import { SCRIPT } from './package.ts';
import { AUTH_RULES } from './rules/auth-rules.ts';
import { DEFINITION_RULES } from './rules/definition-rules.ts';
import { POLICY_RULES } from './rules/policy-rules.ts';
import { SCRIPT_RULES } from './rules/script-rules.ts';
import type { Rule, RuleContext } from './rules/types.ts';

/** Every rule, in report order. Each is data: an id, a severity, a check and the fix to suggest. */
export const RULES: readonly Rule[] = [...DEFINITION_RULES, ...AUTH_RULES, ...POLICY_RULES, ...SCRIPT_RULES];

export interface ValidationInput {
  readonly definition: JsonSource;
  readonly properties: JsonSource | undefined;
  readonly model: ConnectorModel;
  readonly sink: DiagnosticSink;
  readonly scriptOperationsDeclared: readonly string[] | undefined;
}

export function validate(input: ValidationInput): void {
  const ctx: RuleContext = {
    definition: input.definition,
    properties: input.properties,
    model: input.model,
    scriptOperationsDeclared: input.scriptOperationsDeclared,
  };
  for (const rule of RULES) {
    for (const finding of rule.check(ctx)) {
      const source =
        finding.in === 'definition'
          ? input.definition
          : finding.in === 'properties'
            ? input.properties
            : undefined;
      const file = source?.file ?? (finding.in === 'script' ? SCRIPT : 'apiProperties.json');
      input.sink.add(source, file, {
        severity: finding.severity ?? rule.severity,
        rule: rule.id,
        path: finding.path,
        message: finding.message,
        fix: finding.fix ?? rule.fix,
        ...(finding.atKey ? { atKey: true } : {}),
      });
    }
  }
}
