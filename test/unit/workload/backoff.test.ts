import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Backoff } from '../../../sidecar/workload/index.ts';

/** A small deterministic PRNG (mulberry32) so jitter tests cover many values reproducibly. */
function seeded(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

test('decorrelated jitter stays within [initial, min(max, 3 × previous)]', () => {
  const b = new Backoff({ initialMs: 100, maxMs: 5_000, jitter: 'decorrelated', random: seeded(1) });
  let prev = 100;
  for (let i = 0; i < 200; i++) {
    const d = b.next();
    assert.ok(d >= 100, `delay ${d} below initial`);
    assert.ok(d <= Math.min(5_000, prev * 3), `delay ${d} above min(max, 3 × ${prev})`);
    prev = Math.max(d, 100);
  }
});

test('decorrelated jitter grows to the cap with the largest random values and never passes it', () => {
  const b = new Backoff({ initialMs: 100, maxMs: 2_000, jitter: 'decorrelated', random: () => 0.999999 });
  const seq = Array.from({ length: 6 }, () => b.next());
  assert.deepEqual(seq, [299, 899, 1_999, 1_999, 1_999, 1_999]);
});

test('decorrelated jitter with the smallest random value stays at initial', () => {
  const b = new Backoff({ initialMs: 250, jitter: 'decorrelated', random: () => 0 });
  assert.deepEqual([b.next(), b.next(), b.next()], [250, 250, 250]);
});

test('full jitter stays within [0, min(max, initial × 2^n))', () => {
  const b = new Backoff({ initialMs: 100, maxMs: 3_000, jitter: 'full', random: seeded(7) });
  for (let n = 0; n < 100; n++) {
    const d = b.next();
    assert.ok(d >= 0 && d <= Math.min(3_000, 100 * 2 ** n), `attempt ${n}: ${d}`);
  }
});

test('full jitter ceilings double per attempt up to the cap', () => {
  const b = new Backoff({ initialMs: 100, maxMs: 1_000, jitter: 'full', random: () => 1 });
  assert.deepEqual(Array.from({ length: 6 }, () => b.next()), [100, 200, 400, 800, 1_000, 1_000]);
});

test('reset starts over from the smallest delays', () => {
  for (const jitter of ['full', 'decorrelated'] as const) {
    const b = new Backoff({ initialMs: 100, maxMs: 10_000, jitter, random: () => 1 });
    for (let i = 0; i < 5; i++) b.next();
    assert.equal(b.attempts, 5);
    b.reset();
    assert.equal(b.attempts, 0);
    assert.equal(b.next(), jitter === 'full' ? 100 : 300, jitter);
  }
});

test('defaults: decorrelated, initial 500 ms, cap 30 s (go-spiffe cap)', () => {
  const b = new Backoff({ random: () => 1 });
  const seq = Array.from({ length: 8 }, () => b.next());
  assert.equal(seq[0], 1_500);
  assert.equal(seq.at(-1), 30_000);
});
