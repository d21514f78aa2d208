/**
 * /app-probe/ on a real admin listener in front of real apps on 127.0.0.1:
 * configured probes answer with the app's status, everything else under
 * the prefix is 404 and reaches no app (the admin port is not a forwarder),
 * and the caller controls neither headers, body, method nor query.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, request, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { createAdminServer, type AdminServer } from '../../../sidecar/admin/index.ts';
import { SidecarMetrics } from '../../../sidecar/metrics/index.ts';
import { freePorts } from '../../support/sidecar-harness.ts';

interface Seen {
  readonly method: string;
  readonly url: string;
  readonly headers: IncomingHttpHeaders;
  readonly bodyBytes: number;
}

/** A loopback app that records every request and answers by path: /status/<code>, /hang, anything else 200. */
async function startApp(): Promise<{ port: number; seen: Seen[]; close(): Promise<void> }> {
  const seen: Seen[] = [];
  const sockets = new Set<Socket>();
  const server: Server = createServer((req, res) => {
    let bodyBytes = 0;
    req.on('data', (c: Buffer) => (bodyBytes += c.length));
    req.on('end', () => {
      seen.push({ method: req.method ?? '', url: req.url ?? '', headers: req.headers, bodyBytes });
      const m = /^\/status\/(\d{3})/.exec(req.url ?? '');
      if (req.url === '/hang') return;
      const status = m ? Number(m[1]) : 200;
      // Redirects point at a path that would succeed, to show they are not followed.
      const headers = status >= 300 && status < 400 ? { location: '/status/200' } : {};
      res.writeHead(status, headers).end(status === 204 || status === 304 ? undefined : 'app body that must not be relayed');
    });
  });
  server.on('connection', (s: Socket) => {
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
  return {
    port: (server.address() as AddressInfo).port,
    seen,
    close: () =>
      new Promise<void>((resolve) => {
        for (const s of sockets) s.destroy();
        server.close(() => resolve());
      }),
  };
}

function call(port: number, path: string, o: { method?: string; headers?: Record<string, string>; body?: string } = {}): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port, path, method: o.method ?? 'GET', headers: o.headers ?? {}, agent: false }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (c: string) => (body += c));
      res.on('end', () => resolve({ status: res.statusCode!, body }));
    });
    req.on('error', reject);
    req.end(o.body);
  });
}

let app: Awaited<ReturnType<typeof startApp>>;
let other: Awaited<ReturnType<typeof startApp>>;
let closedPort: number;
let admin: AdminServer;
let port: number;

before(async () => {
  app = await startApp();
  // A second app on another port that no probe names: it must never be reached.
  other = await startApp();
  [closedPort] = (await freePorts(1)) as [number];
  admin = createAdminServer({
    listen: { host: '127.0.0.1', port: 0 },
    metrics: new SidecarMetrics({ processMetrics: false }),
    readiness: () => ({ ready: true, reasons: [] }),
    debug: { svid: () => null, config: () => null },
    appProbes: [
      { port: app.port, target: '/healthz?full=1', timeoutMs: 2000, headers: [{ name: 'X-Probe', value: 'liveness' }, { name: 'Host', value: 'app.local' }] },
      ...[200, 204, 302, 404, 500].map((s) => ({ port: app.port, target: `/status/${s}`, timeoutMs: 2000 })),
      { port: app.port, target: '/hang', timeoutMs: 200 },
      { port: closedPort, target: '/healthz', timeoutMs: 2000 },
    ],
  });
  ({ port } = await admin.start());
});
after(async () => {
  await admin.stop();
  await app.close();
  await other.close();
});

for (const status of [200, 204, 302, 404, 500]) {
  test(`admin /app-probe/ with real apps: a configured probe answers with the app's status (${status})`, async () => {
    const before = app.seen.length;
    const r = await call(port, `/app-probe/${app.port}/status/${status}`);
    assert.equal(r.status, status);
    assert.doesNotMatch(r.body, /app body/, "the app's body is not relayed");
    // One request: a redirect is answered as is, never followed.
    assert.deepEqual(app.seen.slice(before).map((s) => s.url), [`/status/${status}`]);
  });
}

test('admin /app-probe/ with real apps: the app gets a fixed GET: configured target, query and headers; nothing from the caller', async () => {
  const before = app.seen.length;
  const r = await call(port, `/app-probe/${app.port}/healthz?evil=1`, {
    headers: { authorization: 'Bearer stolen', cookie: 'a=b', 'x-forwarded-client-cert': 'URI=spiffe://example.org/admin', 'x-probe': 'caller' },
  });
  assert.equal(r.status, 200);
  assert.equal(r.body, `app-probe: 127.0.0.1:${app.port} answered 200\n`);
  const [seen] = app.seen.slice(before);
  assert.equal(seen?.method, 'GET');
  assert.equal(seen?.url, '/healthz?full=1');
  assert.equal(seen?.bodyBytes, 0);
  assert.equal(seen?.headers['x-probe'], 'liveness');
  assert.equal(seen?.headers['host'], 'app.local');
  for (const h of ['authorization', 'cookie', 'x-forwarded-client-cert']) assert.equal(seen?.headers[h], undefined, `${h} is not forwarded`);
});

test('admin /app-probe/ with real apps: HEAD is answered with the status and no body; the app still gets a GET', async () => {
  const before = app.seen.length;
  const r = await call(port, `/app-probe/${app.port}/status/500`, { method: 'HEAD' });
  assert.equal(r.status, 500);
  assert.equal(r.body, '');
  assert.equal(app.seen.slice(before)[0]?.method, 'GET');
});

test('admin /app-probe/ with real apps: other methods are 405 and reach no app', async () => {
  const before = app.seen.length;
  const r = await call(port, `/app-probe/${app.port}/status/200`, { method: 'POST', body: 'payload' });
  assert.equal(r.status, 405);
  assert.equal(app.seen.length, before);
});

test('admin /app-probe/ with real apps: an app that is down: 503', async () => {
  const r = await call(port, `/app-probe/${closedPort}/healthz`);
  assert.equal(r.status, 503);
  assert.match(r.body, new RegExp(`127\\.0\\.0\\.1:${closedPort} cannot be reached \\(ECONNREFUSED\\)`));
});

test('admin /app-probe/ with real apps: an app that does not answer within the timeout: 503', async () => {
  const r = await call(port, `/app-probe/${app.port}/hang`);
  assert.equal(r.status, 503);
  assert.match(r.body, /did not answer within 200 ms/);
});

test('admin /app-probe/ with real apps: an unconfigured path of a configured port: 404 naming the reason, and no request to the app', async () => {
  const before = app.seen.length;
  const r = await call(port, `/app-probe/${app.port}/admin/delete-everything`);
  assert.equal(r.status, 404);
  assert.equal(r.body, 'not found: no app probe is configured for this path\n');
  assert.equal(app.seen.length, before);
});

test('admin /app-probe/ with real apps: a port no probe names is not reachable: not an open forwarder', async () => {
  const paths = [
    `/app-probe/${other.port}/`,
    `/app-probe/${other.port}/healthz`,
    `/app-probe/${other.port}/healthz?full=1`,
    `/app-probe/${app.port}/healthz/../../${other.port}/healthz`,
    `/app-probe/${app.port}/%2e%2e/${other.port}/healthz`,
    `/app-probe/${app.port}/..%2f${other.port}/healthz`,
  ];
  for (const path of paths) {
    const r = await call(port, path);
    assert.equal(r.status, 404, path);
  }
  assert.equal(other.seen.length, 0, 'the unconfigured app received nothing');
});
