import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { createMemoryStore } from '../storage/adapters/memory.ts';
import { watchDirectoryWrites } from './directory-changes.ts';

describe('watchDirectoryWrites', () => {
  it('moves the generation after each directory write, not after reads or other kinds', async () => {
    const { store, changes } = watchDirectoryWrites(createMemoryStore());
    const start = changes.generation();
    await store.insert({ kind: 'idp.refresh-token', id: 'r1', partition: 't', data: {} });
    await store.get('directory.application', 'a1');
    await store.list('directory.application');
    assert.equal(changes.generation(), start, 'reads and non-directory writes leave it');

    const inserted = await store.insert({
      kind: 'directory.application',
      id: 'a1',
      partition: 't',
      data: { n: 1 },
    });
    const afterInsert = changes.generation();
    assert.ok(afterInsert > start);
    await store.update('directory.application', 'a1', inserted.version, { n: 2 });
    const afterUpdate = changes.generation();
    assert.ok(afterUpdate > afterInsert);
    assert.equal(await store.delete('directory.application', 'a1'), true);
    assert.ok(changes.generation() > afterUpdate);
    // The wrapped store is the store: what was written is there.
    assert.equal(await store.get('directory.application', 'a1'), undefined);
  });

  it('moves it again once a transaction that wrote the directory settles, committed or not', async () => {
    const { store, changes } = watchDirectoryWrites(createMemoryStore());
    let insideAfterWrite = -1;
    const before = changes.generation();
    await store.transaction(async (tx) => {
      await tx.insert({ kind: 'directory.oauth2-permission-grant', id: 'g1', partition: 't', data: {} });
      insideAfterWrite = changes.generation();
    });
    assert.ok(insideAfterWrite > before);
    assert.ok(changes.generation() > insideAfterWrite, 'bumped when the transaction settled');
    assert.ok(await store.get('directory.oauth2-permission-grant', 'g1'));

    const beforeFailure = changes.generation();
    await assert.rejects(
      store.transaction(async (tx) => {
        await tx.transaction((inner) =>
          inner.insert({ kind: 'directory.user', id: 'u1', partition: 't', data: {} }),
        );
        throw new Error('rolled back');
      }),
      /rolled back/,
    );
    assert.ok(changes.generation() > beforeFailure + 1);

    const quiet = changes.generation();
    await store.transaction((tx) => tx.insert({ kind: 'idp.jti', id: 'j1', partition: 't', data: {} }));
    assert.equal(changes.generation(), quiet, 'a transaction with no directory write leaves it');
  });
});
