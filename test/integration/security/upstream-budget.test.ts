/**
 * Bounded upstream work (issue 12 item 2): one caller must not be able to
 * make the sidecar hold the app's connections for everyone. Rows: HTTP/2
 * stream amplification with bodies that never end, HTTP/1.1 pipelining,
 * slow and stalled uploads, and rapid reset, against Node's http/http2
 * servers and hypercorn. Each row fails without its check
 * (forward/http-front.ts admit and the HTTP/2 settings, forward/h1-pool.ts,
 * forward/upload-watch.ts, the deferred HTTP/2 dispatch).
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { once } from 'node:events';
import http2 from 'node:http2';
import tls from 'node:tls';
import type { ProxyLimits } from '../../../sidecar/core/index.ts';
import { authorizeAny } from '../../../sidecar/tls/index.ts';
import { requireTools } from '../../support/tools.ts';
import { Cleanup, LIMITS, TD, clientTls, eventually, makePki, mtlsH2Session, sourceFor, type Pki, type StaticSource } from '../../support/proxy-fixtures.ts';
import { startMesh, type Mesh } from '../forward/mesh.ts';
import { HYPERCORN, startHypercorn, startNodeH1, startNodeH2c, type Backend } from './backends.ts';
import { CANCEL, clientPreface, headers, rawH2, request, rstStream } from './h2-frames.ts';

const cleanup = new Cleanup();
after(() => cleanup.run());

let pki: Pki;
let attacker: StaticSource;
let victim: StaticSource;
before(async () => {
  pki = await makePki();
  attacker = await sourceFor(pki.ca, `spiffe://${TD}/attacker`, pki.bundles);
  victim = await sourceFor(pki.ca, `spiffe://${TD}/victim`, pki.bundles);
});

function inbound(app: Backend, limits: Partial<ProxyLimits>, appProtocol: 'http1' | 'h2c' = 'http1'): Promise<Mesh> {
  return startMesh(pki, cleanup, { appPort: app.port, appProtocol, inbound: { limits: { ...LIMITS, ...limits } } });
}

/** Resolves with `p`, or fails the test after `ms`: a request that hangs is the failure these rows look for. */
/** An mTLS HTTP/1.1 client as `caller` on the inbound's `port`, writing raw bytes; `got()` is everything received so far. */
async function rawH1Client(caller: StaticSource, port: number): Promise<{ socket: tls.TLSSocket; got: () => string }> {
  const socket = tls.connect({ ...clientTls(caller, authorizeAny(), ['http/1.1']), host: '127.0.0.1', port });
  socket.on('error', () => {});
  cleanup.add(() => socket.destroy());
  await once(socket, 'secureConnect');
  let received = '';
  socket.setEncoding('latin1');
  socket.on('data', (d: string) => (received += d));
  return { socket, got: () => received };
}

