import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import type { PackageFiles } from '../../connectors/package.ts';
import type { Behalf } from '../../main.ts';

/**
 * The seed's agent scenario for `behalf up --demo`: the Contoso Mail connector of examples/connectors
 * imported into the demo tenant (pointed at this Behalf and the running mail API), and the "Admin
 * agent" with its one delegated tool, "Get 10 latest emails" (Inbox, unread only, top 10). Idempotent:
 * a later start updates the package (ports may differ) and keeps the agent as a maker left it.
 */
const CONNECTOR_DIR = new URL('../../../examples/connectors/contoso-mail/', import.meta.url);
const CONNECTOR_NAME = 'Contoso Mail';
export const DEMO_AGENT = 'admin-agent';

function mailPackage(behalfUrl: string, mailApiUrl: string): PackageFiles {
  const read = (name: string) => readFileSync(fileURLToPath(new URL(name, CONNECTOR_DIR)), 'utf8');
  const definition = JSON.parse(read('apiDefinition.swagger.json')) as { host: string };
  definition.host = new URL(mailApiUrl).host;
  return {
    apiDefinition: { name: 'apiDefinition.swagger.json', text: JSON.stringify(definition, null, 2) },
    apiProperties: {
      name: 'apiProperties.json',
      text: read('apiProperties.json').replaceAll('https://localhost:7443', behalfUrl),
    },
  };
}

export async function ensureDemoAgent(options: {
  readonly behalf: Behalf;
  readonly tenantId: string;
  readonly mailApiUrl: string;
  /** The Contoso Mail Connector app's client secret (demo.json). */
  readonly connectorSecret: string | undefined;
}): Promise<{ mcp: string; chat: string }> {
  const { behalf, tenantId } = options;
  const registry = behalf.connections.registry;
  const files = mailPackage(behalf.url, options.mailApiUrl);
  const existing = (await registry.list(tenantId)).find((c) => c.displayName === CONNECTOR_NAME);
  const connector = existing
    ? (await registry.update(tenantId, existing.id, files, options.connectorSecret)).connector
    : (await registry.create(tenantId, files, options.connectorSecret)).connector;
  if (!(await behalf.agents.agents.get(DEMO_AGENT)))
    await behalf.agents.agents.create(tenantId, {
      name: DEMO_AGENT,
      displayName: 'Admin agent',
      description: "Reads the signed-in person's mail.",
      instructions:
        'Help the signed-in person with their mail. Use the tools; never guess what a mailbox holds.',
      tools: [
        {
          connectorId: connector.id,
          operationId: 'GetEmails',
          title: 'Get 10 latest emails',
          description: 'Gets the 10 most recent emails from the Inbox for the signed-in user.',
          identity: 'delegated',
          fixedValues: { folder: 'inbox', $filter: 'isRead eq false', $top: 10 },
          resourceNoun: 'this mailbox',
        },
      ],
    });
  return { mcp: `${behalf.url}/mcp/${DEMO_AGENT}`, chat: `${behalf.url}/chat` };
}
