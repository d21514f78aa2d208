/**
 * The outbound HTTP proxy end to end: caller app → outbound → mTLS →
 * inbound → backend app, on loopback with real certificates. Routing,
 * refusals (never an open proxy), identity checks of the server, header
 * hygiene in both directions, protocol translation, and failure statuses.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import http from 'node:http';
import http2 from 'node:http2';
import net from 'node:net';
import { once } from 'node:events';
import { matchMemberOf } from '../../../sidecar/spiffe/index.ts';
import { Cleanup, TD, deadPort, eventually, h1Request, h2Request, makePki, sourceFor, startH1App, startH2cApp, LIMITS, type Pki } from '../../support/proxy-fixtures.ts';
import { BACKEND_ID, FRONTEND_ID, startMesh } from '../forward/mesh.ts';

const cleanup = new Cleanup();
after(() => cleanup.run());

let pki: Pki;
before(async () => {
  pki = await makePki();
});

async function h2c(port: number): Promise<http2.ClientHttp2Session> {
  const s = http2.connect(`http://127.0.0.1:${port}`);
  s.on('error', () => {});
  cleanup.add(() => s.destroy());
  await once(s, 'connect');
  return s;
}

test('routing and refusals: Host routes to the upstream; the app sees the caller identity the inbound set, never the forged one', async () => {
  const app = await startH1App(cleanup);
  const m = await startMesh(pki, cleanup, { appPort: app.port });
  const r = await h1Request(m.outboundPort, {
    path: '/api?q=1',
    headers: { host: 'backend:8080', 'x-client-spiffe-id': 'spiffe://example.org/admin', 'x-forwarded-client-cert': 'URI=spiffe://example.org/admin' },
  });
  assert.equal(r.status, 200, r.body);
  const seen = app.seen.at(-1)!;
  assert.equal(seen.url, '/api?q=1');
  assert.equal(seen.headers['host'], 'backend:8080', 'Host preserved end to end');
  assert.equal(seen.headers['x-client-spiffe-id'], FRONTEND_ID);
  const hash = createHash('sha256').update(m.frontend.getX509Svid().certificates[0]!.der).digest('hex');
  assert.equal(seen.headers['x-forwarded-client-cert'], `By=${BACKEND_ID};Hash=${hash};URI=${FRONTEND_ID}`);
  // Metrics label the outbound request with the server ID it verified.
  assert.equal(m.outMetrics.requests.at(-1)?.peerId, BACKEND_ID);
  assert.equal(m.outMetrics.requests.at(-1)?.code, 200);
});

test('routing and refusals: identity headers the app sends are stripped before they leave (seen at the inbound side of the wire)', async () => {
  // A raw TLS-terminating inbound that records the request bytes: the
  // inbound proxy would overwrite the headers, so look before it does.
  const app = await startH1App(cleanup);
  const m = await startMesh(pki, cleanup, { appPort: app.port, inbound: { headers: new (await import('../../../sidecar/headers/index.ts')).IdentityHeaders({ spiffeIdHeader: 'x-other-id', xfccHeader: 'x-other-xfcc' }) } });
  await h1Request(m.outboundPort, { headers: { host: 'backend', 'x-client-spiffe-id': 'forged', 'x-forwarded-client-cert': 'forged', 'X_Client_Spiffe_Id': 'forged' } });
  const seen = app.seen.at(-1)!;
  // The inbound uses other names here, so anything under the default names came through the outbound.
  assert.equal(seen.headers['x-client-spiffe-id'], undefined);
  assert.equal(seen.headers['x-forwarded-client-cert'], undefined);
  assert.ok(!seen.rawHeaders.some((h) => h === 'forged'));
  assert.equal(seen.headers['x-other-id'], FRONTEND_ID);
});

test('routing and refusals: host matching: without port, exact host:port, case-insensitive; unknown host → 404 naming it', async () => {
  const app = await startH1App(cleanup);
  const m = await startMesh(pki, cleanup, { appPort: app.port, host: 'api.internal:9000' });
  assert.equal((await h1Request(m.outboundPort, { headers: { host: 'API.internal:9000' } })).status, 200);
  const wrongPort = await h1Request(m.outboundPort, { headers: { host: 'api.internal:9001' } });
  assert.equal(wrongPort.status, 404);
  const unknown = await h1Request(m.outboundPort, { headers: { host: 'evil.example.com' } });
  assert.equal(unknown.status, 404);
  assert.equal(unknown.body.trim(), 'host "evil.example.com": not a configured upstream of this sidecar');
  assert.equal(app.seen.length, 1);
});

test('routing and refusals: absolute-form targets are refused (no open proxy)', async () => {
  const app = await startH1App(cleanup);
  const m = await startMesh(pki, cleanup, { appPort: app.port });
  const r = await h1Request(m.outboundPort, { path: 'http://backend/', headers: { host: 'backend' } });
  assert.equal(r.status, 400);
  assert.match(r.body, /not a forward proxy/);
  assert.equal(app.seen.length, 0);
});

test('routing and refusals: CONNECT is refused over HTTP/1.1 and HTTP/2', async () => {
  const app = await startH1App(cleanup);
  const m = await startMesh(pki, cleanup, { appPort: app.port });
  const status = await new Promise<number>((resolve, reject) => {
    const req = http.request({ host: '127.0.0.1', port: m.outboundPort, method: 'CONNECT', path: 'backend:443', agent: false });
    req.on('connect', (res, socket) => {
      socket.destroy();
      resolve(res.statusCode!);
    });
    req.on('response', (res) => resolve(res.statusCode!));
    req.on('error', reject);
    req.end();
  });
  assert.equal(status, 405);
  const s = await h2c(m.outboundPort);
  const r = await h2Request(s, { ':method': 'CONNECT', ':authority': 'backend:443' });
  assert.equal(r.status, 405);
  assert.equal(app.seen.length, 0);
});

/** A relay that dribbles the client's first bytes to `port` one at a time, to split the HTTP/2 preface. */
async function dribbleRelay(port: number): Promise<number> {
  const relay = net.createServer((client) => {
    client.on('error', () => {});
    const up = net.connect({ port, host: '127.0.0.1', noDelay: true });
    up.on('error', () => client.destroy());
    let first = true;
    client.on('data', (d: Buffer) => {
      if (!first) return void up.write(d);
      first = false;
      client.pause();
      let i = 0;
      const step = (): void => {
        if (i < Math.min(d.length, 30)) {
          up.write(d.subarray(i, i + 1));
          i++;
          setTimeout(step, 2);
          return;
        }
        up.write(d.subarray(i));
        client.resume();
      };
      step();
    });
    up.pipe(client);
    client.on('close', () => up.destroy());
  });
  relay.listen(0, '127.0.0.1');
  await once(relay, 'listening');
  cleanup.add(() => relay.close());
  return (relay.address() as net.AddressInfo).port;
}

