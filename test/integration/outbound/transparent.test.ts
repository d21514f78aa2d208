/**
 * Transparent mode's routing decisions with real sockets on loopback: the
 * outbound proxy dials the host a request names (resolved by an injected
 * resolver, since every name here is 127.0.0.1), verifies the server's
 * SVID against the default or pinned expectation, and refuses what it
 * must (IP literals, ports not listed, names resolving to loopback with the
 * real guard, unknown names, non-HTTP bytes). Plus the inbound side:
 * appPorts picks the app by the addressed port.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import type { LookupAddress } from 'node:dns';
import http2 from 'node:http2';
import net from 'node:net';
import { once } from 'node:events';
import { guardedLookup, matchOwnTrustDomain, type OutboundOptions, type OutboundUpstreamOptions } from '../../../sidecar/outbound/index.ts';
import { matchId } from '../../../sidecar/spiffe/index.ts';
import { startInbound } from '../../support/inbound-fixture.ts';
import { startOutbound } from '../../support/outbound-fixture.ts';
import {
  Cleanup,
  OTHER_TD,
  RecordingMetrics,
  TD,
  h1Request,
  h2Request,
  id,
  makePki,
  sourceFor,
  startH1App,
  startH2cApp,
  type Pki,
  type StaticSource,
} from '../../support/proxy-fixtures.ts';

const FRONTEND = `spiffe://${TD}/ns/demo/sa/frontend`;
const BACKEND = `spiffe://${TD}/ns/demo/sa/backend`;
const FOREIGN = `spiffe://${OTHER_TD}/ns/demo/sa/backend`;

const cleanup = new Cleanup();
after(() => cleanup.run());

let pki: Pki;
let frontend: StaticSource;
/** Inbound of a backend with an example.org ID (default app h1, appPorts 9090 → h2c app). */
let backendPort: number;
/** Inbound of a backend whose ID is in other.org (federated, so TLS verifies it). */
let foreignPort: number;

/** A dns.lookup stand-in: these names are 127.0.0.1, every other name does not exist. */
const NAMES = new Set(['backend', 'backend.demo.svc', 'foreign', 'pinned']);
const fakeResolve = ((hostname: string, _o: unknown, cb: (err: NodeJS.ErrnoException | null, list: LookupAddress[]) => void) => {
  if (NAMES.has(hostname)) cb(null, [{ address: '127.0.0.1', family: 4 }]);
  else cb(Object.assign(new Error(`getaddrinfo ENOTFOUND ${hostname}`), { code: 'ENOTFOUND', syscall: 'getaddrinfo' }), []);
}) as unknown as typeof import('node:dns').lookup;
/** Loopback must be allowed here; the real guard is exercised separately. */
const loopbackLookup = guardedLookup(fakeResolve, () => false);

async function outbound(o: Partial<OutboundOptions> & { upstreams?: OutboundUpstreamOptions[] } = {}): Promise<{ port: number; metrics: RecordingMetrics }> {
  const metrics = new RecordingMetrics();
  const port = await startOutbound(cleanup, frontend, { metrics, transparent: { server: matchOwnTrustDomain(frontend), lookup: loopbackLookup }, ...o });
  return { port, metrics };
}

async function inbound(source: StaticSource, app: number, appPorts: { port: number; app: number }[] = []): Promise<number> {
  return startInbound(cleanup, source, app, {
    appPorts: appPorts.map((a) => ({ port: a.port, app: { host: '127.0.0.1', port: a.app }, appProtocol: 'h2c' as const })),
  });
}

before(async () => {
  pki = await makePki();
  frontend = await sourceFor(pki.ca, FRONTEND, pki.federated);
  const h1 = await startH1App(cleanup);
  const h2c = await startH2cApp(cleanup);
  backendPort = await inbound(await sourceFor(pki.ca, BACKEND, pki.federated), h1.port, [{ port: 9090, app: h2c.port }]);
  foreignPort = await inbound(await sourceFor(pki.other, FOREIGN, pki.federated), h1.port);
});

test('a service name is dialled at its Host port over mTLS; the app sees the caller and the Host unchanged', async () => {
  const { port, metrics } = await outbound();
  const r = await h1Request(port, { path: '/orders?id=7', headers: { host: `backend:${backendPort}`, 'x-client-spiffe-id': 'spiffe://example.org/forged' } });
  assert.equal(r.status, 200, r.body);
  const seen = JSON.parse(r.body) as { url: string; headers: Record<string, string> };
  assert.equal(seen.url, '/orders?id=7');
  assert.equal(seen.headers['host'], `backend:${backendPort}`);
  assert.equal(seen.headers['x-client-spiffe-id'], FRONTEND);
  assert.deepEqual(metrics.requests.map((m) => [m.direction, m.code, m.peerId]), [['outbound', 200, BACKEND]]);
});

test('h2c requests route by :authority the same way', async () => {
  const { port } = await outbound();
  const session = http2.connect(`http://127.0.0.1:${port}`);
  cleanup.add(() => session.destroy());
  const r = await h2Request(session, { ':method': 'GET', ':path': '/h2', ':authority': `backend.demo.svc:${backendPort}` });
  assert.equal(r.status, 200, r.body);
  assert.equal((JSON.parse(r.body) as { headers: Record<string, string> }).headers['x-client-spiffe-id'], FRONTEND);
});

test('the default expectation is our own trust domain: a federated server of another trust domain is refused with 502', async () => {
  const { port } = await outbound();
  const r = await h1Request(port, { headers: { host: `foreign:${foreignPort}` } });
  assert.equal(r.status, 502);
  assert.match(r.body, new RegExp(`expected any ID in trust domain ${TD.replace('.', '\\.')} \\(our own\\), presented ${FOREIGN.replaceAll('.', '\\.')}`));
});

