import type { INetworkModule, NetworkRequestOptions, NetworkResponse } from '@azure/msal-node';
import { Agent, request } from 'undici';

/**
 * MSAL's network module, unmodified in behaviour, over an undici agent that trusts Behalf's local CA:
 * the clean way to trust a private CA inside one Node process (NODE_EXTRA_CA_CERTS only works at
 * process start). msal-node exposes exactly this seam as `system.networkClient`.
 */
export function caTrustingNetworkClient(caPem: string): INetworkModule & { close(): Promise<void> } {
  const dispatcher = new Agent({ connect: { ca: caPem } });
  async function send<T>(
    method: 'GET' | 'POST',
    url: string,
    options?: NetworkRequestOptions,
  ): Promise<NetworkResponse<T>> {
    const response = await request(url, {
      method,
      dispatcher,
      ...(options?.headers ? { headers: options.headers } : {}),
      ...(options?.body !== undefined ? { body: options.body } : {}),
    });
    const text = await response.body.text();
    const headers: Record<string, string> = {};
    for (const [name, value] of Object.entries(response.headers)) {
      if (value !== undefined) headers[name.toLowerCase()] = Array.isArray(value) ? value.join(', ') : value;
    }
    return { headers, body: (text === '' ? {} : JSON.parse(text)) as T, status: response.statusCode };
  }
  return {
    sendGetRequestAsync: (url, options) => send('GET', url, options),
    sendPostRequestAsync: (url, options) => send('POST', url, options),
    close: () => dispatcher.close(),
  };
}
