/** A small client for the connector management API (the CLI's only way to talk to a server). */
export interface ApiClientOptions {
  readonly url: string;
  readonly token: string | undefined;
}

export class ApiError extends Error {
  readonly status: number;
  readonly body: unknown;
  constructor(status: number, body: unknown) {
    const inner = (body as { error?: { message?: string } } | undefined)?.error?.message;
    super(inner ?? `HTTP ${status}`);
    this.status = status;
    this.body = body;
  }
}

export async function call(
  options: ApiClientOptions,
  method: string,
  path: string,
  body?: unknown,
): Promise<unknown> {
  const response = await fetch(options.url.replace(/\/+$/, '') + path, {
    method,
    headers: {
      accept: 'application/json',
      ...(body !== undefined ? { 'content-type': 'application/json' } : {}),
      ...(options.token ? { authorization: `Bearer ${options.token}` } : {}),
    },
    ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
  });
  const text = await response.text();
  const parsed: unknown = text === '' ? undefined : JSON.parse(text);
  if (!response.ok) throw new ApiError(response.status, parsed);
  return parsed;
}
