import { test } from 'node:test';
import assert from 'node:assert/strict';
import { DenyLimiter, OVERFLOW_CALLER } from '../../../sidecar/audit/index.ts';

test('DenyLimiter: lets the burst through, then drops, and reports the dropped count once the bucket refills', () => {
  const l = new DenyLimiter(3, 60, 10); // one token a second
  const got = [0, 0, 0, 0, 0].map(() => l.take('a', 1000));
  assert.deepEqual(got, [0, 0, 0, -1, -1]);
  assert.equal(l.take('a', 1500), -1, 'half a token is not a line');
  assert.equal(l.take('a', 2000), 3, 'the next written line carries the three dropped');
  assert.equal(l.suppressedSinceMs, 1000);
  assert.equal(l.take('a', 2000), -1);
});

test('DenyLimiter: keeps one bucket per caller', () => {
  const l = new DenyLimiter(1, 60, 10);
  assert.equal(l.take('a', 0), 0);
  assert.equal(l.take('a', 0), -1);
  assert.equal(l.take('b', 0), 0);
});

test('DenyLimiter: never tracks more than maxCallers (+ the overflow bucket)', () => {
  const l = new DenyLimiter(1, 1, 4);
  for (let i = 0; i < 100; i++) l.take(`spiffe://td/c${i}`, 0);
  assert.equal(l.size, 5);
  // Callers beyond the bound share the overflow bucket, already empty.
  assert.equal(l.take('spiffe://td/new', 0), -1);
  assert.deepEqual(
    l.flush().find((s) => s.caller === OVERFLOW_CALLER),
    { caller: OVERFLOW_CALLER, count: 96, sinceMs: 0 },
  );
});

test('DenyLimiter: forgets idle callers when full, so newcomers get their own bucket', () => {
  const l = new DenyLimiter(1, 60, 2);
  l.take('a', 0);
  l.take('b', 0);
  assert.equal(l.take('c', 60_000), 0, 'a and b refilled long ago: dropped, c tracked');
  assert.equal(l.size, 1);
});

test('DenyLimiter: flush reports and clears pending counts', () => {
  const l = new DenyLimiter(1, 1, 10);
  l.take('a', 5);
  l.take('a', 6);
  l.take('a', 7);
  assert.deepEqual(l.flush(), [{ caller: 'a', count: 2, sinceMs: 6 }]);
  assert.deepEqual(l.flush(), []);
});
