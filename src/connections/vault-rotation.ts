import type { Clock } from '../core/clock.ts';
import type { Random } from '../core/ids.ts';
import type { Envelope } from '../crypto/envelope.ts';
import type { RecordStore } from '../storage/record-store.ts';
import { createConnectionRepository } from './connection-repository.ts';
import { GATEWAY_SECRET_KIND } from './gateway-app-secret.ts';
import { createVault, envelopeCipher } from './vault.ts';

export interface VaultRotationResult {
  readonly connections: number;
  readonly values: number;
  readonly gatewaySecrets: number;
}

/**
 * Re-wraps every value the connections part keeps (connection tokens and secure parameters, Behalf
 * Connections' own client secret) under the envelope's current master key version. Each record is
 * written with a compare-and-swap, so a refresh running meanwhile is re-read, never overwritten.
 */
export async function rotateVault(options: {
  readonly store: RecordStore;
  readonly envelope: Envelope;
  readonly clock: Clock;
  readonly random: Random;
}): Promise<VaultRotationResult> {
  const { store, envelope } = options;
  const connections = createConnectionRepository(options);
  const rotated = await createVault(envelopeCipher(envelope)).rotate(connections);
  let gatewaySecrets = 0;
  for (const record of await store.list<{ sealed: string }>(GATEWAY_SECRET_KIND)) {
    if (!envelope.needsRewrap(record.data.sealed)) continue;
    const data = { sealed: envelope.rewrap(record.data.sealed) };
    if (await store.update(GATEWAY_SECRET_KIND, record.id, record.version, data)) gatewaySecrets++;
  }
  return { ...rotated, gatewaySecrets };
}
