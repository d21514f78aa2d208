/**
 * The HTTP/1.1 pool never queues a request on a busy connection, where it
 * would wait behind a request whose body may never end (issue 12): at
 * maxConnections busy connections the next request fails at once with
 * forward.overloaded (503 with retry-after).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { Dispatcher } from 'undici';
import { ForwardError, H1Pool, type Dialer, type H1PoolRequest, type PoolSlot } from '../../../sidecar/forward/index.ts';

/** A dialer whose connections never complete: every dispatched request stays in flight. */
class StuckDialer implements Dialer {
  readonly target = '127.0.0.1:9';
  dials = 0;
  generation(): number {
    return 0;
  }
  dial(): void {
    this.dials++;
  }
}

class Request implements H1PoolRequest {
  slot: PoolSlot | null = null;
  error: Error | null = null;
  h1DispatchOptions(): Dispatcher.DispatchOptions {
    return { method: 'GET', path: '/', headers: ['host', 'app'] };
  }
  onRequestStart(): void {}
  onResponseStart(): void {}
  onResponseData(): void {}
  onResponseEnd(): void {}
  onResponseError(_c: unknown, err: Error): void {
    this.error = err;
  }
}

test('at maxConnections busy connections a request fails with forward.overloaded instead of queueing', (t) => {
  const dialer = new StuckDialer();
  const pool = new H1Pool({ dialer, dst: 'app', maxConnections: 2, idleTimeoutMs: 1000, requestTimeoutMs: 0, maxHeaderBytes: 16384 });
  t.after(() => pool.destroy());
  const a = new Request();
  const b = new Request();
  const c = new Request();
  pool.dispatch(a);
  pool.dispatch(b);
  pool.dispatch(c);
  assert.equal(pool.size, 2, 'one connection per request in flight, up to the cap');
  assert.equal(a.error, null);
  assert.equal(b.error, null);
  assert.ok(c.error instanceof ForwardError, `got ${c.error}`);
  assert.equal(c.error.code, 'forward.overloaded');
  assert.equal(c.slot, null, 'the refused request holds no connection');
});

test('a released connection is reused before a new one is opened', (t) => {
  const dialer = new StuckDialer();
  const pool = new H1Pool({ dialer, dst: 'app', maxConnections: 1, idleTimeoutMs: 1000, requestTimeoutMs: 0, maxHeaderBytes: 16384 });
  t.after(() => pool.destroy());
  const a = new Request();
  pool.dispatch(a);
  a.slot!.release();
  const b = new Request();
  pool.dispatch(b);
  assert.equal(b.error, null, 'the idle connection took it');
  assert.equal(pool.size, 1);
});
