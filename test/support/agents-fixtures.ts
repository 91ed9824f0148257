import { readFileSync } from 'node:fs';
import { importPackage } from '../../src/connectors/index.ts';
import type { ConnectorSource } from '../../src/agents/ports.ts';
import { createMemoryStore } from '../../src/storage/adapters/memory.ts';

/** Test helpers for agents/: the committed Contoso Mail connector and an in-memory RecordStore. */
export { createMemoryStore };

const dir = new URL('../../examples/connectors/contoso-mail/', import.meta.url);

export function contosoMail(): ConnectorSource {
  const text = readFileSync(new URL('apiDefinition.swagger.json', dir), 'utf8');
  const properties = readFileSync(new URL('apiProperties.json', dir), 'utf8');
  const imported = importPackage({
    apiDefinition: { name: 'apiDefinition.swagger.json', text },
    apiProperties: { name: 'apiProperties.json', text: properties },
  });
  if (!imported.model) throw new Error('the Contoso Mail package does not import');
  return { displayName: 'Contoso Mail', model: imported.model, document: JSON.parse(text) as unknown };
}

/** A package built in the test, for schema shapes the demo connector does not have. */
export function connectorFrom(definition: Record<string, unknown>): ConnectorSource {
  const text = JSON.stringify(definition);
  const imported = importPackage({ apiDefinition: { name: 'apiDefinition.swagger.json', text } });
  if (!imported.model) throw new Error(`does not import: ${JSON.stringify(imported.diagnostics)}`);
  return {
    displayName: String((definition.info as { title?: string } | undefined)?.title ?? 'Test'),
    model: imported.model,
    document: definition,
  };
}
