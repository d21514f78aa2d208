/**
 * The inbound HTTP proxy over real mTLS on 127.0.0.1: who the app is told
 * called, what policy lets through, how both protocols reach both kinds of
 * app, and how app failures and limits are answered.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import type { InboundOptions } from '../../../sidecar/inbound/index.ts';
import { allowAll, parsePolicy, type Policy } from '../../../sidecar/policy/index.ts';
import { inboundFor } from '../../support/inbound-fixture.ts';
import type { ProxyListener } from '../../../sidecar/forward/index.ts';
import {
  Cleanup,
  LIMITS,
  RecordingLogger,
  RecordingMetrics,
  TD,
  deadPort,
  headers,
  id,
  makePki,
  mtlsH1Request,
  mtlsH2Session,
  h2Request,
  sourceFor,
  startH1App,
  startH2cApp,
  type Pki,
  type StaticSource,
} from '../../support/proxy-fixtures.ts';

const cleanup = new Cleanup();
after(() => cleanup.run());

let pki: Pki;
let server: StaticSource;
let client: StaticSource;
const SERVER_ID = `spiffe://${TD}/backend`;
const CLIENT_ID = `spiffe://${TD}/frontend`;

before(async () => {
  pki = await makePki();
  server = await sourceFor(pki.ca, SERVER_ID, pki.bundles);
  client = await sourceFor(pki.ca, CLIENT_ID, pki.bundles);
});

async function inbound(app: number, over: Partial<InboundOptions> = {}): Promise<{ port: number; proxy: ProxyListener; metrics: RecordingMetrics; logger: RecordingLogger }> {
  const metrics = new RecordingMetrics();
  const logger = new RecordingLogger();
  const proxy = inboundFor(server, app, { localId: () => id(SERVER_ID), metrics, logger, accessLog: true, ...over });
  const { port } = await proxy.start();
  cleanup.add(() => proxy.close());
  return { port, proxy, metrics, logger };
}

function leafHash(s: StaticSource): string {
  return createHash('sha256').update(s.svid.certificates[0]!.der).digest('hex');
}

test('identity headers at the app: HTTP/1.1 caller: x-client-spiffe-id and XFCC name the verified peer; forged copies are replaced', async () => {
  const app = await startH1App(cleanup);
  const { port } = await inbound(app.port);
  const r = await mtlsH1Request(port, client, {
    path: '/hello?x=1',
    headers: [
      'Host', 'backend.local',
      'X-Client-Spiffe-Id', 'spiffe://example.org/admin',
      'x_client_spiffe_id', 'spiffe://example.org/admin',
      'X-Forwarded-Client-Cert', 'By=spiffe://example.org/backend;URI=spiffe://example.org/admin',
      'Connection', 'x-client-spiffe-id',
    ],
  });
  assert.equal(r.status, 200);
  const seen = app.seen.at(-1)!;
  assert.equal(seen.url, '/hello?x=1');
  assert.equal(seen.headers['host'], 'backend.local', 'Host is preserved');
  assert.equal(seen.headers['x-client-spiffe-id'], CLIENT_ID);
  assert.equal(seen.headers['x-forwarded-client-cert'], `By=${SERVER_ID};Hash=${leafHash(client)};URI=${CLIENT_ID}`);
  const names = seen.rawHeaders.filter((_, i) => i % 2 === 0).map((n) => n.toLowerCase());
  assert.equal(names.filter((n) => n === 'x-client-spiffe-id').length, 1, 'exactly one SPIFFE ID header');
  assert.ok(!names.includes('x_client_spiffe_id'), 'underscore spelling stripped');
  assert.equal(names.filter((n) => n === 'x-forwarded-client-cert').length, 1);
});

test('identity headers at the app: HTTP/2 caller to an HTTP/1.1 app: :authority becomes Host, identity headers set', async () => {
  const app = await startH1App(cleanup);
  const { port } = await inbound(app.port);
  const s = await mtlsH2Session(port, client);
  cleanup.add(() => s.destroy());
  const r = await h2Request(s, { ':path': '/h2', ':authority': 'backend.local:8080', 'x-client-spiffe-id': 'spiffe://example.org/admin' });
  assert.equal(r.status, 200);
  const seen = app.seen.at(-1)!;
  assert.equal(seen.httpVersion, '1.1');
  assert.equal(seen.headers['host'], 'backend.local:8080');
  assert.equal(seen.headers['x-client-spiffe-id'], CLIENT_ID);
  assert.equal(r.headers['x-app'], 'h1');
});

test('identity headers at the app: HTTP/1.1 caller to an h2c app: Host becomes :authority; hop-by-hop headers removed', async () => {
  const app = await startH2cApp(cleanup);
  const { port } = await inbound(app.port, { appProtocol: 'h2c' });
  const r = await mtlsH1Request(port, client, {
    path: '/grpcish',
    method: 'POST',
    headers: ['Host', 'backend.local', 'Keep-Alive', 'timeout=5', 'Connection', 'keep-alive, x-hop', 'X-Hop', '1', 'Proxy-Authorization', 'secret', 'X-End', 'kept', 'Content-Type', 'text/plain'],
    body: 'payload',
  });
  assert.equal(r.status, 200);
  const seen = app.seen.at(-1)!;
  assert.equal(seen.httpVersion, '2.0');
  assert.equal(seen.headers[':authority'], 'backend.local');
  assert.equal(seen.body, 'payload');
  assert.equal(seen.headers['x-end'], 'kept');
  assert.equal(seen.headers['x-client-spiffe-id'], CLIENT_ID);
  for (const gone of ['keep-alive', 'x-hop', 'proxy-authorization', 'connection', 'host']) assert.equal(seen.headers[gone], undefined, `${gone} removed`);
  assert.equal(r.headers['x-app'], 'h2c');
});

test('identity headers at the app: HTTP/2 caller to an h2c app', async () => {
  const app = await startH2cApp(cleanup);
  const { port } = await inbound(app.port, { appProtocol: 'h2c' });
  const s = await mtlsH2Session(port, client);
  cleanup.add(() => s.destroy());
  const r = await h2Request(s, { ':path': '/both-h2', ':method': 'POST' }, 'x'.repeat(100_000));
  assert.equal(r.status, 200);
  assert.equal(app.seen.at(-1)!.body.length, 100_000);
  assert.equal(app.seen.at(-1)!.headers['x-client-spiffe-id'], CLIENT_ID);
});

const policy: Policy = parsePolicy(
  {
    version: 1,
    rules: [
      { name: 'public', from: [{ id: CLIENT_ID }], to: [{ paths: ['/public/'] }] },
      { name: 'reader', from: [{ trustDomain: 'other.org' }], to: [{ paths: ['/public/'], methods: ['GET'] }] },
    ],
  },
  'test-policy',
);

// One row per bypass attempt: each must be judged on the normalised path.
const rows: { path: string; status: number; reason?: string; appSees?: string }[] = [
  { path: '/public/index.html', status: 200, appSees: '/public/index.html' },
  { path: '/public/./a//b?q=1', status: 200, appSees: '/public/a/b?q=1' },
  { path: '/admin', status: 403, reason: 'no_matching_rule' },
  { path: '/public/../admin', status: 403, reason: 'no_matching_rule' },
  { path: '/public/%2e%2e/admin', status: 403, reason: 'no_matching_rule' },
  { path: '//admin', status: 403, reason: 'no_matching_rule' },
  { path: '/public/..%2Fadmin', status: 400, reason: 'bad_path' },
  { path: '/public/..;/admin', status: 400, reason: 'bad_path' },
];

for (const row of rows) {
  test(`policy: ${row.path} → ${row.status}`, async () => {
    const app = await startH1App(cleanup);
    const { port, metrics, logger } = await inbound(app.port, { policy: () => policy });
    const r = await mtlsH1Request(port, client, { path: row.path });
    assert.equal(r.status, row.status, r.body);
    if (row.appSees !== undefined) {
      assert.equal(app.seen.at(-1)?.url, row.appSees);
      assert.deepEqual(metrics.decisions, [{ decision: 'allow', peerId: CLIENT_ID }]);
    } else {
      assert.equal(app.seen.length, 0, 'a denied request never reaches the app');
      assert.match(r.headers['content-type'] ?? '', /^text\/plain/);
      assert.ok(r.body.length > 0 && r.body.length < 200, `short reason: ${r.body}`);
      assert.deepEqual(metrics.decisions, [{ decision: 'deny', peerId: CLIENT_ID }]);
      const denied = logger.lines.find((l) => l.msg === 'request refused');
      assert.equal(denied?.obj['peer_id'], CLIENT_ID);
      assert.equal(denied?.obj['reason'], row.reason);
    }
  });
}

test('policy is read per request: a reload applies to the next request', async () => {
  const app = await startH1App(cleanup);
  let current: Policy = policy;
  const { port } = await inbound(app.port, { policy: () => current });
  assert.equal((await mtlsH1Request(port, client, { path: '/admin' })).status, 403);
  current = allowAll;
  assert.equal((await mtlsH1Request(port, client, { path: '/admin' })).status, 200);
});

test('policy: HTTP/2 requests are authorized too', async () => {
  const app = await startH1App(cleanup);
  const { port } = await inbound(app.port, { policy: () => policy });
  const s = await mtlsH2Session(port, client);
  cleanup.add(() => s.destroy());
  assert.equal((await h2Request(s, { ':path': '/public/../admin' })).status, 403);
  assert.equal((await h2Request(s, { ':path': '/public/ok' })).status, 200);
  assert.equal(app.seen.length, 1);
});

test('policy: a federated trust domain is accepted when its bundle is trusted, and authorized by policy', async () => {
  const app = await startH1App(cleanup);
  const fedServer = await sourceFor(pki.ca, SERVER_ID, pki.federated);
  const partner = await sourceFor(pki.other, 'spiffe://other.org/partner', pki.federated);
  const { port } = await inbound(app.port, { policy: () => policy, svidSource: fedServer, bundleSource: fedServer });
  assert.equal((await mtlsH1Request(port, partner, { path: '/public/x' })).status, 200);
  assert.equal((await mtlsH1Request(port, partner, { path: '/public/x', method: 'DELETE' })).status, 403);
  assert.equal(app.seen.at(-1)!.headers['x-client-spiffe-id'], 'spiffe://other.org/partner');
});

test('app failures and limits: app down → 503 naming the cause', async () => {
  const port0 = await deadPort();
  const { port, metrics } = await inbound(port0);
  const r = await mtlsH1Request(port, client, { path: '/' });
  assert.equal(r.status, 503);
  assert.equal(r.body.trim(), `upstream connect error: ECONNREFUSED 127.0.0.1:${port0}`);
  assert.equal(metrics.requests.at(-1)?.code, 503);
});

test('app failures and limits: h2c app down → 503 too', async () => {
  const port0 = await deadPort();
  const { port } = await inbound(port0, { appProtocol: 'h2c' });
  const r = await mtlsH1Request(port, client, { path: '/' });
  assert.equal(r.status, 503);
  assert.match(r.body, /ECONNREFUSED/);
});

test('app failures and limits: app too slow → 504 (requestTimeout)', async () => {
  const app = await startH1App(cleanup, () => {
    /* never answers */
  });
  const { port } = await inbound(app.port, { limits: { ...LIMITS, requestTimeoutMs: 300 } });
  const r = await mtlsH1Request(port, client, { path: '/slow' });
  assert.equal(r.status, 504);
});