test('a configured upstream wins over dialling the name', async () => {
  const upstream: OutboundUpstreamOptions = { host: 'svc-by-route', address: { host: '127.0.0.1', port: backendPort }, server: matchId(id(BACKEND)), protocol: 'http1' };
  const { port } = await outbound({ upstreams: [upstream] });
  // The resolver does not know the name: only the route can reach it.
  assert.equal((await h1Request(port, { headers: { host: 'svc-by-route' } })).status, 200);
});

test('an upstream without address pins the identity of a name that is still dialled', async () => {
  const pin = (server: string): OutboundUpstreamOptions => ({ host: 'pinned', address: null, server: matchId(id(server)), protocol: 'http1' });
  const wrong = await outbound({ upstreams: [pin(`spiffe://${TD}/ns/demo/sa/payments`)] });
  const refused = await h1Request(wrong.port, { headers: { host: `pinned:${backendPort}` } });
  assert.equal(refused.status, 502);
  assert.match(refused.body, /expected spiffe:\/\/example\.org\/ns\/demo\/sa\/payments, presented spiffe:\/\/example\.org\/ns\/demo\/sa\/backend/);
  const right = await outbound({ upstreams: [pin(BACKEND)] });
  assert.equal((await h1Request(right.port, { headers: { host: `pinned:${backendPort}` } })).status, 200);
});

test('refusals: IP literal (403), port not listed (403), unknown name (503), no Host (400)', async () => {
  const { port } = await outbound({ transparent: { server: matchOwnTrustDomain(frontend), lookup: loopbackLookup, ports: [80, 8080] } });
  const ip = await h1Request(port, { headers: { host: `127.0.0.1:${backendPort}` } });
  assert.equal(ip.status, 403);
  assert.match(ip.body, /an IP address names no workload, so there is no server identity to expect from it/);
  const notListed = await h1Request(port, { headers: { host: `backend:${backendPort}` } });
  assert.equal(notListed.status, 403);
  assert.match(notListed.body, new RegExp(`port ${backendPort} is not forwarded`));
  const unknown = await h1Request(port, { headers: { host: 'nowhere:8080' } });
  assert.equal(unknown.status, 503);
  assert.match(unknown.body, /ENOTFOUND/);
  const noHost = await new Promise<string>((resolve, reject) => {
    const s = net.connect(port, '127.0.0.1', () => s.end('GET / HTTP/1.0\r\n\r\n'));
    let out = '';
    s.setEncoding('utf8').on('data', (d: string) => (out += d)).on('end', () => resolve(out)).on('error', reject);
  });
  assert.match(noHost, /^HTTP\/1\.1 400 /);
  assert.match(noHost, /no Host header/);
});

test('with the real guard, a name resolving to loopback is never dialled', async () => {
  const { port } = await outbound({ transparent: { server: matchOwnTrustDomain(frontend) } });
  const r = await h1Request(port, { headers: { host: `localhost:${backendPort}` } });
  assert.equal(r.status, 503);
  assert.match(r.body, /localhost resolves to .*127\.0\.0\.1.*which transparent mode never dials/);
});

test('still not a forward proxy: absolute-form targets and CONNECT are refused', async () => {
  const { port } = await outbound();
  const absolute = await h1Request(port, { path: `http://backend:${backendPort}/`, headers: { host: `backend:${backendPort}` } });
  assert.equal(absolute.status, 400);
  const connect = await new Promise<string>((resolve, reject) => {
    const s = net.connect(port, '127.0.0.1', () => s.write(`CONNECT backend:${backendPort} HTTP/1.1\r\nHost: backend:${backendPort}\r\n\r\n`));
    let out = '';
    s.setEncoding('utf8').on('data', (d: string) => ((out += d), s.end())).on('error', reject).on('close', () => resolve(out));
  });
  assert.match(connect, /^HTTP\/1\.1 405 /);
});

test('a redirected connection that is not HTTP (a TLS ClientHello) gets 400 and is closed', async () => {
  const { port } = await outbound();
  const s = net.connect(port, '127.0.0.1');
  let out = '';
  s.setEncoding('utf8').on('data', (d: string) => (out += d));
  await once(s, 'connect');
  // The first bytes of a TLS 1.x record carrying a ClientHello.
  s.write(Buffer.from('160301020001000200', 'hex'));
  await once(s, 'close');
  assert.match(out, /^HTTP\/1\.1 400 /);
});

test('inbound appPorts: the addressed port picks the app; other ports go to the default app', async () => {
  // Reach the inbound through a configured route, as iptables would deliver both ports to it.
  const routes: OutboundUpstreamOptions[] = [
    { host: 'backend:9090', address: { host: '127.0.0.1', port: backendPort }, server: matchId(id(BACKEND)), protocol: 'http1' },
    { host: 'backend', address: { host: '127.0.0.1', port: backendPort }, server: matchId(id(BACKEND)), protocol: 'http1' },
  ];
  const { port } = await outbound({ upstreams: routes });
  const grpcPort = await h1Request(port, { headers: { host: 'backend:9090' } });
  assert.equal(grpcPort.status, 200, grpcPort.body);
  assert.equal(grpcPort.headers['x-app'], 'h2c');
  for (const host of ['backend', 'backend:8080']) {
    const other = await h1Request(port, { headers: { host } });
    assert.equal(other.status, 200, other.body);
    assert.equal(other.headers['x-app'], 'h1', host);
  }
});
