/**
 * Request bodies that stall or crawl are cut off (issue 12: 300 uploads at
 * 1 byte per 2 s held 300 app connections). Driven by a ManualClock; one
 * row per rule, each failing without its check.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ManualClock } from '../../../sidecar/core/index.ts';
import { UploadWatch, type WatchedUpload } from '../../../sidecar/forward/index.ts';
import type { BodyTimeoutReason } from '../../../sidecar/metrics/index.ts';

class Upload implements WatchedUpload {
  received = 0;
  responseBytes = 0;
  cut: BodyTimeoutReason[] = [];
  watchStartedAt = 0;
  watchBase = 0;
  watchSeen = 0;
  watchIdleSince = 0;
  watchMinRate = false;
  bodyProgress(): number {
    return this.received;
  }
  uploadTimedOut(reason: BodyTimeoutReason): void {
    this.cut.push(reason);
  }
}

const IDLE = 1000;
const RATE = 100; // bytes per second

function setup(minRate: boolean, idle = IDLE, rate = RATE): { clock: ManualClock; watch: UploadWatch; u: Upload } {
  const clock = new ManualClock(0);
  const watch = new UploadWatch(clock, idle, rate);
  const u = new Upload();
  watch.add(u, minRate);
  return { clock, watch, u };
}

/** Advances in small steps, calling `each` before every step. */
function run(clock: ManualClock, ms: number, each: () => void = () => {}): void {
  for (let t = 0; t < ms; t += 50) {
    each();
    clock.advance(50);
  }
}

test('idle: a body that sends nothing for requestBodyIdleTimeout is cut off once', () => {
  const { clock, watch, u } = setup(false);
  run(clock, IDLE + 300);
  assert.deepEqual(u.cut, ['idle']);
  assert.equal(watch.size, 0);
  run(clock, 3 * IDLE);
  assert.deepEqual(u.cut, ['idle'], 'reported once');
});

test('idle: a body that keeps moving is not idle', () => {
  const { clock, u } = setup(false);
  run(clock, 5 * IDLE, () => (u.received += 1));
  assert.deepEqual(u.cut, []);
});

test('idle: response bytes count as activity (a streaming call whose client is quiet)', () => {
  const { clock, u } = setup(false);
  run(clock, 5 * IDLE, () => (u.responseBytes += 10));
  assert.deepEqual(u.cut, []);
});

test('min_rate: a body trickling below the rate is cut off after the grace period', () => {
  // 1 byte per 50 ms = 20 B/s against 100 B/s: the slowloris upload.
  const { clock, u } = setup(true);
  run(clock, 4 * IDLE, () => (u.received += 1));
  assert.deepEqual(u.cut, ['min_rate']);
});

test('min_rate: a body at the rate or above is never cut off', () => {
  const { clock, u } = setup(true);
  run(clock, 10 * IDLE, () => (u.received += 6)); // 120 B/s
  assert.deepEqual(u.cut, []);
});

test('min_rate: only where the body holds an HTTP/1.1 connection (minRate false)', () => {
  const { clock, u } = setup(false);
  run(clock, 10 * IDLE, () => (u.received += 1));
  assert.deepEqual(u.cut, []);
});

test('min_rate: bytes already read before the watch started do not count', () => {
  const clock = new ManualClock(0);
  const watch = new UploadWatch(clock, IDLE, RATE);
  const u = new Upload();
  u.received = 1_000_000; // e.g. earlier requests on the same keep-alive connection
  watch.add(u, true);
  run(clock, 4 * IDLE, () => (u.received += 1));
  assert.deepEqual(u.cut, ['min_rate']);
});

test('a body that ended is forgotten', () => {
  const { clock, watch, u } = setup(true);
  watch.delete(u);
  run(clock, 5 * IDLE);
  assert.deepEqual(u.cut, []);
  assert.equal(clock.pendingTimers, 0, 'no timer left armed once nothing is watched');
});

test('requestBodyIdleTimeout 0 turns the watch off', () => {
  const { clock, watch, u } = setup(true, 0);
  assert.equal(watch.enabled, false);
  run(clock, 10_000);
  assert.deepEqual(u.cut, []);
  assert.equal(clock.pendingTimers, 0);
});

test('minUploadBytesPerSecond 0 keeps only the idle timeout', () => {
  const { clock, u } = setup(true, IDLE, 0);
  run(clock, 10 * IDLE, () => (u.received += 1));
  assert.deepEqual(u.cut, []);
});
