import type { Severity } from '../diagnostics.ts';
import type { JsonSource } from '../json-source.ts';
import type { ConnectorModel } from '../model.ts';
import type { PathSegment } from '../pointer.ts';

export interface RuleContext {
  readonly definition: JsonSource;
  readonly properties: JsonSource | undefined;
  readonly model: ConnectorModel;
  readonly scriptOperationsDeclared: readonly string[] | undefined;
}

export interface Finding {
  readonly in: 'definition' | 'properties' | 'script';
  readonly path: readonly PathSegment[];
  readonly message: string;
  /** Overrides the rule's generic fix with a specific one (e.g. a suggested operationId). */
  readonly fix?: string;
  readonly atKey?: boolean;
  /** Overrides the rule's severity for a milder variant of the same finding. */
  readonly severity?: Severity;
}

/** A validation rule as data: id → severity → check → fix. */
export interface Rule {
  readonly id: string;
  readonly severity: Severity;
  readonly fix: string;
  readonly check: (ctx: RuleContext) => Iterable<Finding>;
}
