import { test } from 'node:test';
import assert from 'node:assert/strict';
import { setTimeout as sleep } from 'node:timers/promises';
import { DeadlineTimer } from '../../../sidecar/forward/deadline-timer.ts';

/** A timer whose expiries are recorded as performance.now() readings. */
function recorder(): { timer: DeadlineTimer<number[]>; fired: number[] } {
  const fired: number[] = [];
  const timer = new DeadlineTimer<number[]>(fired, (f) => f.push(performance.now()), false);
  return { timer, fired };
}

test('deadline timer: expires once, no earlier than the time it was armed for', async () => {
  const { timer, fired } = recorder();
  const start = performance.now();
  timer.arm(30);
  await sleep(80);
  assert.equal(fired.length, 1);
  assert.ok(fired[0]! - start >= 30, `expired after ${fired[0]! - start} ms`);
  timer.clear();
});

test('deadline timer: re-arming moves the deadline on, so it expires the full time after the last arm', async () => {
  const { timer, fired } = recorder();
  timer.arm(40);
  await sleep(25);
  const lastArm = performance.now();
  timer.arm(40);
  await sleep(25);
  assert.equal(fired.length, 0, 'the first Timeout fired before the moved deadline and started again');
  await sleep(60);
  assert.equal(fired.length, 1);
  assert.ok(fired[0]! - lastArm >= 40, `expired ${fired[0]! - lastArm} ms after the last arm`);
  timer.clear();
});

test('deadline timer: a shorter arm than the running Timeout expires on time', async () => {
  const { timer, fired } = recorder();
  timer.arm(5_000);
  const start = performance.now();
  timer.arm(20);
  await sleep(70);
  assert.equal(fired.length, 1);
  assert.ok(fired[0]! - start >= 20);
  timer.clear();
});

test('deadline timer: disarmed, it never expires; armed again, it does', async () => {
  const { timer, fired } = recorder();
  timer.arm(20);
  timer.disarm();
  await sleep(50);
  assert.equal(fired.length, 0);
  timer.arm(20);
  await sleep(60);
  assert.equal(fired.length, 1);
  timer.clear();
});

test('deadline timer: cleared, the Timeout is gone and nothing expires', async () => {
  const { timer, fired } = recorder();
  timer.arm(20);
  timer.clear();
  await sleep(50);
  assert.equal(fired.length, 0);
});
