import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Config } from '../../core/config.ts';
import type { Directory } from '../../directory/directory.ts';
import { demoRegistrations, startDemoApis } from '../../../examples/demo-apis.ts';
import type { DemoApis, DemoApplication, DemoGrant } from '../../../examples/demo-apis.ts';
import type { DemoApp } from './demo-tenant.ts';
import { BEHALF_CONNECTIONS_APP_ID, DEMO_TENANT } from './demo-tenant.ts';

/**
 * The seeds' two APIs (Contoso Mail, Contoso Resource Manager) and their connector apps, as
 * `behalf up --demo` registers and runs them. The registrations are the Easy Auth engineer's data
 * (examples/demo-apis.ts); this file only turns them into directory input and picks ports.
 */
const registrations = () => demoRegistrations({ behalfConnectionsAppId: BEHALF_CONNECTIONS_APP_ID });

function asDemoApp(name: string, app: DemoApplication, secret: boolean): DemoApp {
  return {
    name,
    appId: app.appId,
    secret,
    input: () => ({
      displayName: app.displayName,
      signInAudience: app.signInAudience,
      identifierUris: [...app.identifierUris],
      api: {
        requestedAccessTokenVersion: app.api.requestedAccessTokenVersion,
        oauth2PermissionScopes: app.api.oauth2PermissionScopes.map((s) => ({ ...s })),
        preAuthorizedApplications: app.api.preAuthorizedApplications.map((p) => ({
          appId: p.appId,
          delegatedPermissionIds: [...p.delegatedPermissionIds],
        })),
      },
      appRoles: app.appRoles.map((r) => ({ ...r, allowedMemberTypes: [...r.allowedMemberTypes] })),
      requiredResourceAccess: app.requiredResourceAccess.map((r) => ({
        resourceAppId: r.resourceAppId,
        resourceAccess: r.resourceAccess.map((a) => ({ ...a })),
      })),
      web: { redirectUris: [...app.web.redirectUris] },
    }),
  };
}

/** The four registrations; the connector apps get a secret (the second on-behalf-of hop needs one). */
export function demoApiApps(): DemoApp[] {
  const { apis, connectors } = registrations();
  return [
    asDemoApp('Contoso Mail', apis.mailApi, false),
    asDemoApp('Contoso Resource Manager', apis.resourceManagerApi, false),
    asDemoApp('Contoso Mail Connector', connectors.contosoMail, true),
    asDemoApp('Contoso Resource Manager Connector', connectors.contosoResourceManager, true),
  ];
}

/** The admin-consented (AllPrincipals) grants of the connector apps, created once and kept. */
export async function ensureDemoGrants(
  directory: Directory,
  tenantId: string,
  grants: readonly DemoGrant[] = registrations().grants,
): Promise<void> {
  for (const grant of grants) {
    const client = await directory.getServicePrincipalByAppId(tenantId, grant.clientAppId);
    const resource = await directory.getServicePrincipalByAppId(tenantId, grant.resourceAppId);
    if (!client || !resource) continue;
    const existing = (
      await directory.listPermissionGrants({ tenantId, clientId: client.id, resourceId: resource.id })
    ).find((g) => g.consentType === 'AllPrincipals');
    if (!existing)
      await directory.createGrant(tenantId, {
        clientId: client.id,
        consentType: 'AllPrincipals',
        principalId: null,
        resourceId: resource.id,
        scope: grant.scope,
      });
  }
}

/**
 * Ports of the demo APIs: 7444 and 7445 beside the default 7443 (the `host` the connector packages
 * declare); the next two ports beside any other; ephemeral when Behalf itself runs on port 0 (tests),
 * so parallel runs never collide.
 */
export function demoApiPorts(behalfPort: number): { mailApi: number; resourceManagerApi: number } {
  if (behalfPort === 0) return { mailApi: 0, resourceManagerApi: 0 };
  return { mailApi: behalfPort + 1, resourceManagerApi: behalfPort + 2 };
}

/** Starts both APIs with Behalf's own TLS certificate, trusting its CA for discovery and JWKS. */
export async function startDemoApisFor(options: {
  readonly config: Config;
  readonly dataDir: string;
  readonly baseUrl: string;
  readonly tenantId: string;
  readonly caCertificatePath: string | undefined;
}): Promise<DemoApis> {
  const { config } = options;
  const tlsDir = join(options.dataDir, 'tls');
  const files =
    config.tlsCert && config.tlsKey
      ? { cert: config.tlsCert, key: config.tlsKey }
      : { cert: join(tlsDir, 'server.pem'), key: join(tlsDir, 'server.key') };
  const tls = existsSync(files.cert)
    ? { cert: readFileSync(files.cert, 'utf8'), key: readFileSync(files.key, 'utf8') }
    : undefined;
  const ca = options.caCertificatePath ? readFileSync(options.caCertificatePath, 'utf8') : undefined;
  return startDemoApis({
    issuerBaseUrl: options.baseUrl,
    tenantId: options.tenantId,
    host: config.bindAddress,
    publicHost: config.host,
    ports: demoApiPorts(config.port),
    domain: DEMO_TENANT.domain,
    ...(tls ? { tls } : {}),
    ...(ca ? { ca } : {}),
  });
}