test('protocol detection on the plaintext listener: HTTP/1.1 and h2c are told apart even when the first bytes arrive one by one', async () => {
  const app = await startH1App(cleanup);
  const m = await startMesh(pki, cleanup, { appPort: app.port });
  const port = await dribbleRelay(m.outboundPort);
  assert.equal((await h1Request(port, { headers: { host: 'backend' } })).status, 200);
  assert.equal((await h1Request(port, { method: 'PROPFIND', headers: { host: 'backend' } })).status, 200, 'a method starting like the preface is still HTTP/1.1');
  const s = await h2c(port);
  assert.equal((await h2Request(s, { ':path': '/', ':authority': 'backend' })).status, 200);
  assert.deepEqual(app.seen.map((r) => r.httpVersion), ['1.1', '1.1', '1.1']);
});

test('server identity and failures: server presenting another ID → 502 naming expected and presented IDs', async () => {
  const app = await startH1App(cleanup);
  const intruder = await sourceFor(pki.ca, `spiffe://${TD}/intruder`, pki.bundles);
  const m = await startMesh(pki, cleanup, { appPort: app.port, backend: intruder });
  const r = await h1Request(m.outboundPort, { headers: { host: 'backend' } });
  assert.equal(r.status, 502);
  assert.equal(r.body.trim(), 'upstream identity mismatch: expected spiffe://example.org/backend, presented spiffe://example.org/intruder');
  assert.equal(app.seen.length, 0);
  const warn = m.outLogger.lines.find((l) => l.level === 'warn' && l.obj['reason'] === 'identity_mismatch');
  assert.ok(warn, 'logged at warn');
  assert.deepEqual(m.outMetrics.handshakeErrors, [{ direction: 'outbound', reason: 'not_authorized' }]);
});

test('server identity and failures: server from an untrusted trust domain → 502 (TLS verification)', async () => {
  const app = await startH1App(cleanup);
  const foreign = await sourceFor(pki.other, 'spiffe://other.org/backend', pki.federated);
  const m = await startMesh(pki, cleanup, { appPort: app.port, backend: foreign, upstream: { server: matchMemberOf('other.org') } });
  const r = await h1Request(m.outboundPort, { headers: { host: 'backend' } });
  assert.equal(r.status, 502);
  assert.match(r.body, /upstream TLS/);
});

