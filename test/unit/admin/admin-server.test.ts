import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { generateKeyPairSync } from 'node:crypto';
import { request } from 'node:http';
import { connect } from 'node:net';
import { AdminError } from '../../../sidecar/admin/admin-error.ts';
import { createAdminServer, type AdminServer, type Readiness } from '../../../sidecar/admin/index.ts';
import { SidecarMetrics } from '../../../sidecar/metrics/index.ts';
import type { Logger } from '../../../sidecar/core/index.ts';

interface Reply {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: string;
}

function get(port: number, path: string, opts: { method?: string; headers?: Record<string, string>; host?: string } = {}): Promise<Reply> {
  return new Promise((resolve, reject) => {
    const req = request({ host: opts.host ?? '127.0.0.1', port, path, method: opts.method ?? 'GET', headers: opts.headers, agent: false }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (c: string) => (body += c));
      res.on('end', () => resolve({ status: res.statusCode!, headers: res.headers, body }));
      res.on('error', reject);
    });
    req.on('error', reject);
    req.end();
  });
}

/** Sends raw bytes and returns whatever comes back before the server closes. */
function raw(port: number, bytes: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const s = connect(port, '127.0.0.1', () => s.write(bytes));
    let out = '';
    s.setEncoding('utf8');
    s.on('data', (c: string) => (out += c));
    s.on('end', () => resolve(out));
    s.on('close', () => resolve(out));
    s.on('error', reject);
  });
}

const recordingLogger = (lines: string[]): Logger => {
  const l: Logger = {
    debug: (o, m) => lines.push(`debug ${m} ${JSON.stringify(o)}`),
    info: (o, m) => lines.push(`info ${m} ${JSON.stringify(o)}`),
    warn: (o, m) => lines.push(`warn ${m} ${JSON.stringify(o)}`),
    error: (o, m) => lines.push(`error ${m} ${JSON.stringify(o)}`),
    child: () => l,
  };
  return l;
};

