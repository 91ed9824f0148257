import assert from 'node:assert/strict';
import { test } from 'node:test';
import { manualClock } from '../../core/clock.ts';
import { createRateLimiter } from './rate-limit.ts';

test('a key gets `count` takes per window, then waits for the window to reopen; keys are independent', () => {
  const clock = manualClock(1_000_000);
  const limiter = createRateLimiter({ count: 2, windowMs: 60_000, clock });
  assert.equal(limiter.take('a'), 0);
  assert.equal(limiter.take('a'), 0);
  clock.advance(10_000);
  assert.equal(limiter.take('a'), 50_000);
  assert.equal(limiter.take('b'), 0);
  clock.advance(50_000);
  assert.equal(limiter.take('a'), 0);
});

test('the number of remembered keys is bounded', () => {
  const clock = manualClock(0);
  const limiter = createRateLimiter({ count: 1, windowMs: 60_000, clock, maxKeys: 3 });
  for (const key of ['a', 'b', 'c', 'd']) assert.equal(limiter.take(key), 0);
  // 'a' was evicted to make room, so it starts a fresh window.
  assert.equal(limiter.take('a'), 0);
  assert.ok(limiter.take('d') > 0);
});