test('server identity and failures: peer unreachable → 503', async () => {
  const port0 = await deadPort();
  const app = await startH1App(cleanup);
  const m = await startMesh(pki, cleanup, { appPort: app.port, upstream: { address: { host: '127.0.0.1', port: port0 } } });
  const r = await h1Request(m.outboundPort, { headers: { host: 'backend' } });
  assert.equal(r.status, 503);
  assert.equal(r.body.trim(), `upstream connect error: ECONNREFUSED 127.0.0.1:${port0}`);
  const s = await h2c(m.outboundPort);
  assert.equal((await h2Request(s, { ':path': '/', ':authority': 'backend' })).status, 503);
});

test('server identity and failures: peer too slow → 504 (requestTimeout), HTTP/1.1 and HTTP/2', async () => {
  const app = await startH1App(cleanup, () => {
    /* never answers */
  });
  const m = await startMesh(pki, cleanup, { appPort: app.port, outbound: { limits: { ...LIMITS, requestTimeoutMs: 300 } } });
  assert.equal((await h1Request(m.outboundPort, { headers: { host: 'backend' } })).status, 504);
  const s = await h2c(m.outboundPort);
  assert.equal((await h2Request(s, { ':path': '/', ':authority': 'backend' })).status, 504);
});

test('server identity and failures: our SVID refused by the peer (peer does not trust our trust domain) → 502', async () => {
  const app = await startH1App(cleanup);
  const stranger = await sourceFor(pki.other, 'spiffe://other.org/frontend', pki.federated);
  const m = await startMesh(pki, cleanup, { appPort: app.port, frontend: stranger });
  const r = await h1Request(m.outboundPort, { headers: { host: 'backend' } });
  assert.equal(r.status, 502);
  assert.equal(app.seen.length, 0);
});

const cases: { name: string; client: 'h1' | 'h2c'; protocol: 'http1' | 'h2'; app: 'http1' | 'h2c' }[] = [
  { name: 'h1 → http1 link → h1 app', client: 'h1', protocol: 'http1', app: 'http1' },
  { name: 'h1 → h2 link → h1 app', client: 'h1', protocol: 'h2', app: 'http1' },
  { name: 'h1 → h2 link → h2c app', client: 'h1', protocol: 'h2', app: 'h2c' },
  { name: 'h2c → (h2 kept) → h1 app', client: 'h2c', protocol: 'http1', app: 'http1' },
  { name: 'h2c → h2 link → h2c app', client: 'h2c', protocol: 'h2', app: 'h2c' },
  { name: 'h1 → http1 link → h2c app', client: 'h1', protocol: 'http1', app: 'h2c' },
];
for (const c of cases) {
  test(`protocols in each position: ${c.name}`, async () => {
    const app = c.app === 'h2c' ? await startH2cApp(cleanup) : await startH1App(cleanup);
    const m = await startMesh(pki, cleanup, { appPort: app.port, appProtocol: c.app, protocol: c.protocol });
    const body = 'b'.repeat(70_000);
    const r =
      c.client === 'h1'
        ? await h1Request(m.outboundPort, { method: 'POST', path: '/p?x=1', headers: { host: 'backend', 'content-type': 'text/plain', 'x-client-spiffe-id': 'forged' }, body })
        : await h2Request(await h2c(m.outboundPort), { ':method': 'POST', ':path': '/p?x=1', ':authority': 'backend', 'content-type': 'text/plain', 'x-client-spiffe-id': 'forged' }, body);
    assert.equal(r.status, 200, r.body);
    const seen = app.seen.at(-1)!;
    assert.equal(seen.url, '/p?x=1');
    assert.equal(seen.body, body);
    assert.equal(seen.httpVersion, c.app === 'h2c' ? '2.0' : '1.1');
    const host = c.app === 'h2c' ? seen.headers[':authority'] : seen.headers['host'];
    assert.equal(host, 'backend');
    assert.equal(seen.headers['x-client-spiffe-id'], FRONTEND_ID);
    assert.equal(m.outMetrics.requests.at(-1)?.peerId, BACKEND_ID);
  });
}

