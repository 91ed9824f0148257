import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Agent, request } from 'undici';
import { loadConfig } from '../../src/core/config.ts';
import { captureLogger } from '../../src/core/logger.ts';
import type { Logger } from '../../src/core/logger.ts';
import type { PackageFiles } from '../../src/connectors/package.ts';
import { cryptoRandom } from '../../src/core/ids.ts';
import type { Behalf } from '../../src/main.ts';
import type { ConnectorDetails } from '../../src/connections/connector-registry.ts';
import { startBehalf } from '../../src/main.ts';
import { BEHALF_CONNECTIONS_APP_ID } from '../../src/cli/demo/demo-tenant.ts';
import type { DemoDescription } from '../../src/cli/demo/setup.ts';
import { ensureDemoTenant } from '../../src/cli/demo/setup.ts';
import { startDemoApis } from '../../examples/demo-apis.ts';
import type { DemoApis } from '../../examples/demo-apis.ts';
import { demoApiApps, ensureDemoGrants } from '../../src/cli/demo/demo-apis.ts';

/**
 * A real Behalf with the demo tenant as `behalf up --demo` creates it (ensureDemoTenant: Contoso, Alice,
 * Bob, the administrator, Behalf Connections/Chat/CLI), the demo API and connector app registrations of
 * examples/demo-apis.ts with their admin-consented grants, and the Contoso Mail API running against it
 * over HTTPS. Tokens come from the real token endpoint by ROPC with the Behalf Chat client.
 */
export interface GatewayDemo {
  readonly behalf: Behalf;
  readonly demo: DemoDescription;
  readonly apis: DemoApis;
  readonly dispatcher: Agent;
  readonly dataDir: string;
  readonly logs: () => string;
  /** Alice's, Bob's or the administrator's token for Behalf Connections (ROPC via Behalf Chat). */
  userToken(user: 'alice' | 'bob' | 'admin'): Promise<string>;
  /** The Contoso Mail package of examples/connectors, pointed at this Behalf and this mail API. */
  mailPackage(): { apiDefinition: string; apiProperties: string };
  /**
   * Imports that package into the demo tenant, with the Contoso Mail Connector app's secret unless
   * told otherwise (`secret: null`: none), and returns the connector.
   */
  importMailConnector(options?: {
    apiProperties?: string;
    secret?: string | null;
  }): Promise<ConnectorDetails>;
  call(
    method: string,
    path: string,
    token: string | undefined,
    body?: unknown,
  ): Promise<{ status: number; text: string; body: Json }>;
  close(): Promise<void>;
}

// eslint-disable-next-line @typescript-eslint/no-explicit-any -- response bodies are read field by field
export type Json = Record<string, any>;

const CONNECTOR_DIR = fileURLToPath(new URL('../../examples/connectors/contoso-mail/', import.meta.url));

/**
 * What `behalf up --demo` registers (ensureDemoTenant with the Contoso Mail API and connector apps of
 * examples/demo-apis.ts, and their admin-consented grants), without starting any API.
 */
export async function prepareDemoTenant(
  behalf: Behalf,
  dataDir: string,
  logger: Logger,
): Promise<DemoDescription> {
  const demo = await ensureDemoTenant({
    directory: behalf.directory,
    administrators: behalf.administrators,
    random: cryptoRandom,
    logger: logger,
    baseUrl: behalf.url,
    dataDir,
    caCertificatePath: behalf.caCertificatePath,
    // Only the Contoso Mail API and its connector app: the gateway tests need no Resource Manager.
    extraApps: demoApiApps().filter((app) => app.name.startsWith('Contoso Mail')),
  });
  // Grants whose apps were not registered (the Resource Manager's) are skipped by ensureDemoGrants.
  await ensureDemoGrants(behalf.directory, demo.tenantId);
  return demo;
}

