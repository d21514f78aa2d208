/**
 * The sidecar's lifecycle states and its listener slots, without sockets:
 * start once from `built`, stop once from anywhere, fatal reported once and
 * never while stopping; a slot binds its listener once and reports why not.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { silentLogger } from '../../../sidecar/core/index.ts';
import type { ProxyListener } from '../../../sidecar/forward/index.ts';
import { ListenerSlot, SidecarLifecycle } from '../../../sidecar/lifecycle/index.ts';

const noop = async (): Promise<void> => {};
const drained = async (): Promise<{ abandoned: number }> => ({ abandoned: 0 });

test('states: built → starting → serving → stopping → stopped', async () => {
  const l = new SidecarLifecycle(silentLogger, undefined);
  assert.equal(l.state, 'built');
  let during = '';
  await l.start(async () => {
    during = l.state;
  });
  assert.equal(during, 'starting');
  assert.equal(l.state, 'serving');
  const stopping = l.stop(async () => {
    during = l.state;
    return { abandoned: 2 };
  });
  assert.equal(during, 'stopping');
  assert.deepEqual(await stopping, { abandoned: 2 });
  assert.equal(l.state, 'stopped');
});

const misuse: { name: string; before: (l: SidecarLifecycle) => Promise<unknown> }[] = [
  { name: 'start() twice', before: (l) => l.start(noop) },
  { name: 'start() after stop()', before: (l) => l.stop(drained) },
  { name: 'start() after a failed start()', before: (l) => l.start(() => Promise.reject(new Error('bind failed'))).catch(() => {}) },
];
for (const row of misuse) {
  test(`${row.name} → app.lifecycle`, async () => {
    const l = new SidecarLifecycle(silentLogger, undefined);
    await row.before(l);
    await assert.rejects(l.start(noop), { code: 'app.lifecycle' });
  });
}

test('stop(): drain runs once; every call gets the same result', async () => {
  const l = new SidecarLifecycle(silentLogger, undefined);
  let runs = 0;
  const drain = async (): Promise<{ abandoned: number }> => ({ abandoned: ++runs });
  const a = l.stop(drain);
  const b = l.stop(drain);
  assert.equal(a, b);
  assert.deepEqual(await a, { abandoned: 1 });
  assert.equal(runs, 1);
});

test('fatal(): reported once; not at all once stopping', () => {
  const seen: string[] = [];
  const l = new SidecarLifecycle(silentLogger, (e) => seen.push(e.message));
  l.fatal(new Error('agent refused us'));
  l.fatal(new Error('second'));
  assert.deepEqual(seen, ['agent refused us']);
  const quiet: string[] = [];
  const m = new SidecarLifecycle(silentLogger, (e) => quiet.push(e.message));
  void m.stop(drained);
  m.fatal('late failure');
  assert.deepEqual(quiet, []);
});

/** A listener whose start() resolves or rejects as told. */
function fakeListener(fail: Error | undefined, closed: string[]): ProxyListener {
  return {
    start: () => (fail ? Promise.reject(fail) : Promise.resolve({ port: 1 })),
    stopAccepting: () => Promise.resolve(),
    drain: () => Promise.resolve({ abandoned: 0 }),
    activeRequests: () => 0,
    close: () => closed.push('closed'),
  };
}

test('a slot makes its listener when it binds, reports bound, and unbound after close()', async () => {
  const closed: string[] = [];
  let made = 0;
  const s = new ListenerSlot('outbound', '127.0.0.1:15001', 'at-start', () => {
    made++;
    return fakeListener(undefined, closed);
  });
  assert.equal(made, 0, 'nothing is made before bind()');
  assert.deepEqual(s.state(), { name: 'outbound', address: '127.0.0.1:15001', bound: false });
  await s.bind(silentLogger);
  assert.equal(made, 1);
  assert.equal(s.bound, true);
  s.close();
  assert.deepEqual([s.bound, closed], [false, ['closed']]);
});

test('a slot whose listener cannot bind → app.listen_failed naming the slot and address', async () => {
  const s = new ListenerSlot('tcp-inbound:db', '127.0.0.1:5432', 'after-first-svid', () => fakeListener(new Error('EADDRINUSE'), []));
  await assert.rejects(s.bind(silentLogger), (e: Error & { code?: string }) => e.code === 'app.listen_failed' && /tcp-inbound:db cannot listen on 127\.0\.0\.1:5432: EADDRINUSE/.test(e.message));
  assert.equal(s.bound, false);
  assert.notEqual(s.listener, undefined, 'kept for stop() to close');
});
