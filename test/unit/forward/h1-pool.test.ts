/**
 * The HTTP/1.1 pool never queues a request on a busy connection, where it
 * would wait behind a request whose body may never end (issue 12): at
 * maxConnections busy connections the next request fails at once with
 * forward.overloaded (503 with retry-after).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { once } from 'node:events';
import net from 'node:net';
import { ForwardError, H1Pool, type Dialer, type H1PoolRequest } from '../../../sidecar/forward/index.ts';
import { LoopbackDialer } from '../../support/loopback-dialer.ts';

/** A dialer whose connections never complete: every dispatched request stays in flight. */
class StuckDialer implements Dialer {
  readonly target = '127.0.0.1:9';
  dials = 0;
  onCredentialsChange(): void {}
  dial(): void {
    this.dials++;
  }
}

class Request implements H1PoolRequest {
  readonly method = 'GET';
  readonly target = '/';
  readonly headers = ['host', 'app'];
  readonly authority = 'app';
  readonly hasHostHeader = true;
  readonly upgrade = '';
  readonly hasBody = false;
  error: Error | null = null;
  status = 0;
  #resolve: () => void = () => {};
  readonly done = new Promise<void>((r) => (this.#resolve = r));
  h1Started(): void {}
  h1Head(status: number): void {
    this.status = status;
  }
  h1Body(): boolean {
    return true;
  }
  h1End(): void {
    this.#resolve();
  }
  h1Failed(err: Error): void {
    this.error = err;
    this.#resolve();
  }
  h1Upgraded(): void {}
  h1Drained(): void {}
  h1ReadEnd(): void {}
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
  assert.equal(dialer.dials, 2);
  assert.equal(a.error, null);
  assert.equal(b.error, null);
  assert.ok(c.error instanceof ForwardError, `got ${c.error}`);
  assert.equal(c.error.code, 'forward.overloaded');
});

test('a connection whose request finished is reused before a new one is opened', async (t) => {
  // A loopback server answering every request on a connection with an empty 200.
  const server = net.createServer((s) => {
    s.on('data', () => s.write('HTTP/1.1 200 OK\r\ncontent-length: 0\r\n\r\n'));
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  t.after(() => server.close());
  const port = (server.address() as net.AddressInfo).port;
  const dialer = new LoopbackDialer(port);
  const pool = new H1Pool({ dialer, dst: 'app', maxConnections: 1, idleTimeoutMs: 1000, requestTimeoutMs: 0, maxHeaderBytes: 16384 });
  t.after(() => pool.destroy());
  for (let i = 0; i < 3; i++) {
    const r = new Request();
    pool.dispatch(r);
    await r.done;
    assert.equal(r.error, null);
    assert.equal(r.status, 200);
  }
  assert.equal(dialer.dials, 1, 'one connection carried all three');
  assert.equal(pool.size, 1);
});

/** A loopback server answering every request on a connection with an empty 200. */
async function okServer(t: { after(fn: () => void): void }): Promise<number> {
  const server = net.createServer((s) => {
    s.on('data', () => s.write('HTTP/1.1 200 OK\r\ncontent-length: 0\r\n\r\n'));
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  t.after(() => server.close());
  return (server.address() as net.AddressInfo).port;
}

async function send(pool: H1Pool): Promise<void> {
  const r = new Request();
  pool.dispatch(r);
  await r.done;
  assert.equal(r.error, null);
  assert.equal(r.status, 200);
}

test('credential rotation: the pool retires its connections when the dialer announces the change, not by polling', async (t) => {
  const cases = [
    { name: 'a change after the request retires the idle connection', inDial: false, after: true, dials: 2 },
    { name: 'a change announced inside the dial is already in that connection', inDial: true, after: false, dials: 1 },
  ];
  for (const c of cases) {
    const dialer = new LoopbackDialer(await okServer(t));
    // Two: a retired connection counts until its socket's 'close'.
    const pool = new H1Pool({ dialer, dst: 'app', maxConnections: 2, idleTimeoutMs: 1000, requestTimeoutMs: 0, maxHeaderBytes: 16384 });
    t.after(() => pool.destroy());
    assert.equal(dialer.listeners.length, 1, `${c.name}: one subscription per pool`);
    dialer.changeInDial = c.inDial;
    await send(pool);
    if (c.after) dialer.changed();
    await send(pool);
    assert.equal(dialer.dials, c.dials, c.name);
  }
});

test('destroy fails a request whose connection is still dialling', () => {
  const pool = new H1Pool({ dialer: new StuckDialer(), dst: 'app', maxConnections: 1, idleTimeoutMs: 1000, requestTimeoutMs: 0, maxHeaderBytes: 16384 });
  const a = new Request();
  pool.dispatch(a);
  pool.destroy();
  assert.ok(a.error instanceof ForwardError);
  assert.equal(a.error.code, 'forward.closed');
  assert.equal(pool.size, 0);
});

