/**
 * The HTTP/2 upstream (H2Upstream) on real sockets: the response head
 * always reaches the downstream before any of its body, however the
 * upstream's frames are read; the first requests of a new session respect
 * the peer's SETTINGS_MAX_CONCURRENT_STREAMS and wait for its SETTINGS
 * no longer than settingsWaitMs; a credentials change retires the session
 * and a stream the peer refused is sent again when it can be; request
 * trailers are forwarded
 * h2 → h2 without the fields that must never come from a trailer section;
 * and h2load at 32 concurrent streams on one h2c connection through a
 * sidecar pair sees no failed or reset stream.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { once } from 'node:events';
import http2, { type ServerHttp2Stream } from 'node:http2';
import net, { type AddressInfo, type Socket } from 'node:net';
import { duplexPair } from 'node:stream';
import { promisify } from 'node:util';
import { systemClock } from '../../../sidecar/core/index.ts';
import { H2Upstream, HttpFront, LOCAL_APP_CONN, type DialCallback } from '../../../sidecar/forward/index.ts';
import { requireTools } from '../../support/tools.ts';
import { LoopbackDialer } from '../../support/loopback-dialer.ts';
import { startMesh } from './mesh.ts';
import { startRawH2App } from './h2-raw-app.ts';
import { Cleanup, LIMITS, RecordingLogger, RecordingMetrics, eventually, listenH2c, makePki, startH2cApp, timeToHead, type Pki } from '../../support/proxy-fixtures.ts';

const cleanup = new Cleanup();
after(() => cleanup.run());

let pki: Pki;
before(async () => {
  pki = await makePki();
});

/**
 * Dials the app over TCP and hands the session a JavaScript duplex in
 * front of the socket, so node:http2 reads each chunk from JavaScript: the
 * way a TLS socket is read when it decrypts during one of our writes, the
 * case that let DATA overtake its response head. Here it happens on every
 * read, so the order is certain.
 */
class JsStreamDialer extends LoopbackDialer {
  protected override connect(cb: DialCallback): void {
    const socket = net.connect(this.port, '127.0.0.1');
    socket.on('error', () => {});
    cleanup.add(() => socket.destroy());
    socket.once('connect', () => {
      const [inner, outer] = duplexPair();
      socket.pipe(outer).pipe(socket);
      cb(null, inner as unknown as Socket, '');
    });
  }
}

