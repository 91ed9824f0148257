import type { Caller } from '../connections/caller-verifier.ts';
import { ConnectionError } from '../connections/errors.ts';
import { atPath, readDynamicValues } from '../connectors/dynamic-values.ts';
import type { DynamicValues, Operation } from '../connectors/model.ts';
import { isObject } from '../connectors/pointer.ts';
import type { Gateway, InvokeRequest } from './invoke.ts';

/**
 * `x-ms-dynamic-values` / `x-ms-dynamic-list`: the choices of a parameter, read by running the lookup
 * operation the definition names through the same gateway path as any call (sharing, the caller's
 * connection, credential, policies, retries, audit). `parameter` is a parameter's name, or
 * `body/{property}` for a property of the body schema (where `x-ms-dynamic-list` usually sits).
 */
export interface DynamicValuesRequest {
  readonly connectorId: string;
  readonly connectionId?: string;
  readonly operationId: string;
  readonly parameter: string;
  /** The arguments chosen so far: lookups often depend on them (the table of a chosen site). */
  readonly arguments?: Readonly<Record<string, unknown>>;
  readonly correlationId?: string;
  readonly agent?: string;
}

export interface DynamicValue {
  readonly value: unknown;
  readonly title: string;
}

export async function resolveDynamicValues(
  gateway: Gateway,
  caller: Caller,
  request: DynamicValuesRequest,
): Promise<{ value: DynamicValue[] }> {
  const connector = await gateway.connectorFor(caller, request.connectorId);
  const operation = connector.model.operations.find(
    (o) => o.operationId.toLowerCase() === request.operationId.toLowerCase(),
  );
  if (!operation)
    throw new ConnectionError(
      404,
      'OperationNotFound',
      `${connector.model.title} has no operation '${request.operationId}'.`,
    );
  const lookup = dynamicValuesOf(operation, request.parameter);
  const args = request.arguments ?? {};
  const lookupArguments: Record<string, unknown> = {};
  for (const [name, source] of Object.entries(lookup.parameters)) {
    const value = 'value' in source ? source.value : argumentAt(args, source.reference);
    if (value !== undefined) lookupArguments[name] = value;
  }
  const invoke: InvokeRequest = {
    connectorId: request.connectorId,
    operationId: lookup.operationId,
    arguments: lookupArguments,
    ...(request.connectionId !== undefined ? { connectionId: request.connectionId } : {}),
    ...(request.correlationId !== undefined ? { correlationId: request.correlationId } : {}),
    ...(request.agent !== undefined ? { agent: request.agent } : {}),
  };
  const result = await gateway.invoke(caller, invoke);
  const items = atPath(result.body, lookup.itemsPath);
  if (!Array.isArray(items))
    throw new ConnectionError(
      502,
      'DynamicValuesNotAList',
      `'${lookup.operationId}' answered no list at '${lookup.itemsPath || '(the body)'}', where the definition of '${request.parameter}' expects its choices.`,
      { remediation: `Fix the connector definition's dynamic values of '${request.parameter}'.` },
    );
  return {
    value: items.map((item) => {
      const value = atPath(item, lookup.valuePath);
      const title = atPath(item, lookup.titlePath);
      // No title: the value stands for itself, as text.
      const shown = title ?? value;
      return { value, title: typeof shown === 'string' ? shown : JSON.stringify(shown) };
    }),
  };
}

function dynamicValuesOf(operation: Operation, parameter: string): DynamicValues {
  const [head, ...rest] = parameter.split('/');
  const found =
    operation.parameters.find((p) => p.name === parameter) ??
    (rest.length > 0 ? operation.parameters.find((p) => p.in === 'body' && head === 'body') : undefined);
  if (!found)
    throw new ConnectionError(
      404,
      'ParameterNotFound',
      `Operation '${operation.operationId}' has no parameter '${parameter}'.`,
    );
  const dynamic = found.name === parameter ? found.dynamicValues : schemaProperty(found.schema, rest);
  if (!dynamic)
    throw new ConnectionError(
      400,
      'NoDynamicValues',
      `Parameter '${parameter}' of '${operation.operationId}' has no dynamic values: any value of its type is accepted.`,
      { parameter },
    );
  return dynamic;
}

/** The dynamic values of a body schema property (`properties.a.properties.b`), when it declares them. */
function schemaProperty(schema: unknown, path: readonly string[]): DynamicValues | undefined {
  let current = schema;
  for (const name of path) {
    if (!isObject(current) || !isObject(current.properties)) return undefined;
    current = current.properties[name];
  }
  return isObject(current) ? readDynamicValues(current) : undefined;
}

/** An argument by a definition's reference: `name`, or `body/a/b` into the body argument. */
function argumentAt(args: Readonly<Record<string, unknown>>, reference: string): unknown {
  if (Object.hasOwn(args, reference)) return args[reference];
  const [head, ...rest] = reference.split('/');
  if (rest.length === 0 || head === undefined) return undefined;
  return atPath(args[head], rest.join('/'));
}
