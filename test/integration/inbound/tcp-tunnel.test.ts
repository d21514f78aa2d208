/**
 * Raw TCP mode in both directions: app → tcp outbound → mTLS → tcp inbound
 * → TCP service. The inbound checks the caller with policy once per
 * connection; the outbound checks the server's ID.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { once } from 'node:events';
import net, { type AddressInfo } from 'node:net';
import { createTcpInbound } from '../../../sidecar/inbound/index.ts';
import { createTcpOutbound } from '../../../sidecar/outbound/index.ts';
import { evaluate, parsePolicy } from '../../../sidecar/policy/index.ts';
import { matchId } from '../../../sidecar/spiffe/index.ts';
import { Cleanup, LIMITS, RecordingMetrics, TD, eventually, id, makePki, sourceFor, type Pki, type StaticSource } from '../../support/proxy-fixtures.ts';

const cleanup = new Cleanup();
after(() => cleanup.run());

const DB_ID = `spiffe://${TD}/db`;
const policy = parsePolicy({ version: 1, rules: [{ name: 'app-to-db', from: [{ id: `spiffe://${TD}/app` }] }] }, 'tcp-policy');

let pki: Pki;
let echoPort: number;
let inboundPort: number;
let inMetrics: RecordingMetrics;
let db: StaticSource;

before(async () => {
  pki = await makePki();
  const echo = net.createServer((s) => {
    s.on('error', () => {});
    s.pipe(s);
  });
  echo.listen(0, '127.0.0.1');
  await once(echo, 'listening');
  echoPort = (echo.address() as AddressInfo).port;
  cleanup.add(() => echo.close());
  db = await sourceFor(pki.ca, DB_ID, pki.bundles);
  inMetrics = new RecordingMetrics();
  ({ port: inboundPort } = await startTcpInbound(inMetrics));
});

/** The db's TCP inbound in front of the echo service, admitting callers by `policy`; closed after the file. */
async function startTcpInbound(metrics: RecordingMetrics): Promise<{ inbound: ReturnType<typeof createTcpInbound>; port: number }> {
  const inbound = createTcpInbound({
    listen: { host: '127.0.0.1', port: 0 },
    target: { host: '127.0.0.1', port: echoPort },
    svidSource: db,
    bundleSource: db,
    authorizeCaller: (peerId) => evaluate(policy, { peerId }),
    metrics,
    limits: LIMITS,
  });
  const { port } = await inbound.start();
  cleanup.add(() => inbound.close());
  return { inbound, port };
}

/** A TCP outbound as `callerId` to the db's inbound on `inPort`, expecting `serverId`. */
async function outboundAs(callerId: string, serverId = DB_ID, inPort = inboundPort): Promise<{ port: number; metrics: RecordingMetrics }> {
  const caller = await sourceFor(pki.ca, callerId, pki.bundles);
  const metrics = new RecordingMetrics();
  const out = createTcpOutbound({
    listen: { host: '127.0.0.1', port: 0 },
    address: { host: '127.0.0.1', port: inPort },
    server: matchId(id(serverId)),
    svidSource: caller,
    bundleSource: caller,
    metrics,
    limits: LIMITS,
  });
  const { port } = await out.start();
  cleanup.add(() => out.close());
  return { port, metrics };
}

/** Sends `text` through a tunnel and collects what comes back until close or `expect` bytes. */
function roundTrip(port: number, text: string): Promise<string> {
  return new Promise((resolve) => {
    let got = '';
    const s = net.connect(port, '127.0.0.1', () => s.write(text));
    s.on('data', (d) => {
      got += d.toString();
      if (got.length >= text.length) s.end();
    });
    s.on('error', () => resolve(got));
    s.on('close', () => resolve(got));
  });
}

test('allowed caller: bytes flow both ways through both tunnels', async () => {
  const { port, metrics } = await outboundAs(`spiffe://${TD}/app`);
  assert.equal(await roundTrip(port, 'ping over mTLS'), 'ping over mTLS');
  assert.equal(metrics.opened.outbound, 1);
  assert.deepEqual(inMetrics.decisions.at(-1), { decision: 'allow', peerId: `spiffe://${TD}/app` });
});

test('denied caller: the connection is closed and nothing reaches the service', async () => {
  const { port } = await outboundAs(`spiffe://${TD}/intruder`);
  assert.equal(await roundTrip(port, 'let me in'), '');
  await eventually(() => inMetrics.decisions.some((d) => d.decision === 'deny'), 5000, 'deny counted');
  assert.deepEqual(inMetrics.decisions.at(-1), { decision: 'deny', peerId: `spiffe://${TD}/intruder` });
});

test('outbound refuses a server with another ID (no bytes leave)', async () => {
  const { port, metrics } = await outboundAs(`spiffe://${TD}/app`, `spiffe://${TD}/not-the-db`);
  const before = inMetrics.decisions.length;
  assert.equal(await roundTrip(port, 'secret'), '');
  assert.deepEqual(metrics.handshakeErrors, [{ direction: 'outbound', reason: 'not_authorized' }]);
  assert.equal(metrics.opened.outbound, 0);
  // The inbound saw an authenticated caller that hung up; it may or may not have decided yet, but no tunnel opened.
  assert.ok(inMetrics.decisions.length - before <= 1);
});

test('drain: open tunnels may finish; at the deadline the rest are cut and counted', async () => {
  const metrics = new RecordingMetrics();
  const { inbound, port: p2 } = await startTcpInbound(metrics);
  const { port: out } = await outboundAs(`spiffe://${TD}/app`, DB_ID, p2);
  const s = net.connect(out, '127.0.0.1');
  s.on('error', () => {});
  s.write('x');
  await once(s, 'data');
  assert.equal(inbound.activeRequests(), 1);
  const closed = once(s, 'close');
  const r = await inbound.drain(200);
  assert.deepEqual(r, { abandoned: 1 });
  await closed;
});