/** A proxy listener (outbound-like; h2c, or HTTP/1.1 with `h1`) whose every request goes to `upstream`. */
async function startFront(upstream: H2Upstream, h1 = false): Promise<{ port: number; metrics: RecordingMetrics }> {
  const metrics = new RecordingMetrics();
  const front = new HttpFront({
    direction: 'outbound',
    limits: LIMITS,
    metrics,
    logger: new RecordingLogger(),
    accessLog: false,
    clock: systemClock,
    route: (ex) => ex.forwardTo(upstream),
  });
  const server = net.createServer((socket) => {
    socket.on('error', () => {});
    if (h1) front.acceptH1(socket, LOCAL_APP_CONN);
    else front.acceptH2(socket, LOCAL_APP_CONN);
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  cleanup.add(() => {
    front.destroy();
    upstream.destroy();
    server.close();
  });
  return { port: (server.address() as AddressInfo).port, metrics };
}

/** `n` concurrent GETs on one h2c session; each settles with its status, body and reset code (0 = none). */
async function concurrentGets(port: number, n: number): Promise<{ status: number; body: string; rst: number }[]> {
  const session = http2.connect(`http://127.0.0.1:${port}`);
  session.on('error', () => {});
  cleanup.add(() => session.destroy());
  const one = (): Promise<{ status: number; body: string; rst: number }> =>
    new Promise((resolve) => {
      const st = session.request({ ':path': '/', ':authority': 'backend' });
      let status = 0;
      let body = '';
      st.setEncoding('utf8');
      st.on('response', (h) => (status = Number(h[':status'])));
      st.on('data', (d: string) => (body += d));
      st.on('error', () => {});
      st.on('close', () => resolve({ status, body, rst: st.rstCode ?? 0 }));
    });
  const all = await Promise.all(Array.from({ length: n }, one));
  session.close();
  return all;
}

const logger = new RecordingLogger();

test('the response head goes downstream before its body when both come in one read', async () => {
  const app = await startRawH2App(cleanup, { body: 'hello' });
  const upstream = new H2Upstream({ dialer: new JsStreamDialer(app.port), scheme: 'http', dst: 'raw-app', maxHeaderBytes: 16_384, logger });
  const { port } = await startFront(upstream);
  const results = await concurrentGets(port, 32);
  assert.deepEqual(
    results.filter((r) => r.status !== 200 || r.body !== 'hello' || r.rst !== 0),
    [],
    'every stream got 200 with its whole body and no reset',
  );
  assert.equal(app.served, 32);
});

test('h2 upstream, HTTP/1.1 client: a response head whose DATA comes later reaches the client at once', async () => {
  const app = http2.createServer();
  app.on('stream', (st: ServerHttp2Stream) => {
    st.respond({ ':status': 200, 'content-type': 'text/plain' });
    const timer = setTimeout(() => st.end('late'), 800);
    st.on('close', () => clearTimeout(timer));
  });
  app.listen(0, '127.0.0.1');
  await once(app, 'listening');
  cleanup.add(() => app.close());
  const upstream = new H2Upstream({ dialer: new JsStreamDialer((app.address() as AddressInfo).port), scheme: 'http', dst: 'app', maxHeaderBytes: 16_384, logger });
  const { port } = await startFront(upstream, true);
  const { got, headAfterMs } = await timeToHead(port, 'GET / HTTP/1.1\r\nHost: app\r\n\r\n');
  assert.match(got, /^HTTP\/1\.1 200 /);
  assert.ok(headAfterMs >= 0 && headAfterMs < 600, `head after ${headAfterMs} ms`);
  assert.match(got, /\r\n\r\n4\r\nlate\r\n0\r\n\r\n$/);
});

test("a new session's first burst stays within the peer's SETTINGS_MAX_CONCURRENT_STREAMS", async () => {
  // The peer sidecar announces 8 streams per connection; 30 requests arrive
  // before the outbound has a session to it. Sent before the peer's
  // SETTINGS (TLS 1.3 lets the client write first), 22 would be refused.
  const app = await startH2cApp(cleanup);
  const m = await startMesh(pki, cleanup, {
    appPort: app.port,
    appProtocol: 'h2c',
    protocol: 'h2',
    inbound: { limits: { ...LIMITS, maxConcurrentRequestsPerConnection: 8 } },
  });
  const results = await concurrentGets(m.outboundPort, 30);
  assert.deepEqual(
    results.map((r) => r.status),
    Array.from({ length: 30 }, () => 200),
  );
});

test('a peer that never sends SETTINGS: the waiting requests fail with 502 once settingsWaitMs is over, not never', { timeout: 10_000 }, async () => {
  const app = await startRawH2App(cleanup, { body: '', silent: true });
  const upstream = new H2Upstream({ dialer: new JsStreamDialer(app.port), scheme: 'http', dst: 'raw-app', maxHeaderBytes: 16_384, logger, settingsWaitMs: 200 });
  const { port } = await startFront(upstream);
  const results = await concurrentGets(port, 3);
  assert.deepEqual(
    results.map((r) => r.status),
    [502, 502, 502],
  );
  await eventually(() => upstream.sessions === 0, 5000, 'the session to close');
});

/** One request on `session`; settles with its status. */
function request(session: http2.ClientHttp2Session, headers: Record<string, string>, body: string | null): Promise<number> {
  return new Promise((resolve) => {
    const st = session.request({ ':path': '/', ':authority': 'backend', ...headers }, { endStream: body === null });
    let status = 0;
    st.on('response', (h) => (status = Number(h[':status'])));
    st.on('error', () => {});
    st.resume();
    st.on('close', () => resolve(status));
    if (body !== null) st.end(body);
  });
}

test('a credentials change retires the live session: the next request dials anew, the old session closes', async () => {
  const app = await startH2cApp(cleanup);
  const dialer = new JsStreamDialer(app.port);
  const upstream = new H2Upstream({ dialer, scheme: 'http', dst: 'app', maxHeaderBytes: 16_384, logger });
  assert.equal(dialer.listeners.length, 1, 'one subscription per upstream');
  const { port } = await startFront(upstream);
  const session = http2.connect(`http://127.0.0.1:${port}`);
  session.on('error', () => {});
  cleanup.add(() => session.destroy());
  assert.equal(await request(session, {}, null), 200);
  assert.equal(await request(session, {}, null), 200);
  assert.equal(dialer.dials, 1, 'one session carried both');
  dialer.changed();
  assert.equal(await request(session, {}, null), 200);
  assert.equal(dialer.dials, 2, 'the request after the change went to a new session');
  await eventually(() => upstream.sessions === 1, 5000, 'the retired session to close');
});

test('a stream the peer refused (RFC 9113 §8.7) is sent again once when it has no body; one with a body is a 502', async (t) => {
  // Refuses the first stream of each x-id, answers the second.
  const attempts = new Map<string, number>();
  const app = http2.createServer();
  app.on('stream', (stream, headers) => {
    stream.on('error', () => {});
    const id = String(headers['x-id']);
    const n = (attempts.get(id) ?? 0) + 1;
    attempts.set(id, n);
    if (n === 1) {
      stream.close(http2.constants.NGHTTP2_REFUSED_STREAM);
      return;
    }
    stream.resume();
    stream.respond({ ':status': 200 });
    stream.end('ok');
  });
  app.listen(0, '127.0.0.1');
  await once(app, 'listening');
  cleanup.add(() => app.close());
  const upstream = new H2Upstream({ dialer: new JsStreamDialer((app.address() as AddressInfo).port), scheme: 'http', dst: 'app', maxHeaderBytes: 16_384, logger });
  const { port } = await startFront(upstream);
  const session = http2.connect(`http://127.0.0.1:${port}`);
  session.on('error', () => {});
  cleanup.add(() => session.destroy());
  const rows = [
    { id: 'get', method: 'GET', body: null, status: 200, attempts: 2, why: 'an idempotent request is resent' },
    { id: 'post-empty', method: 'POST', body: null, status: 200, attempts: 2, why: 'a refused stream was not processed: any method is resent' },
    { id: 'post-body', method: 'POST', body: 'payload', status: 502, attempts: 1, why: 'a streamed body cannot be sent twice' },
  ];
  for (const row of rows) {
    await t.test(row.why, async () => {
      assert.equal(await request(session, { ':method': row.method, 'x-id': row.id }, row.body), row.status);
      assert.equal(attempts.get(row.id), row.attempts);
    });
  }
});

/** An h2c app that records the trailers of each request and answers 200. */
async function startTrailerApp(): Promise<{ port: number; seen: Record<string, string | string[] | undefined>[] }> {
  const seen: Record<string, string | string[] | undefined>[] = [];
  const server = http2.createServer();
  server.on('stream', (stream: ServerHttp2Stream) => {
    stream.on('error', () => {});
    let trailers: Record<string, string | string[] | undefined> = {};
    stream.on('trailers', (t: Record<string, string | string[] | undefined>) => (trailers = { ...t }));
    stream.resume();
    stream.on('end', () => {
      seen.push(trailers);
      stream.respond({ ':status': 200 });
      stream.end('ok');
    });
  });
  return { port: await listenH2c(server, cleanup), seen };
}

/** POSTs `body` over `session`, then sends `trailers` once node asks for them. */
function postWithTrailers(session: http2.ClientHttp2Session, body: string, trailers: Record<string, string> | null): Promise<number> {
  return new Promise((resolve, reject) => {
    const st = session.request({ ':method': 'POST', ':path': '/upload', ':authority': 'backend' }, { waitForTrailers: trailers !== null });
    let status = 0;
    st.on('response', (h) => (status = Number(h[':status'])));
    if (trailers !== null) st.on('wantTrailers', () => st.sendTrailers(trailers));
    st.on('error', reject);
    st.resume();
    st.on('close', () => resolve(status));
    st.end(body);
  });
}

test('request trailers: forwarded h2 → h2 through a sidecar pair, minus the fields a trailer section must not carry', async (t) => {
  const app = await startTrailerApp();
  const m = await startMesh(pki, cleanup, { appPort: app.port, appProtocol: 'h2c', protocol: 'h2' });
  const session = http2.connect(`http://127.0.0.1:${m.outboundPort}`);
  session.on('error', () => {});
  cleanup.add(() => session.destroy());

  // One row per rule: the field and whether the app must see it.
  const rows: { name: string; value: string; forwarded: boolean; why: string }[] = [
    { name: 'x-checksum', value: 'sha-256=abc', forwarded: true, why: 'an ordinary trailer field goes through' },
    { name: 'authorization', value: 'Bearer app-token', forwarded: false, why: 'credentials only in the head (token modes apply there)' },
    { name: 'cookie', value: 'session=1', forwarded: false, why: 'credentials only in the head' },
    { name: 'x-client-spiffe-id', value: 'spiffe://example.org/forged', forwarded: false, why: 'identity headers are set by the sidecar, never by a trailer' },
    { name: 'x-forwarded-client-cert', value: 'By=spiffe://example.org/forged', forwarded: false, why: 'identity headers are set by the sidecar, never by a trailer' },
    { name: 'x-forwarded-for', value: '10.0.0.1', forwarded: false, why: 'proxy-set fields' },
    { name: 'x-auth-subject', value: 'admin', forwarded: false, why: 'end-user identity headers are set by the sidecar' },
    { name: 'content-type', value: 'text/plain', forwarded: false, why: 'content metadata belongs in the head (RFC 9110 §6.5.1)' },
    { name: 'x-http-method-override', value: 'DELETE', forwarded: false, why: "the inbound listener's stripped request headers" },
  ];
  for (const row of rows) {
    await t.test(`${row.name}: ${row.why}`, async () => {
      const before = app.seen.length;
      const status = await postWithTrailers(session, 'payload', { [row.name]: row.value, 'x-row': row.name });
      assert.equal(status, 200);
      const got = app.seen[before]!;
      assert.equal(got['x-row'], row.name, 'the trailer section reached the app');
      assert.equal(got[row.name], row.forwarded ? row.value : undefined);
    });
  }

  await t.test('a request without trailers gets none upstream', async () => {
    const before = app.seen.length;
    assert.equal(await postWithTrailers(session, 'payload', null), 200);
    assert.deepEqual(Object.keys(app.seen[before]!), []);
  });
});

test('h2load -c1 -m32: 2000 requests on one h2c connection through a sidecar pair, none failed or reset', async (t) => {
  if (!requireTools(t, ['h2load'])) return;
  const app = http2.createServer();
  app.on('stream', (stream) => {
    stream.on('error', () => {});
    stream.respond({ ':status': 200, 'content-type': 'text/plain' });
    stream.end('x'.repeat(64));
  });
  app.listen(0, '127.0.0.1');
  await once(app, 'listening');
  cleanup.add(() => app.close());
  const appPort = (app.address() as AddressInfo).port;
  const m = await startMesh(pki, cleanup, { appPort, appProtocol: 'h2c', protocol: 'h2', host: '127.0.0.1' });
  const { stdout } = await promisify(execFile)('h2load', ['-c1', '-m32', '-n2000', `http://127.0.0.1:${m.outboundPort}/`], { timeout: 120_000 });
  const counts = /requests: (\d+) total, \d+ started, (\d+) done, (\d+) succeeded, (\d+) failed, (\d+) errored/.exec(stdout);
  assert.ok(counts, `h2load printed no request counts:\n${stdout}`);
  assert.deepEqual(
    { done: Number(counts[2]), succeeded: Number(counts[3]), failed: Number(counts[4]), errored: Number(counts[5]) },
    { done: 2000, succeeded: 2000, failed: 0, errored: 0 },
  );
});
