import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Agent, request } from 'undici';
import { loadConfig } from '../../src/core/config.ts';
import { captureLogger } from '../../src/core/logger.ts';
import type { Behalf } from '../../src/main.ts';
import { startBehalf } from '../../src/main.ts';

/** Graph JSON as tests read it: loosely typed on purpose, every read is asserted. */
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export type Json = Record<string, any>;

export interface GraphResult {
  status: number;
  body: Json;
  text: string;
}

/**
 * A real Behalf on loopback for the directory e2e tests: HTTPS with its local CA, the admin credential
 * it wrote, a management token from its own token endpoint by client credentials.
 */
export async function startDirectoryBehalf() {
  const dataDir = mkdtempSync(join(tmpdir(), 'behalf-directory-'));
  const logger = captureLogger();
  const behalf: Behalf = await startBehalf({ config: loadConfig({ dataDir, port: 0 }, {}), logger });
  const ca = readFileSync(join(dataDir, 'tls', 'ca.pem'), 'utf8');
  const dispatcher = new Agent({ connect: { ca } });
  const credential = JSON.parse(readFileSync(join(dataDir, 'admin-credential.json'), 'utf8')) as {
    authority: string;
    tenantId: string;
    clientId: string;
    clientSecret: string;
  };

  async function send(method: string, url: string, headers: Record<string, string>, body?: string) {
    const response = await request(url, {
      method: method as 'GET',
      headers,
      dispatcher,
      ...(body !== undefined ? { body } : {}),
    });
    const text = await response.body.text();
    let parsed: Record<string, unknown>;
    try {
      parsed = text === '' ? {} : (JSON.parse(text) as Record<string, unknown>);
    } catch {
      parsed = { raw: text };
    }
    return { status: response.statusCode, body: parsed, text };
  }

  async function token(tenant = credential.tenantId, secret = credential.clientSecret): Promise<GraphResult> {
    return send(
      'POST',
      `${behalf.url}/${tenant}/oauth2/v2.0/token`,
      { 'content-type': 'application/x-www-form-urlencoded' },
      new URLSearchParams({
        grant_type: 'client_credentials',
        client_id: credential.clientId,
        client_secret: secret,
        scope: 'https://graph.microsoft.com/.default',
      }).toString(),
    );
  }

  async function graphAs(accessToken: string) {
    return (
      method: string,
      path: string,
      body?: unknown,
      extra: Record<string, string> = {},
    ): Promise<GraphResult> =>
      send(
        method,
        `${behalf.url}/v1.0${path}`,
        {
          authorization: `Bearer ${accessToken}`,
          ...(body !== undefined ? { 'content-type': 'application/json' } : {}),
          ...extra,
        },
        body === undefined ? undefined : typeof body === 'string' ? body : JSON.stringify(body),
      );
  }

  return {
    behalf,
    dataDir,
    logger,
    credential,
    dispatcher,
    token,
    graphAs,
    async close() {
      await dispatcher.close();
      await behalf.close();
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
}