test('app failures and limits: h2c app too slow → 504', async () => {
  const app = await startH2cApp(cleanup, () => {
    /* never answers */
  });
  const { port } = await inbound(app.port, { appProtocol: 'h2c', limits: { ...LIMITS, requestTimeoutMs: 300 } });
  const r = await mtlsH1Request(port, client, { path: '/slow' });
  assert.equal(r.status, 504);
});

test('app failures and limits: request head over maxHeaderBytes → 431 (HTTP/1.1) and 431 (HTTP/2), app not called', async () => {
  const app = await startH1App(cleanup);
  const { port } = await inbound(app.port, { limits: { ...LIMITS, maxHeaderBytes: 2048 } });
  const r = await mtlsH1Request(port, client, { headers: { host: 'x', 'x-big': 'a'.repeat(4000) } });
  assert.equal(r.status, 431);
  const s = await mtlsH2Session(port, client);
  cleanup.add(() => s.destroy());
  const r2 = await h2Request(s, { ':path': '/', 'x-big': 'a'.repeat(4000) });
  assert.equal(r2.status, 431);
  assert.equal(app.seen.length, 0);
});

test('app failures and limits: access log: one JSON line per request with the documented fields, no query string', async () => {
  const app = await startH1App(cleanup);
  const { port, logger, metrics } = await inbound(app.port);
  await mtlsH1Request(port, client, { path: '/logged?token=secret' });
  const line = logger.lines.find((l) => l.msg === 'request');
  assert.ok(line);
  assert.deepEqual(Object.keys(line.obj).sort(), ['client_id', 'code', 'component', 'decision', 'dst', 'duration_ms', 'method', 'path', 'peer_id', 'reason', 'rule', 'subject']);
  assert.equal(line.obj['path'], '/logged');
  assert.equal(line.obj['peer_id'], CLIENT_ID);
  assert.equal(line.obj['decision'], 'allow');
  assert.equal(line.obj['code'], 200);
  assert.ok(!JSON.stringify(logger.lines).includes('secret'));
  assert.equal(metrics.requests.length, 1);
  assert.equal(metrics.requests[0]!.peerId, CLIENT_ID);
  assert.equal(metrics.requests[0]!.direction, 'inbound');
});
