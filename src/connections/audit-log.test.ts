import assert from 'node:assert/strict';
import { it } from 'node:test';
import { manualClock } from '../core/clock.ts';
import { cryptoRandom } from '../core/ids.ts';
import { createMemoryStore } from '../storage/adapters/memory.ts';
import { createAuditLog } from './audit-log.ts';
import type { NewAuditEntry } from './audit-log.ts';

const base: NewAuditEntry = {
  tenantId: 'contoso',
  callerObjectId: 'alice',
  connectorId: 'mail',
  operationId: 'ListUnread',
  outcome: 'success',
  durationMs: 3,
  correlationId: 'c0',
};

it('lists newest first, filters by any combination, pages, and bounds by time', async () => {
  const clock = manualClock(Date.UTC(2026, 0, 1));
  const audit = createAuditLog({ store: createMemoryStore({ clock }), clock, random: cryptoRandom });
  for (let i = 0; i < 6; i++) {
    clock.advance(1000);
    await audit.record({
      ...base,
      callerObjectId: i % 2 ? 'bob' : 'alice',
      outcome: i === 5 ? 'denied' : 'success',
      correlationId: `c${i}`,
    });
  }
  const all = await audit.query({ tenantId: 'contoso' });
  assert.deepEqual(
    all.entries.map((e) => e.correlationId),
    ['c5', 'c4', 'c3', 'c2', 'c1', 'c0'],
  );
  const bob = await audit.query({ callerObjectId: 'bob', outcome: 'denied' });
  assert.deepEqual(
    bob.entries.map((e) => e.correlationId),
    ['c5'],
  );
  const first = await audit.query({ callerObjectId: 'alice', limit: 2 });
  assert.deepEqual(
    first.entries.map((e) => e.correlationId),
    ['c4', 'c2'],
  );
  const second = await audit.query({ callerObjectId: 'alice', limit: 2, before: first.next! });
  assert.deepEqual(
    second.entries.map((e) => e.correlationId),
    ['c0'],
  );
  const window = await audit.query({
    since: new Date(Date.UTC(2026, 0, 1, 0, 0, 2)).toISOString(),
    until: new Date(Date.UTC(2026, 0, 1, 0, 0, 4)).toISOString(),
  });
  assert.deepEqual(
    window.entries.map((e) => e.correlationId),
    ['c3', 'c2', 'c1'],
  );
  assert.deepEqual((await audit.query({ tenantId: 'fabrikam' })).entries, []);
});