async function within<T>(p: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what}: no answer within ${ms} ms`)), ms);
  });
  try {
    return await Promise.race([p, timeout]);
  } finally {
    clearTimeout(timer);
  }
}

/** Opens a POST stream whose body never ends; resolves with its response head. */
function endlessUpload(session: http2.ClientHttp2Session): { response: Promise<http2.IncomingHttpHeaders>; stream: http2.ClientHttp2Stream } {
  const stream = session.request({ ':method': 'POST', ':path': '/upload' }, { endStream: false });
  stream.on('error', () => {});
  stream.write('x');
  const response = new Promise<http2.IncomingHttpHeaders>((resolve) => stream.on('response', resolve));
  return { response, stream };
}

function h2Get(session: http2.ClientHttp2Session, path: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = session.request({ ':method': 'GET', ':path': path });
    s.on('response', (h) => resolve(Number(h[':status'])));
    s.on('error', reject);
    s.resume();
  });
}

test('HTTP/2 stream amplification: one caller holds at most its budget of app connections; the rest get 503 retry-after; another caller is served', async () => {
  const app = await startNodeH1(cleanup);
  const m = await inbound(app, { maxConnections: 8, maxConcurrentRequestsPerConnection: 4, maxConcurrentRequestsPerCaller: 6 });
  const sessions = [await mtlsH2Session(m.inboundPort, attacker), await mtlsH2Session(m.inboundPort, attacker)];
  cleanup.add(() => sessions.forEach((s) => s.destroy()));
  const uploads = sessions.flatMap((s) => [0, 1, 2, 3].map(() => endlessUpload(s)));
  await eventually(() => m.inMetrics.overflows.length >= 2 && app.connections() >= 6, 5000, 'six uploads admitted, two refused');
  const answered = await within(Promise.all(uploads.slice(0).map((u) => Promise.race([u.response, new Promise<null>((r) => setTimeout(() => r(null), 300))]))), 5000, 'upload heads');
  const refused = answered.filter((h) => h !== null);
  assert.equal(refused.length, 2, 'two uploads over the caller budget');
  for (const h of refused) {
    assert.equal(h![':status'], 503);
    assert.equal(h!['retry-after'], '1');
  }
  assert.deepEqual(m.inMetrics.overflows, [
    { direction: 'inbound', limit: 'caller' },
    { direction: 'inbound', limit: 'caller' },
  ]);
  assert.equal(app.connections(), 6, 'the app holds no more connections than the caller budget');
  // Another caller still gets an app connection while the attacker holds its budget.
  const other = await mtlsH2Session(m.inboundPort, victim);
  cleanup.add(() => other.destroy());
  assert.equal(await within(h2Get(other, '/ok'), 5000, "another caller's request"), 200);
});

test('HTTP/2: the listener announces SETTINGS_MAX_CONCURRENT_STREAMS = maxConcurrentRequestsPerConnection', async () => {
  const app = await startNodeH1(cleanup);
  const m = await inbound(app, { maxConcurrentRequestsPerConnection: 7 });
  const s = await mtlsH2Session(m.inboundPort, victim);
  cleanup.add(() => s.destroy());
  if (s.remoteSettings.maxConcurrentStreams !== 7) await once(s, 'remoteSettings');
  assert.equal(s.remoteSettings.maxConcurrentStreams, 7);
});

test('HTTP/1.1 pipelining: requests beyond maxConcurrentRequestsPerConnection are answered 503, not sent to the app', async () => {
  const app = await startNodeH1(cleanup);
  const m = await inbound(app, { maxConcurrentRequestsPerConnection: 4 });
  const { socket: s, got } = await rawH1Client(victim, m.inboundPort);
  s.write(Array.from({ length: 6 }, (_, i) => `GET /hold/${i} HTTP/1.1\r\nHost: backend\r\n\r\n`).join(''));
  await eventually(() => m.inMetrics.overflows.length === 2 && app.connections() >= 4, 5000, 'four requests sent to the app, two over the connection budget');
  assert.equal(app.connections(), 4, 'only the requests within the budget reached the app');
  app.release();
  await eventually(() => (got().match(/HTTP\/1\.1 \d+/g) ?? []).length === 6, 5000, 'six responses');
  assert.deepEqual(got().match(/HTTP\/1\.1 \d+/g), ['HTTP/1.1 200', 'HTTP/1.1 200', 'HTTP/1.1 200', 'HTTP/1.1 200', 'HTTP/1.1 503', 'HTTP/1.1 503']);
  assert.deepEqual(m.inMetrics.overflows, [
    { direction: 'inbound', limit: 'connection' },
    { direction: 'inbound', limit: 'connection' },
  ]);
});

const BODY_LIMITS: Partial<ProxyLimits> = { requestBodyIdleTimeoutMs: 400, minUploadBytesPerSecond: 1000 };

for (const backend of ['node http', 'hypercorn'] as const) {
  test(`slow HTTP/1.1 upload (1 byte per 100 ms) to ${backend}: cut off with 408, the app sees it aborted`, async (t) => {
    if (backend === 'hypercorn' && !requireTools(t, [HYPERCORN])) return;
    const app = backend === 'hypercorn' ? await startHypercorn(cleanup) : await startNodeH1(cleanup);
    const m = await inbound(app, BODY_LIMITS);
    const { socket: s, got } = await rawH1Client(attacker, m.inboundPort);
    const closed = once(s, 'close');
    s.write('POST /upload HTTP/1.1\r\nHost: backend\r\nContent-Length: 1000\r\n\r\n');
    const trickle = setInterval(() => s.writable && s.write('x'), 100);
    cleanup.add(() => clearInterval(trickle));
    await within(closed, 6000, 'the slow upload');
    clearInterval(trickle);
    assert.match(got(), /^HTTP\/1\.1 408 /, `got: ${got().split('\r\n')[0]}`);
    assert.match(got(), /connection: close/i);
    assert.deepEqual(m.inMetrics.bodyTimeouts, [{ direction: 'inbound', reason: 'min_rate' }]);
    const seen = await eventuallySeen(app, '/upload');
    assert.equal(seen.complete, false, 'the app never saw a complete request');
  });

  test(`stalled HTTP/2 upload to ${backend === 'node http' ? 'node http2 (h2c)' : 'hypercorn (h2c)'}: reset after requestBodyIdleTimeout, 408, the app sees it aborted`, async (t) => {
    if (backend === 'hypercorn' && !requireTools(t, [HYPERCORN])) return;
    const app = backend === 'hypercorn' ? await startHypercorn(cleanup) : await startNodeH2c(cleanup);
    const m = await inbound(app, BODY_LIMITS, 'h2c');
    const session = await mtlsH2Session(m.inboundPort, attacker);
    cleanup.add(() => session.destroy());
    const { response } = endlessUpload(session);
    const head = await within(response, 6000, 'the stalled upload');
    assert.equal(head[':status'], 408);
    assert.deepEqual(m.inMetrics.bodyTimeouts, [{ direction: 'inbound', reason: 'idle' }]);
    const seen = await eventuallySeen(app, '/upload');
    assert.equal(seen.complete, false, 'the app never saw a complete request');
  });
}

/** The app's record of the (one) request to `path`, once it settled. */
async function eventuallySeen(app: Backend, path: string): Promise<{ complete: boolean }> {
  let found: { complete: boolean } | undefined;
  const deadline = Date.now() + 5000;
  while (found === undefined) {
    found = (await app.seen()).find((s) => s.path === path);
    if (found !== undefined) break;
    if (Date.now() > deadline) throw new Error(`${app.name} never recorded ${path}`);
    await new Promise((r) => setTimeout(r, 20));
  }
  return found;
}

test('rapid reset: streams reset in the same write as their HEADERS never reach the app', async () => {
  const app = await startNodeH1(cleanup);
  const m = await inbound(app, {});
  const s = await rawH2({ ...clientTls(attacker, authorizeAny(), ['h2']), host: '127.0.0.1', port: m.inboundPort });
  cleanup.add(() => s.destroy());
  const frames = [clientPreface()];
  for (let i = 0; i < 50; i++) {
    const id = 1 + 2 * i;
    frames.push(headers(id, request('GET', `/rr/${i}`), true), rstStream(id, CANCEL));
  }
  // One request that is not reset: once the app has it, every earlier dispatch would have arrived too.
  frames.push(headers(101, request('GET', '/after'), true));
  s.write(Buffer.concat(frames));
  await eventuallySeen(app, '/after');
  const reached = (await app.seen()).filter((r) => r.path.startsWith('/rr/')).length;
  assert.equal(reached, 0, `${reached} reset streams were sent to the app`);
  assert.equal(m.inMetrics.resetsBeforeUpstream.inbound, 50);
});
