import type { CallerVerifier } from '../connections/caller-verifier.ts';
import type { ConsentCard } from '../connections/errors.ts';
import { ConnectionError } from '../connections/errors.ts';
import type { Gateway, InvokeRequest } from './invoke.ts';

/**
 * The in-process entry for agent tools: the same path as `POST /apim/...` (verification, connection,
 * policies, credential, audit), with the outcome as a value an agent can act on instead of an HTTP
 * error: the result, a consent card to show the person, or a failure with the text to say.
 */
export type OperationOutcome =
  | {
      readonly kind: 'ok';
      readonly status: number;
      readonly body: unknown;
      readonly connectionId: string;
      readonly correlationId: string;
    }
  | {
      readonly kind: 'consent-required';
      readonly card: ConsentCard;
      readonly message: string;
      readonly correlationId?: string;
    }
  | {
      readonly kind: 'failed';
      readonly status: number;
      readonly code: string;
      readonly message: string;
      readonly remediation?: string;
      readonly upstreamStatus?: number;
      readonly correlationId?: string;
    };

export type InvokeOperation = (
  /** The person's validated token for Behalf Connections: the on-behalf-of assertion. */
  assertion: string,
  request: InvokeRequest,
) => Promise<OperationOutcome>;

export function createInvokeOperation(gateway: Gateway, verifier: CallerVerifier): InvokeOperation {
  return async (assertion, request) => {
    try {
      const caller = await verifier.verify(`Bearer ${assertion}`);
      const result = await gateway.invoke(caller, request);
      return {
        kind: 'ok',
        status: result.status,
        body: result.body,
        connectionId: result.connectionId,
        correlationId: result.correlationId,
      };
    } catch (error) {
      if (!(error instanceof ConnectionError)) throw error;
      const { consentCard, remediation, upstreamStatus, correlationId } = error.details;
      if (consentCard)
        return {
          kind: 'consent-required',
          card: consentCard,
          message: error.message,
          ...(correlationId !== undefined ? { correlationId } : {}),
        };
      return {
        kind: 'failed',
        status: error.status,
        code: error.code,
        message: error.message,
        ...(remediation !== undefined ? { remediation } : {}),
        ...(upstreamStatus !== undefined ? { upstreamStatus } : {}),
        ...(correlationId !== undefined ? { correlationId } : {}),
      };
    }
  };
}
