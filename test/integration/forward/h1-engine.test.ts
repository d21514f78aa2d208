/**
 * The raw-socket HTTP/1.1 engine end to end on 127.0.0.1: a client writes
 * bytes to an HttpFront (H1Downstream), which forwards through an H1Pool to
 * an app that is itself a raw TCP server, so both hops' framing is checked
 * byte for byte. One test per behaviour: pipelined responses in order,
 * chunked trailers relayed, HTTP/1.0 close-delimited answers, 100-continue,
 * a reused connection the app closed is retried, smuggling heads refused on
 * both hops, and the Keep-Alive hint honoured.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { once } from 'node:events';
import net, { type AddressInfo } from 'node:net';
import { silentLogger, systemClock } from '../../../sidecar/core/index.ts';
import { H1Pool, HttpFront, LOCAL_APP_CONN, TcpDialer, type Exchange } from '../../../sidecar/forward/index.ts';
import { SidecarMetrics } from '../../../sidecar/metrics/index.ts';
import { timeToHead } from '../../support/proxy-fixtures.ts';

const LIMITS = { maxHeaderBytes: 8192, maxConnections: 8, idleTimeoutMs: 5000, requestTimeoutMs: 3000, headersTimeoutMs: 3000, connectTimeoutMs: 2000 };

/** What the raw app does with each request head it reads (by path). */
type AppAnswer = (path: string, socket: net.Socket, head: string) => void;

let answer: AppAnswer = () => {};
/** Request heads the app received, in order. */
let seen: string[] = [];
/** Connections the app accepted. */
let appConnections = 0;
let app: net.Server;
let listener: net.Server;
let front: HttpFront;
let pool: H1Pool;
let port = 0;

before(async () => {
  app = net.createServer((s) => {
    appConnections++;
    s.on('error', () => {});
    let buf = '';
    s.setEncoding('latin1');
    s.on('data', (d: string) => {
      buf += d;
      for (;;) {
        const end = buf.indexOf('\r\n\r\n');
        if (end === -1) return;
        const head = buf.slice(0, end + 4);
        buf = buf.slice(end + 4);
        const m = /content-length: (\d+)/i.exec(head);
        // Bodies in these tests are small and arrive with their head.
        if (m) buf = buf.slice(Number(m[1]));
        if (/transfer-encoding: chunked/i.test(head)) buf = buf.slice(buf.indexOf('0\r\n\r\n') + 5);
        seen.push(head);
        answer(head.split(' ')[1]!, s, head);
      }
    });
  });
  app.listen(0, '127.0.0.1');
  await once(app, 'listening');
  const appPort = (app.address() as AddressInfo).port;
  pool = new H1Pool({ dialer: new TcpDialer({ host: '127.0.0.1', port: appPort }, 2000), dst: 'app', maxConnections: 4, idleTimeoutMs: 5000, requestTimeoutMs: 3000, maxHeaderBytes: 8192 });
  const route = (ex: Exchange): void => ex.forwardTo(pool);
  front = new HttpFront({ direction: 'outbound', limits: LIMITS, metrics: new SidecarMetrics(), logger: silentLogger, accessLog: false, clock: systemClock, route });
  listener = net.createServer((s) => {
    s.on('error', () => {});
    front.acceptH1(s, LOCAL_APP_CONN);
  });
  listener.listen(0, '127.0.0.1');
  await once(listener, 'listening');
  port = (listener.address() as AddressInfo).port;
});

after(async () => {
  front?.destroy();
  pool?.destroy();
  listener?.close();
  app?.close();
});

/** Writes `bytes` on a new connection and collects everything until the proxy closes it (or `until` matches). */
async function exchange(bytes: string | string[], until?: RegExp): Promise<string> {
  const s = net.connect(port, '127.0.0.1');
  s.on('error', () => {});
  await once(s, 'connect');
  let got = '';
  s.setEncoding('latin1');
  const done = new Promise<void>((resolve) => {
    s.on('data', (d: string) => {
      got += d;
      if (until !== undefined && until.test(got)) resolve();
    });
    s.on('close', () => resolve());
  });
  for (const b of Array.isArray(bytes) ? bytes : [bytes]) {
    s.write(b, 'latin1');
    await new Promise((r) => setTimeout(r, 30));
  }
  const timer = setTimeout(() => s.destroy(), 4000);
  await done;
  clearTimeout(timer);
  s.destroy();
  return got;
}

