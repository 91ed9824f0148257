import { readFileSync } from 'node:fs';
import { ensureDemoTenant } from '../../src/cli/demo/setup.ts';
import type { DemoDescription } from '../../src/cli/demo/setup.ts';
import { loadConfig } from '../../src/core/config.ts';
import { cryptoRandom } from '../../src/core/ids.ts';
import { silentLogger } from '../../src/core/logger.ts';
import type { Behalf } from '../../src/main.ts';
import { startBehalf } from '../../src/main.ts';
import { GET_EMAILS_TOOL } from './agents-chat-demo.ts';

const CONNECTOR_DIR = new URL('../../examples/connectors/contoso-mail/', import.meta.url);

/**
 * A real Behalf with the demo tenant, the Contoso Mail connector of examples/ (no mail API behind it:
 * the MCP authorization tests stop at the token) and one agent per name with "Get 10 latest emails".
 * `settings`: more configuration (flags' names).
 */
export async function startMcpAgentsBehalf(
  dataDir: string,
  agentNames: readonly string[],
  settings: Record<string, unknown> = {},
): Promise<{ behalf: Behalf; demo: DemoDescription }> {
  const behalf = await startBehalf({
    config: loadConfig({ dataDir, port: 0, logLevel: 'error', ...settings }, {}),
    logger: silentLogger,
  });
  const demo = await ensureDemoTenant({
    directory: behalf.directory,
    administrators: behalf.administrators,
    random: cryptoRandom,
    logger: silentLogger,
    baseUrl: behalf.url,
    dataDir,
    caCertificatePath: behalf.caCertificatePath,
  });
  const read = (name: string) => readFileSync(new URL(name, CONNECTOR_DIR), 'utf8');
  const imported = await behalf.connections.registry.create(demo.tenantId, {
    apiDefinition: { name: 'apiDefinition.swagger.json', text: read('apiDefinition.swagger.json') },
    apiProperties: { name: 'apiProperties.json', text: read('apiProperties.json') },
  });
  const tool = { connectorId: imported.connector.id, ...GET_EMAILS_TOOL };
  for (const displayName of agentNames)
    await behalf.agents.agents.create(demo.tenantId, { displayName, tools: [tool] });
  return { behalf, demo };
}