// HEAD, 204 and 304 end without a body; every hop must end them cleanly.
for (const protocol of ['http1', 'h2'] as const) {
  for (const client of ['h1', 'h2c'] as const) {
    test(`bodiless responses: HEAD, 204 and 304 (${client} client, ${protocol} link)`, async () => {
      const app = await startH1App(cleanup, (req, res) => {
        if (req.url === '/204') res.writeHead(204).end();
        else if (req.url === '/304') res.writeHead(304, { etag: '"x"' }).end();
        else res.writeHead(200, { 'content-type': 'text/plain', 'content-length': '5' }).end(req.method === 'HEAD' ? undefined : 'hello');
      });
      const m = await startMesh(pki, cleanup, { appPort: app.port, protocol });
      const s = client === 'h2c' ? await h2c(m.outboundPort) : undefined;
      const ask = (method: string, path: string) =>
        s ? h2Request(s, { ':method': method, ':path': path, ':authority': 'backend' }) : h1Request(m.outboundPort, { method, path, headers: { host: 'backend' } });
      const head = await ask('HEAD', '/');
      assert.equal(head.status, 200);
      assert.equal(head.body, '');
      assert.equal(head.headers['content-length'], '5');
      assert.equal((await ask('GET', '/204')).status, 204);
      const r304 = await ask('GET', '/304');
      assert.equal(r304.status, 304);
      assert.equal(r304.headers['etag'], '"x"');
      assert.equal((await ask('GET', '/')).body, 'hello');
    });
  }
}

test('connections and streaming: HTTP/1.1 keep-alive pool: sequential requests reuse one mTLS connection', async () => {
  const app = await startH1App(cleanup);
  const m = await startMesh(pki, cleanup, { appPort: app.port });
  const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
  cleanup.add(() => agent.destroy());
  for (let i = 0; i < 20; i++) assert.equal((await h1Request(m.outboundPort, { headers: { host: 'backend' }, agent })).status, 200);
  assert.equal(m.outMetrics.opened.outbound, 1, 'one TLS connection between the sidecars');
  assert.equal(m.inMetrics.opened.inbound, 1);
});

test('connections and streaming: HTTP/2 link: concurrent requests share one session', async () => {
  const app = await startH1App(cleanup);
  const m = await startMesh(pki, cleanup, { appPort: app.port, protocol: 'h2' });
  const rs = await Promise.all(Array.from({ length: 20 }, () => h1Request(m.outboundPort, { headers: { host: 'backend' } })));
  assert.ok(rs.every((r) => r.status === 200));
  assert.equal(m.outMetrics.opened.outbound, 1, 'one multiplexed session');
});

test('connections and streaming: HTTP/2 link: a session the peer closed (idle timeout, GOAWAY) is replaced on the next request', async () => {
  const app = await startH1App(cleanup);
  const m = await startMesh(pki, cleanup, { appPort: app.port, protocol: 'h2', inbound: { limits: { ...LIMITS, idleTimeoutMs: 150 } } });
  assert.equal((await h1Request(m.outboundPort, { headers: { host: 'backend' } })).status, 200);
  await eventually(() => m.outMetrics.open.outbound === 0, 5000, 'peer closed the idle session');
  assert.equal((await h1Request(m.outboundPort, { headers: { host: 'backend' } })).status, 200);
  assert.equal(m.outMetrics.opened.outbound, 2);
});

test('connections and streaming: response bodies stream: the client gets the first chunk before the app finishes', async () => {
  let release!: () => void;
  const released = new Promise<void>((r) => (release = r));
  const app = await startH1App(cleanup, (_req, res) => {
    res.writeHead(200, { 'content-type': 'text/plain' });
    res.write('first;');
    void released.then(() => res.end('second'));
  });
  for (const protocol of ['http1', 'h2'] as const) {
    const m = await startMesh(pki, cleanup, { appPort: app.port, protocol });
    const text = await new Promise<string>((resolve, reject) => {
      const req = http.request({ host: '127.0.0.1', port: m.outboundPort, headers: { host: 'backend', 'x-stream-test': '1' }, agent: false }, (res) => {
        let got = '';
        res.setEncoding('utf8');
        res.on('data', (d: string) => {
          got += d;
          if (got === 'first;') release();
        });
        res.on('end', () => resolve(got));
      });
      req.on('error', reject);
      req.end();
    });
    assert.equal(text, 'first;second');
  }
});