function reply(s: net.Socket, body: string, extra = ''): void {
  s.write(`HTTP/1.1 200 OK\r\ncontent-length: ${body.length}\r\n${extra}\r\n${body}`, 'latin1');
}

test('pipelined requests: both go upstream, the responses come back in request order', async () => {
  seen = [];
  answer = (path, s) => {
    // The first answer is late, the second at once: the proxy must hold the second.
    if (path === '/slow') setTimeout(() => reply(s, 'slow'), 200);
    else reply(s, 'fast');
  };
  const got = await exchange('GET /slow HTTP/1.1\r\nHost: a\r\n\r\nGET /fast HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n');
  const bodies = got.split('\r\n\r\n').slice(1).map((b) => b.slice(0, 4));
  assert.deepEqual(bodies, ['slow', 'fast'], got);
  assert.equal(seen.length, 2);
});

test('a chunked response keeps its chunks and trailers; an HTTP/1.0 client gets a close-delimited body', async () => {
  answer = (_p, s) => s.write('HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\nTrailer: x-sum\r\n\r\n3\r\nabc\r\n0\r\nx-sum: 42\r\n\r\n', 'latin1');
  const h11 = await exchange('GET / HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n');
  assert.match(h11, /transfer-encoding: chunked\r\n/i);
  assert.match(h11, /\r\n\r\n3\r\nabc\r\n0\r\nx-sum: 42\r\n\r\n$/);
  const h10 = await exchange('GET / HTTP/1.0\r\n\r\n');
  assert.match(h10, /^HTTP\/1\.1 200 /);
  assert.doesNotMatch(h10, /transfer-encoding/i);
  assert.match(h10, /connection: close\r\n/i);
  assert.ok(h10.endsWith('\r\n\r\nabc'), h10);
});

test('Expect: 100-continue: the client gets 100 Continue, the app gets no Expect and the whole body', async () => {
  seen = [];
  answer = (_p, s) => reply(s, 'ok');
  const got = await exchange(['POST /up HTTP/1.1\r\nHost: a\r\nExpect: 100-continue\r\nContent-Length: 5\r\nConnection: close\r\n\r\n', 'hello'], /ok$/);
  assert.match(got, /^HTTP\/1\.1 100 Continue\r\n\r\nHTTP\/1\.1 200 OK\r\n/);
  assert.equal(seen.length, 1);
  assert.doesNotMatch(seen[0]!, /expect/i);
  assert.match(seen[0]!, /content-length: 5/i);
});

test('a kept-alive app connection that breaks before answering: an idempotent request is sent again on a new one', async () => {
  const served = new WeakMap<net.Socket, number>();
  answer = (path, s) => {
    const n = (served.get(s) ?? 0) + 1;
    served.set(s, n);
    // A request after the first on a connection finds it closed, as at the app's keep-alive timeout.
    if (n >= 2 && path !== '/one') s.destroy();
    else reply(s, 'ok');
  };
  seen = [];
  assert.match(await exchange('GET /one HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n'), /^HTTP\/1\.1 200 /);
  assert.match(await exchange('GET /two HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n'), /^HTTP\/1\.1 200 /, 'retried');
  assert.equal(seen.filter((h) => h.startsWith('GET /two ')).length, 2, 'sent twice: on the reused connection, then on a new one');
  // A request with a body is not resent: the app may have acted on it.
  assert.match(await exchange('POST /three HTTP/1.1\r\nHost: a\r\nContent-Length: 1\r\nConnection: close\r\n\r\nx'), /^HTTP\/1\.1 502 /);
});