let readiness: Readiness | (() => never) = { ready: true, reasons: [] };
const metrics = new SidecarMetrics({ processMetrics: false });
metrics.requestDone('inbound', 'GET', 200, 'spiffe://example.org/a', 0.01);
const { privateKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
const logLines: string[] = [];
let server: AdminServer;
let port: number;

before(async () => {
  server = createAdminServer({
    listen: { host: '127.0.0.1', port: 0 },
    metrics,
    readiness: () => (typeof readiness === 'function' ? readiness() : readiness),
    debug: {
      svid: () => ({ id: 'spiffe://example.org/me', hint: '', notAfter: '2030-01-01T00:00:00.000Z', serial: '0a1b', privateKey, key: 'PEM', nested: { keyObject: privateKey, token: 't' } }),
      config: () => ({ log: { level: 'info' } }),
    },
    logger: recordingLogger(logLines),
  });
  ({ port } = await server.start());
});
after(() => server.stop());

test('admin server: start() resolves with the bound port and logs it', () => {
  assert.ok(port > 0);
  assert.ok(logLines.some((l) => l.startsWith('info admin listening') && l.includes(`"port":${port}`)));
});

test('admin server: /healthz answers 200 ok, plain text, not cacheable', async () => {
  const r = await get(port, '/healthz');
  assert.equal(r.status, 200);
  assert.equal(r.body, 'ok\n');
  assert.equal(r.headers['content-type'], 'text/plain; charset=utf-8');
  assert.equal(r.headers['cache-control'], 'no-store');
  assert.equal(r.headers['x-content-type-options'], 'nosniff');
});

test('admin server: ignores the query string', async () => {
  assert.equal((await get(port, '/healthz?verbose=1')).status, 200);
});

test('admin server: /readyz follows readiness(): 200 ready, else 503 with one reason per line', async () => {
  readiness = { ready: true, reasons: [] };
  assert.deepEqual(await get(port, '/readyz').then((r) => [r.status, r.body]), [200, 'ready\n']);
  readiness = { ready: false, reasons: ['no X509-SVID yet', 'inbound listener not bound'] };
  assert.deepEqual(await get(port, '/readyz').then((r) => [r.status, r.body]), [503, 'no X509-SVID yet\ninbound listener not bound\n']);
  readiness = { ready: false, reasons: [] };
  assert.deepEqual(await get(port, '/readyz').then((r) => [r.status, r.body]), [503, 'not ready\n']);
  readiness = { ready: false, reasons: ['line one\ninjected: yes'] };
  assert.deepEqual(await get(port, '/readyz').then((r) => [r.status, r.body]), [503, 'line one injected: yes\n']);
  readiness = { ready: true, reasons: [] };
  assert.equal((await get(port, '/readyz')).status, 200);
});

test('admin server: /readyz answers 503 when readiness() throws', async () => {
  readiness = () => {
    throw new Error('boom');
  };
  assert.deepEqual(await get(port, '/readyz').then((r) => [r.status, r.body]), [503, 'readiness check failed\n']);
  readiness = { ready: true, reasons: [] };
});

test('admin server: /metrics serves the registry in the Prometheus text format', async () => {
  const r = await get(port, '/metrics');
  assert.equal(r.status, 200);
  assert.equal(r.headers['content-type'], metrics.contentType);
  assert.match(r.body, /^sidecar_requests_total\{direction="inbound",method="GET",code="200",peer_spiffe_id="spiffe:\/\/example.org\/a"\} 1$/m);
});

test('admin server: /debug/svid and /debug/config answer JSON to a loopback client', async () => {
  const config = await get(port, '/debug/config');
  assert.equal(config.status, 200);
  assert.equal(config.headers['content-type'], 'application/json; charset=utf-8');
  assert.deepEqual(JSON.parse(config.body), { log: { level: 'info' } });
  const svid = await get(port, '/debug/svid');
  assert.equal(svid.status, 200);
  assert.deepEqual(JSON.parse(svid.body), { id: 'spiffe://example.org/me', hint: '', notAfter: '2030-01-01T00:00:00.000Z', serial: '0a1b', nested: {} });
});

test('admin server: /debug/policy and /debug/listeners are 404 when the sidecar gives no such callback', async () => {
  assert.equal((await get(port, '/debug/policy')).status, 404);
  assert.equal((await get(port, '/debug/listeners')).status, 404);
});

test('admin server: /debug/policy and /debug/listeners answer JSON to a loopback client when wired', async () => {
  const wired = createAdminServer({
    listen: { host: '127.0.0.1', port: 0 },
    metrics: new SidecarMetrics({ processMetrics: false }),
    readiness: () => ({ ready: true, reasons: [] }),
    debug: {
      svid: () => ({}),
      config: () => ({}),
      policy: () => ({ source: 'p.yaml', allowAll: false, rules: [] }),
      listeners: () => [{ name: 'inbound', address: '127.0.0.1:15006', bound: true }],
    },
    logger: recordingLogger([]),
  });
  const { port: p } = await wired.start();
  try {
    assert.deepEqual(JSON.parse((await get(p, '/debug/policy')).body), { source: 'p.yaml', allowAll: false, rules: [] });
    assert.deepEqual(JSON.parse((await get(p, '/debug/listeners')).body), [{ name: 'inbound', address: '127.0.0.1:15006', bound: true }]);
  } finally {
    await wired.stop();
  }
});

test('admin server: never serves key material even if a debug callback returns some', async () => {
  const body = (await get(port, '/debug/svid')).body;
  assert.doesNotMatch(body, /privateKey|PEM|keyObject|token/);
});

test('admin server: HEAD returns the headers without a body', async () => {
  const r = await get(port, '/healthz', { method: 'HEAD' });
  assert.equal(r.status, 200);
  assert.equal(r.headers['content-length'], '3');
  assert.equal(r.body, '');
});

for (const method of ['POST', 'PUT', 'DELETE', 'OPTIONS', 'PATCH']) {
  test(`admin server: ${method} is 405 with Allow: GET, HEAD`, async () => {
    const r = await get(port, '/metrics', { method });
    assert.equal(r.status, 405);
    assert.equal(r.headers['allow'], 'GET, HEAD');
  });
}

for (const path of ['/', '/healthz/', '/HEALTHZ', '/debug', '/debug/', '/metrics.json', '/app-probe/8080/health', 'http://x/healthz']) {
  test(`admin server: unknown path ${path} is 404`, async () => {
    const r = path.startsWith('http') ? await raw(port, `GET ${path} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n`) : (await get(port, path)).status;
    if (typeof r === 'string') assert.match(r, /^HTTP\/1\.1 404 /);
    else assert.equal(r, 404);
  });
}

test('admin server: refuses oversized request headers with 431', async () => {
  const out = await raw(port, `GET /healthz HTTP/1.1\r\nHost: x\r\nX-Big: ${'a'.repeat(10_000)}\r\n\r\n`);
  assert.match(out, /^HTTP\/1\.1 431 /);
});

test('admin server: answers garbage with 400 and keeps serving', async () => {
  const out = await raw(port, 'NOT HTTP AT ALL\r\n\r\n');
  assert.match(out, /^HTTP\/1\.1 400 /);
  assert.equal((await get(port, '/healthz')).status, 200);
});

test('admin server: survives a client that resets mid-request', async () => {
  await new Promise<void>((resolve) => {
    const s = connect(port, '127.0.0.1', () => {
      s.write('GET /metrics HTTP/1.1\r\nHost: x\r\n');
      s.resetAndDestroy();
      resolve();
    });
    s.on('error', () => {});
  });
  assert.equal((await get(port, '/healthz')).status, 200);
});

test('admin server: after setDraining(), /readyz is always 503 draining; /healthz stays 200', async () => {
  readiness = { ready: true, reasons: [] };
  server.setDraining();
  assert.deepEqual(await get(port, '/readyz').then((r) => [r.status, r.body]), [503, 'draining\n']);
  assert.equal((await get(port, '/healthz')).status, 200);
});

const opts = {
  metrics: new SidecarMetrics({ processMetrics: false }),
  readiness: () => ({ ready: true, reasons: [] }),
  debug: { svid: () => ({}), config: () => ({}) },
};

test('admin server: failures and lifecycle: a failing /metrics render is a 500, not a crash', async () => {
  const s = createAdminServer({
    ...opts,
    listen: { host: '127.0.0.1', port: 0 },
    metrics: { contentType: 'text/plain', render: () => Promise.reject(new Error('registry broke')) },
  });
  const { port } = await s.start();
  try {
    assert.deepEqual(await get(port, '/metrics').then((r) => [r.status, r.body]), [500, 'internal error\n']);
    assert.equal((await get(port, '/healthz')).status, 200);
  } finally {
    await s.stop();
  }
});

test('admin server: failures and lifecycle: a throwing debug callback is a 500', async () => {
  const s = createAdminServer({
    ...opts,
    listen: { host: '127.0.0.1', port: 0 },
    debug: {
      svid: () => {
        throw new Error('no svid');
      },
      config: () => ({}),
    },
  });
  const { port } = await s.start();
  try {
    assert.equal((await get(port, '/debug/svid')).status, 500);
  } finally {
    await s.stop();
  }
});

test('admin server: failures and lifecycle: start() on a taken port rejects with admin.listen_failed', async () => {
  const first = createAdminServer({ ...opts, listen: { host: '127.0.0.1', port: 0 } });
  const { port } = await first.start();
  try {
    const second = createAdminServer({ ...opts, listen: { host: '127.0.0.1', port } });
    await assert.rejects(second.start(), (err: unknown) => err instanceof AdminError && err.code === 'admin.listen_failed' && /EADDRINUSE/.test(err.message));
  } finally {
    await first.stop();
  }
});

test('admin server: failures and lifecycle: stop() closes kept-alive connections, and is safe before start and twice', async () => {
  const s = createAdminServer({ ...opts, listen: { host: '127.0.0.1', port: 0 } });
  await s.stop();
  const { port } = await s.start();
  const sock = connect(port, '127.0.0.1');
  sock.on('error', () => {});
  const closed = new Promise<void>((resolve) => sock.on('close', () => resolve()));
  await new Promise<void>((resolve) => {
    sock.once('data', () => resolve());
    sock.write('GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n');
  });
  await s.stop();
  await closed;
  await s.stop();
  await assert.rejects(get(port, '/healthz'), /ECONNREFUSED/);
});