/** The Contoso Mail package of examples/connectors, pointed at this Behalf and this mail API. */
export function contosoMailPackage(behalfUrl: string, mailApiUrl: string): PackageFiles {
  const definition = JSON.parse(readFileSync(join(CONNECTOR_DIR, 'apiDefinition.swagger.json'), 'utf8')) as {
    host: string;
  };
  definition.host = new URL(mailApiUrl).host;
  const properties = readFileSync(join(CONNECTOR_DIR, 'apiProperties.json'), 'utf8').replaceAll(
    'https://localhost:7443',
    behalfUrl,
  );
  return {
    apiDefinition: { name: 'apiDefinition.swagger.json', text: JSON.stringify(definition) },
    apiProperties: { name: 'apiProperties.json', text: properties },
  };
}

/** `settings`: more configuration (flags' names), e.g. the chat agent's model. */
export async function startGatewayDemo(settings: Record<string, unknown> = {}): Promise<GatewayDemo> {
  const dataDir = mkdtempSync(join(tmpdir(), 'behalf-gateway-demo-'));
  const capture = captureLogger();
  const behalf = await startBehalf({
    config: loadConfig({ dataDir, port: 0, host: '127.0.0.1', ...settings }, {}),
    logger: capture,
  });
  const caPem = readFileSync(behalf.caCertificatePath!, 'utf8');
  const dispatcher = new Agent({ connect: { ca: caPem } });
  const demo = await prepareDemoTenant(behalf, dataDir, capture);
  const tls = join(dataDir, 'tls');
  const apis = await startDemoApis({
    issuerBaseUrl: behalf.url,
    tenantId: demo.tenantId,
    host: '127.0.0.1',
    ports: { mailApi: 0, resourceManagerApi: 0 },
    domain: 'contoso.test',
    tls: {
      cert: readFileSync(join(tls, 'server.pem'), 'utf8'),
      key: readFileSync(join(tls, 'server.key'), 'utf8'),
    },
    ca: caPem,
  });

  const chat = demo.apps['Behalf Chat']!;
  return {
    behalf,
    demo,
    apis,
    dispatcher,
    dataDir,
    logs: () => capture.lines.join('\n'),
    async userToken(user) {
      const account = demo.users.find((u) => u.username.startsWith(`${user}@`))!;
      const response = await request(`${behalf.url}/${demo.tenantId}/oauth2/v2.0/token`, {
        method: 'POST',
        dispatcher,
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
        body: new URLSearchParams({
          grant_type: 'password',
          client_id: chat.appId,
          client_secret: chat.clientSecret!,
          username: account.username,
          password: account.password,
          scope: `api://${BEHALF_CONNECTIONS_APP_ID}/user_impersonation`,
        }).toString(),
      });
      const body = (await response.body.json()) as Record<string, string>;
      if (response.statusCode !== 200 || !body['access_token'])
        throw new Error(`token request failed: ${JSON.stringify(body)}`);
      return body['access_token'];
    },
    mailPackage() {
      const files = contosoMailPackage(behalf.url, apis.urls.mailApi);
      return { apiDefinition: files.apiDefinition!.text, apiProperties: files.apiProperties!.text };
    },
    async importMailConnector(options = {}) {
      const files = contosoMailPackage(behalf.url, apis.urls.mailApi);
      const secret =
        options.secret === undefined ? demo.apps['Contoso Mail Connector']!.clientSecret! : options.secret;
      const created = await behalf.connections.registry.create(
        demo.tenantId,
        {
          apiDefinition: files.apiDefinition!,
          apiProperties: options.apiProperties
            ? { name: 'apiProperties.json', text: options.apiProperties }
            : files.apiProperties!,
        },
        ...(secret !== null ? [secret] : []),
      );
      return created.connector;
    },
    async call(method, path, token, body) {
      const response = await request(`${behalf.url}${path}`, {
        method: method as 'GET',
        dispatcher,
        headers: {
          ...(token ? { authorization: `Bearer ${token}` } : {}),
          ...(body !== undefined ? { 'content-type': 'application/json' } : {}),
        },
        ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
      });
      const text = await response.body.text();
      let parsed: unknown;
      try {
        parsed = JSON.parse(text);
      } catch {
        parsed = undefined;
      }
      return { status: response.statusCode, text, body: (parsed ?? {}) as Json };
    },
    async close() {
      await apis.close();
      await dispatcher.close();
      await behalf.close();
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
}
