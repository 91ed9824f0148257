export { importPackage, parseDocument } from './import-package.ts';
export { exportPackage, secretPaths, withoutSecrets } from './export.ts';
export type { ExportedPackage } from './export.ts';
export { hasErrors, sortDiagnostics } from './diagnostics.ts';
export type { Diagnostic, Severity } from './diagnostics.ts';
export type { ImportedConnector, PackageFiles, TextFile } from './package.ts';
export { API_DEFINITION, API_PROPERTIES, ICON, SCRIPT, SETTINGS } from './package.ts';
export type * from './model.ts';
export { RULES } from './validate.ts';
export {
  applyRequestPolicies,
  applyResponsePolicies,
  bodyMayHold,
  policiesFor,
  responsePolicyTargets,
} from './policies/apply.ts';
export { TEMPLATE_IDS, templateFor } from './policies/templates.ts';
export type { InboundResponse, OutboundRequest, PolicyContext, ResponseOutcome } from './policies/types.ts';
export { PolicyError } from './policies/types.ts';
export { assertRunnable, CustomCodeNotSupportedError } from './custom-code.ts';
