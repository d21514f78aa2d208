/**
 * Drain: stopAccepting() closes the listener, drain() lets requests in
 * flight finish (HTTP/1.1 responses say `Connection: close`, HTTP/2
 * sessions get GOAWAY), closes idle connections, and at the deadline cuts
 * what is left and says how many requests it cut.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { once } from 'node:events';
import http from 'node:http';
import http2 from 'node:http2';
import net from 'node:net';
import { Cleanup, eventually, h1Request, h2Request, makePki, startH1App, type Pki } from '../../support/proxy-fixtures.ts';
import { startMesh } from './mesh.ts';

const cleanup = new Cleanup();
after(() => cleanup.run());

let pki: Pki;
before(async () => {
  pki = await makePki();
});

/** An app whose /slow answers only when the test says so. */
async function slowApp(): Promise<{ port: number; started: Promise<void>; finish: () => void }> {
  let finish!: () => void;
  let started!: () => void;
  const go = new Promise<void>((r) => (finish = r));
  const startedP = new Promise<void>((r) => (started = r));
  const app = await startH1App(cleanup, (req, res) => {
    if (req.url === '/slow') {
      started();
      void go.then(() => res.end('slow done'));
    } else {
      res.end('fast');
    }
  });
  return { port: app.port, started: startedP, finish };
}

function refused(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = net.connect(port, '127.0.0.1');
    s.on('connect', () => {
      s.destroy();
      resolve(false);
    });
    s.on('error', () => resolve(true));
  });
}

test('HTTP/1.1: in-flight request completes with Connection: close; new connections are refused', async () => {
  const app = await slowApp();
  const m = await startMesh(pki, cleanup, { appPort: app.port });
  const agent = new http.Agent({ keepAlive: true, maxSockets: 2 });
  cleanup.add(() => agent.destroy());
  // An idle kept-alive connection, and one with a slow request in flight.
  assert.equal((await h1Request(m.outboundPort, { headers: { host: 'backend' }, agent })).status, 200);
  const slow = h1Request(m.outboundPort, { path: '/slow', headers: { host: 'backend' }, agent });
  await app.started;
  assert.equal(m.outbound.activeRequests(), 1);
  assert.equal(m.inbound.activeRequests(), 1);

  await m.outbound.stopAccepting();
  await m.inbound.stopAccepting();
  assert.ok(await refused(m.outboundPort), 'outbound refuses new connections');
  assert.ok(await refused(m.inboundPort), 'inbound refuses new connections');

  const drained = Promise.all([m.outbound.drain(10_000), m.inbound.drain(10_000)]);
  app.finish();
  const r = await slow;
  assert.equal(r.status, 200);
  assert.equal(r.body, 'slow done');
  assert.equal(r.headers['connection'], 'close');
  assert.deepEqual(await drained, [{ abandoned: 0 }, { abandoned: 0 }]);
  assert.equal(m.outbound.activeRequests(), 0);
  // Every connection counted as opened was counted as closed again.
  await eventually(() => m.inMetrics.open.inbound === 0 && m.outMetrics.open.outbound === 0, 5000, 'connection gauges back to zero');
  assert.ok(m.inMetrics.opened.inbound > 0 && m.outMetrics.opened.outbound > 0);
});

test('HTTP/2: the session gets GOAWAY, the open stream completes', async () => {
  const app = await slowApp();
  const m = await startMesh(pki, cleanup, { appPort: app.port });
  const s = http2.connect(`http://127.0.0.1:${m.outboundPort}`);
  s.on('error', () => {});
  cleanup.add(() => s.destroy());
  await once(s, 'connect');
  const goaway = once(s, 'goaway');
  const slow = h2Request(s, { ':path': '/slow', ':authority': 'backend' });
  await app.started;
  const drained = m.outbound.drain(10_000);
  await goaway;
  app.finish();
  const r = await slow;
  assert.equal(r.status, 200);
  assert.equal(r.body, 'slow done');
  assert.deepEqual(await drained, { abandoned: 0 });
});

test('deadline: a request still running is cut and counted as abandoned', async () => {
  const app = await slowApp();
  const m = await startMesh(pki, cleanup, { appPort: app.port });
  const slow = h1Request(m.outboundPort, { path: '/slow', headers: { host: 'backend' } }).then(
    (r) => `status ${r.status}`,
    () => 'cut',
  );
  await app.started;
  const r = await m.inbound.drain(200);
  assert.deepEqual(r, { abandoned: 1 });
  // The outbound answers its client once the inbound cut the request: 502,
  // or 503 when its one retry of the idempotent GET finds the listener closed.
  assert.match(await slow, /cut|status 50[23]/);
  app.finish();
});
