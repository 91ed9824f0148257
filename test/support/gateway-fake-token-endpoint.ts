import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';

/**
 * A small OAuth token endpoint on loopback for refresh tests: rotating refresh tokens (each works
 * once, RFC 6749 §6 with rotation as Entra does for SPAs), a count of successful refreshes, an
 * optional delay, and an optional "hang" that holds requests until the test lets them go, so a test
 * can kill a process in the middle of a refresh.
 */
export interface FakeTokenEndpoint {
  readonly url: string;
  /** Successful refresh_token grants. */
  refreshes(): number;
  /** refresh_token grants received (including refused and hung ones). */
  received(): number;
  /** Holds the next refresh request; resolves when it arrives. */
  hangNext(): Promise<void>;
  /** Makes `token` a valid refresh token. */
  issue(token: string): void;
  close(): Promise<void>;
}

export async function startFakeTokenEndpoint(
  options: { delayMs?: number; accessTokenSeconds?: number } = {},
): Promise<FakeTokenEndpoint> {
  const valid = new Set<string>();
  let refreshes = 0;
  let received = 0;
  let counter = 0;
  let hang: (() => void) | undefined;
  const server = createServer((req, res) => {
    let body = '';
    req.on('data', (chunk: Buffer) => (body += chunk.toString('utf8')));
    req.on('end', () => {
      const form = new URLSearchParams(body);
      const answer = (status: number, json: unknown) => {
        res
          .writeHead(status, { 'content-type': 'application/json', 'cache-control': 'no-store' })
          .end(JSON.stringify(json));
      };
      if (form.get('grant_type') !== 'refresh_token') return answer(400, { error: 'unsupported_grant_type' });
      received++;
      if (hang) {
        const arrived = hang;
        hang = undefined;
        arrived();
        return; // never answered: the process that sent it is about to be killed
      }
      setTimeout(() => {
        const presented = form.get('refresh_token') ?? '';
        if (!valid.delete(presented))
          return answer(400, {
            error: 'invalid_grant',
            error_description: 'AADSTS70008: The refresh token has expired or was already used.',
            error_codes: [70008],
          });
        refreshes++;
        counter++;
        const refreshToken = `fake-rt-${counter}-${'r'.repeat(40)}`;
        valid.add(refreshToken);
        answer(200, {
          token_type: 'Bearer',
          access_token: `fake-at-${counter}-${'a'.repeat(60)}`,
          expires_in: options.accessTokenSeconds ?? 3600,
          refresh_token: refreshToken,
          scope: 'Mail.Read',
        });
      }, options.delayMs ?? 50);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/token`;
  return {
    url,
    refreshes: () => refreshes,
    received: () => received,
    hangNext: () => new Promise<void>((resolve) => (hang = resolve)),
    issue: (token) => void valid.add(token),
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
