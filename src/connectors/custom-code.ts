import type { Operation } from './model.ts';

/** Raised when an operation routed to script.csx is invoked: Behalf does not run C# custom code. */
export class CustomCodeNotSupportedError extends Error {
  readonly operationId: string;
  constructor(operationId: string) {
    super(
      `Operation "${operationId}" is implemented by the connector's C# custom code (script.csx), which Behalf does not run. ` +
        'Reimplement it with policy templates or in the backend API.',
    );
    this.name = 'CustomCodeNotSupportedError';
    this.operationId = operationId;
  }
}

export function assertRunnable(operation: Operation): void {
  if (operation.needsCustomCode) throw new CustomCodeNotSupportedError(operation.operationId);
}