test('connections and streaming: large bodies both ways keep their bytes (backpressure on a slow reader)', async () => {
  const size = 8 * 1024 * 1024;
  const app = await startH1App(cleanup, (req, res) => {
    // Echo the upload back, streaming.
    res.writeHead(200, { 'content-type': 'application/octet-stream' });
    req.pipe(res);
  });
  const m = await startMesh(pki, cleanup, { appPort: app.port });
  const digest = await new Promise<string>((resolve, reject) => {
    const req = http.request({ host: '127.0.0.1', port: m.outboundPort, method: 'PUT', headers: { host: 'backend', 'x-stream-test': '1', 'content-length': String(size) }, agent: false }, (res) => {
      const h = createHash('sha256');
      res.on('data', (d: Buffer) => {
        h.update(d);
        // A slow reader: pause briefly so the proxies must hold back.
        res.pause();
        setImmediate(() => res.resume());
      });
      res.on('end', () => resolve(h.digest('hex')));
      res.on('error', reject);
    });
    req.on('error', reject);
    const chunk = Buffer.alloc(64 * 1024, 7);
    for (let i = 0; i < size / chunk.length; i++) req.write(chunk);
    req.end();
  });
  const expected = createHash('sha256');
  for (let i = 0; i < size / (64 * 1024); i++) expected.update(Buffer.alloc(64 * 1024, 7));
  assert.equal(digest, expected.digest('hex'));
});

test('connections and streaming: client abort propagates to the app; app abort propagates to the client', async () => {
  let appSawClose!: () => void;
  const appClosed = new Promise<void>((r) => (appSawClose = r));
  const app = await startH1App(cleanup, (req, res) => {
    if (req.url === '/die') {
      res.writeHead(200);
      res.write('partial');
      setTimeout(() => res.destroy(), 50);
      return;
    }
    res.writeHead(200);
    res.write('tick');
    res.on('close', () => appSawClose());
  });
  const m = await startMesh(pki, cleanup, { appPort: app.port });
  await new Promise<void>((resolve, reject) => {
    const req = http.request({ host: '127.0.0.1', port: m.outboundPort, headers: { host: 'backend', 'x-stream-test': '1' }, agent: false }, (res) => {
      res.once('data', () => {
        req.destroy();
        resolve();
      });
    });
    req.on('error', () => {});
    req.on('close', () => resolve());
    setTimeout(() => reject(new Error('no data')), 5000).unref();
    req.end();
  });
  await appClosed;
  const outcome = await new Promise<string>((resolve) => {
    const req = http.request({ host: '127.0.0.1', port: m.outboundPort, path: '/die', headers: { host: 'backend', 'x-stream-test': '1' }, agent: false }, (res) => {
      res.on('data', () => {});
      res.on('end', () => resolve('complete'));
      res.on('aborted', () => resolve('aborted'));
      res.on('error', () => resolve('aborted'));
    });
    req.on('error', () => resolve('aborted'));
    req.end();
  });
  assert.equal(outcome, 'aborted');
});

test('connections and streaming: HTTP/2 client cancelling its stream aborts the request at the app (both link protocols)', async () => {
  for (const protocol of ['http1', 'h2'] as const) {
    let closed!: () => void;
    const appClosed = new Promise<void>((r) => (closed = r));
    const app = await startH1App(cleanup, (_req, res) => {
      res.writeHead(200);
      res.write('tick');
      res.on('close', () => closed());
    });
    const m = await startMesh(pki, cleanup, { appPort: app.port, protocol });
    const s = await h2c(m.outboundPort);
    const st = s.request({ ':path': '/tick', ':authority': 'backend', 'x-stream-test': '1' }, { endStream: true });
    st.on('error', () => {});
    await once(st, 'data');
    st.close(http2.constants.NGHTTP2_CANCEL);
    await appClosed;
    await eventually(() => m.outbound.activeRequests() === 0 && m.inbound.activeRequests() === 0, 5000, 'requests finished');
  }
});

test('connections and streaming: a bad client connection does not take the proxy down', async () => {
  const app = await startH1App(cleanup);
  const m = await startMesh(pki, cleanup, { appPort: app.port });
  // Garbage, a half request, and an abrupt reset.
  for (const bytes of ['\x00\x01\x02garbage\r\n\r\n', 'GET / HTTP/1.1\r\nHost: backend\r\nContent-Length: 100\r\n\r\nabc', 'PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n\x00\x00']) {
    const s = net.connect(m.outboundPort, '127.0.0.1');
    s.on('error', () => {});
    await once(s, 'connect');
    s.write(bytes);
    await new Promise((r) => setTimeout(r, 20));
    s.resetAndDestroy();
  }
  assert.equal((await h1Request(m.outboundPort, { headers: { host: 'backend' } })).status, 200);
});
