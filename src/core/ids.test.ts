import assert from 'node:assert/strict';
import { it } from 'node:test';
import { cryptoRandom, isGuid, timeOrderedUuid } from './ids.ts';

it('timeOrderedUuid is a version 7 UUID whose first 48 bits are the time in milliseconds', () => {
  const now = Date.UTC(2026, 11, 5, 19, 30, 0, 123);
  const id = timeOrderedUuid(now, cryptoRandom);
  assert.ok(isGuid(id), id);
  assert.equal(id[14], '7', 'version nibble');
  assert.match(id[19]!, /[89ab]/, 'variant bits 10');
  assert.equal(parseInt(id.replace(/-/g, '').slice(0, 12), 16), now);
});

it('timeOrderedUuid sorts by time and differs within one millisecond', () => {
  const base = Date.UTC(2026, 0, 1);
  const ids = [base + 2, base, base + 1000, base + 1].map((t) => timeOrderedUuid(t, cryptoRandom));
  assert.deepEqual([...ids].sort(), [ids[1], ids[3], ids[0], ids[2]]);
  const same = new Set(Array.from({ length: 100 }, () => timeOrderedUuid(base, cryptoRandom)));
  assert.equal(same.size, 100);
});

it('cryptoRandom.bytes hands out fresh bytes each time, across pool refills', () => {
  const draws = Array.from({ length: 2000 }, () => cryptoRandom.bytes(10).toString('hex'));
  assert.equal(new Set(draws).size, draws.length);
  assert.ok(draws.every((hex) => hex.length === 20 && hex !== '0'.repeat(20)));
  assert.equal(cryptoRandom.bytes(1000).length, 1000);
});
