import type { SigningKeyPersistence, StoredSigningKey } from '../crypto/signing-keys.ts';
import type { RecordStore } from '../storage/record-store.ts';

const KIND = 'idp.signing_keys';
const ID = 'ring';

/**
 * The signing key ring persisted as one record (private keys are already encrypted by the ring's
 * cipher), so every node sharing the store publishes and signs with the same keys.
 */
export function recordStoreKeyPersistence(store: RecordStore): SigningKeyPersistence {
  return {
    async load() {
      return (await store.get<{ keys: StoredSigningKey[] }>(KIND, ID))?.data.keys ?? [];
    },
    async save(keys) {
      for (let attempt = 0; attempt < 5; attempt++) {
        const current = await store.get<{ keys: StoredSigningKey[] }>(KIND, ID);
        if (!current) {
          try {
            await store.insert({ kind: KIND, id: ID, partition: 'idp', data: { keys: [...keys] } });
            return;
          } catch {
            continue;
          }
        }
        if (await store.update(KIND, ID, current.version, { keys: [...keys] })) return;
      }
      throw new Error('the signing keys could not be saved (concurrent writers)');
    },
  };
}