test('smuggling heads are refused on the way in (400, closed) and never reach the app', async () => {
  seen = [];
  answer = (_p, s) => reply(s, 'no');
  for (const head of [
    'POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 3\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n',
    'POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 3\r\nContent-Length: 4\r\n\r\nabcd',
    'GET / HTTP/1.1\r\nHost: a\r\nX: a\r\n b\r\n\r\n',
    'GET / HTTP/1.1\nHost: a\n\n',
  ]) {
    const got = await exchange(head);
    assert.match(got, /^HTTP\/1\.1 400 /, JSON.stringify(head));
  }
  assert.equal(seen.length, 0);
});

test('a response with both Content-Length and Transfer-Encoding is a 502, not relayed', async () => {
  answer = (_p, s) => s.write('HTTP/1.1 200 OK\r\nContent-Length: 3\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n', 'latin1');
  const got = await exchange('GET / HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n');
  assert.match(got, /^HTTP\/1\.1 502 /);
  assert.match(got, /invalid HTTP\/1\.1 response/);
});

test("the app's Keep-Alive hint is honoured: a connection past it is not reused", async () => {
  answer = (_p, s) => reply(s, 'k', 'keep-alive: timeout=1\r\n');
  const before = appConnections;
  for (let i = 0; i < 3; i++) assert.match(await exchange('GET /ka HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n'), /^HTTP\/1\.1 200 /);
  // timeout=1 leaves no time after the one-second margin: every request gets a connection of its own.
  assert.equal(appConnections - before, 3);
});

test('a response head whose body comes later is relayed at once, not held for the body', async () => {
  answer = (_p, s) => {
    s.write('HTTP/1.1 200 OK\r\ntransfer-encoding: chunked\r\n\r\n', 'latin1');
    setTimeout(() => s.write('4\r\nlate\r\n0\r\n\r\n', 'latin1'), 800);
  };
  const { got, headAfterMs } = await timeToHead(port, 'GET /stream HTTP/1.1\r\nHost: a\r\n\r\n');
  assert.match(got, /^HTTP\/1\.1 200 /);
  assert.ok(headAfterMs >= 0 && headAfterMs < 600, `head after ${headAfterMs} ms`);
  assert.match(got, /\r\n\r\n4\r\nlate\r\n0\r\n\r\n$/);
});

test('responses without a body (204, 304, HEAD, Content-Length: 0) still leave whole, kept-alive ones in order', async () => {
  answer = (path, s) => {
    if (path === '/204') s.write('HTTP/1.1 204 No Content\r\n\r\n', 'latin1');
    else if (path === '/304') s.write('HTTP/1.1 304 Not Modified\r\netag: "x"\r\n\r\n', 'latin1');
    else if (path === '/empty') reply(s, '');
    else s.write('HTTP/1.1 200 OK\r\ncontent-length: 5\r\n\r\n', 'latin1');
  };
  const got = await exchange(
    'GET /204 HTTP/1.1\r\nHost: a\r\n\r\nGET /304 HTTP/1.1\r\nHost: a\r\n\r\nGET /empty HTTP/1.1\r\nHost: a\r\n\r\nHEAD /head HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n',
  );
  const statuses = [...got.matchAll(/^HTTP\/1\.1 (\d{3}) /gm)].map((m) => m[1]);
  assert.deepEqual(statuses, ['204', '304', '200', '200'], got);
  assert.match(got, /content-length: 5\r\n/i);
});

test('a small response leaves as one write: head and body in one TCP segment', async () => {
  answer = (_p, s) => reply(s, 'x'.repeat(64));
  const s = net.connect(port, '127.0.0.1');
  s.on('error', () => {});
  await once(s, 'connect');
  const reads: number[] = [];
  let total = '';
  s.setEncoding('latin1');
  const done = new Promise<void>((resolve) => {
    s.on('data', (d: string) => {
      reads.push(d.length);
      total += d;
      if (total.endsWith('x'.repeat(64))) resolve();
    });
  });
  s.write('GET /small HTTP/1.1\r\nHost: a\r\n\r\n', 'latin1');
  await done;
  s.destroy();
  // Loopback delivers each write as its own read when the reader is idle; a head written apart from its body would come as two.
  assert.deepEqual(reads, [total.length], `reads: ${reads.join(', ')}`);
});
