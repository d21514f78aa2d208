/**
 * Classification of redirected connections by the outbound proxy, with real
 * sockets on loopback (docs/decisions/014-outbound-classification.md). The
 * original destination is injected: each client connects from its own
 * 127.0.0.x address, and the injected function maps that address to the
 * destination the test pretends the app dialled (the kernel's answer is
 * exercised in test/integration/transparent/). Mesh destinations are pinned
 * by `upstreams` entries keyed by their address to the peer's inbound on
 * loopback, since the guard never dials loopback by itself.
 *
 * The peer's side is the opaque-stream inbound (sidecar/inbound/opaque-detect.ts)
 * on an mTLS listener, in front of a client-first echo app, a server-first
 * app and a TLS app.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import type { LookupAddress } from 'node:dns';
import net, { type Socket } from 'node:net';
import tls from 'node:tls';
import { guardedLookup, type ClassificationObserver, type OutboundUpstreamOptions, type TransparentOptions } from '../../../sidecar/outbound/index.ts';
import { parsePolicy } from '../../../sidecar/policy/index.ts';
import { matchId, matchMemberOf } from '../../../sidecar/spiffe/index.ts';
import type { OriginalDestination } from '../../../sidecar/transparent/index.ts';
import { opaqueListener } from '../../support/opaque-inbound-fixture.ts';
import { startOutbound } from '../../support/outbound-fixture.ts';
import {
  Cleanup,
  RecordingLogger,
  RecordingMetrics,
  TD,
  h1Request,
  makePki,
  pemOf,
  rootsPem,
  sourceFor,
  startH1App,
  svidFor,
  type Pki,
  type StaticSource,
} from '../../support/proxy-fixtures.ts';

const FRONTEND = `spiffe://${TD}/ns/demo/sa/frontend`;
const INTRUDER = `spiffe://${TD}/ns/demo/sa/intruder`;
const DB = `spiffe://${TD}/ns/demo/sa/db`;

/** The peer's policy: only the frontend, by ID (no methods or paths, so it can match a TCP connection). */
const policy = parsePolicy({ version: 1, rules: [{ name: 'frontend', from: [{ id: FRONTEND }] }] }, 'test-policy');

const cleanup = new Cleanup();
after(() => cleanup.run());

let pki: Pki;
let frontend: StaticSource;
let intruder: StaticSource;
/** mTLS ports of the peer's opaque inbounds, by the app behind them. */
const peer = { echo: 0, greeter: 0, tls: 0 };
/** The connection checks of the echo app's inbound. */
const echoMetrics = new RecordingMetrics();
/** Plain apps the egress rows reach. */
let egressTlsPort = 0;
let egressHttpPort = 0;
let tlsCa = '';

/** The destination each client address "dialled". */
const DESTINATIONS = new Map<string, OriginalDestination>();
const dst = (address: string, port: number): OriginalDestination => ({ address, port, family: address.includes(':') ? 'IPv6' : 'IPv4' });
const injected = (socket: Socket): OriginalDestination | undefined => DESTINATIONS.get((socket.remoteAddress ?? '').replace(/^::ffff:/, ''));

/** Names the egress rows resolve: all on loopback. */
const fakeResolve = ((hostname: string, _o: unknown, cb: (err: NodeJS.ErrnoException | null, list: LookupAddress[]) => void) => {
  if (hostname === 'allowed.test' || hostname === 'denied.test') cb(null, [{ address: '127.0.0.1', family: 4 }]);
  else cb(Object.assign(new Error(`getaddrinfo ENOTFOUND ${hostname}`), { code: 'ENOTFOUND' }), []);
}) as unknown as typeof import('node:dns').lookup;

class RecordingObserver implements ClassificationObserver {
  readonly classifiedRows: string[] = [];
  readonly egress: string[] = [];
  classified(protocol: string, zone: string, detection: string): void {
    this.classifiedRows.push(`${protocol} ${zone} ${detection}`);
  }
  egressDecided(decision: string, reason: string, protocol: string): void {
    this.egress.push(`${decision} ${reason} ${protocol}`);
  }
}

/** A listener on 127.0.0.1:0 running `onConn`; returns its port. */
async function app(onConn: (s: Socket) => void): Promise<number> {
  const server = net.createServer((s) => {
    s.on('error', () => {});
    onConn(s);
  });
  await new Promise<void>((res) => server.listen(0, '127.0.0.1', res));
  cleanup.add(() => server.close());
  return (server.address() as net.AddressInfo).port;
}

/** The peer's transparent inbound for opaque streams, in front of the app on `appPort`. */
async function opaqueInbound(appPort: number, opaquePorts: number[] = [], metrics = new RecordingMetrics()): Promise<number> {
  const source = await sourceFor(pki.ca, DB, pki.bundles);
  const { server, close } = opaqueListener({ source, policy, originalPort: () => appPort, opaquePorts, metrics });
  await new Promise<void>((res) => server.listen(0, '127.0.0.1', res));
  cleanup.add(close);
  return (server.address() as net.AddressInfo).port;
}

/** Pins of the mesh destinations to the peer inbounds on loopback. */
function pins(server = matchId(DB)): OutboundUpstreamOptions[] {
  return [
    { host: '10.0.0.6:5432', address: { host: '127.0.0.1', port: peer.echo }, server, protocol: 'http1' },
    { host: '10.0.0.6:7000', address: { host: '127.0.0.1', port: peer.echo }, server, protocol: 'http1' },
    { host: '10.0.0.6:7001', address: { host: '127.0.0.1', port: peer.greeter }, server, protocol: 'http1' },
    { host: '[fd00::6]:3306', address: { host: '127.0.0.1', port: peer.greeter }, server, protocol: 'http1' },
    { host: '10.0.0.6:8443', address: { host: '127.0.0.1', port: peer.tls }, server, protocol: 'http1' },
  ];
}

/** The client's outbound in transparent mode, its mesh destinations pinned to peers expected to present `server`. */
async function outbound(source: StaticSource, extra: Partial<TransparentOptions> = {}, server = matchId(DB)): Promise<{ port: number; observer: RecordingObserver; logger: RecordingLogger }> {
  const observer = new RecordingObserver();
  const logger = new RecordingLogger();
  const port = await startOutbound(cleanup, source, {
    upstreams: pins(server),
    logger,
    transparent: {
      server: matchMemberOf(TD),
      lookup: guardedLookup(fakeResolve, () => false),
      originalDestination: injected,
      detectTimeoutMs: 150,
      egress: [{ host: 'allowed.test' }, { cidr: '198.51.100.0/24', ports: [443] }],
      observer,
      ...extra,
    },
  });
  return { port, observer, logger };
}

/** Connects from `from`, writes `send` (if any), and collects what comes back until `until` matches or the close. */
function exchange(port: number, from: string, send: string | undefined, until: (got: string) => boolean = () => false): Promise<{ got: string; closed: boolean }> {
  return new Promise((res) => {
    let got = '';
    const s = net.connect({ host: '127.0.0.1', port, localAddress: from });
    const finish = (closed: boolean): void => {
      s.destroy();
      res({ got, closed });
    };
    s.setTimeout(5000, () => finish(false));
    s.on('error', () => {});
    s.on('connect', () => {
      if (send !== undefined) s.write(Buffer.from(send, 'latin1'));
    });
    s.on('data', (d: Buffer) => {
      got += d.toString('latin1');
      if (until(got)) finish(false);
    });
    s.on('close', () => finish(true));
  });
}

/** From `from`, a TLS client of the app's own server (SNI allowed.test, verified against its CA) sends "hi"; resolves with the first answer. */
function tlsHi(port: number, from: string): Promise<string> {
  return new Promise<string>((res, rej) => {
    const s = tls.connect({ host: '127.0.0.1', port, localAddress: from, servername: 'allowed.test', ca: tlsCa } as tls.ConnectionOptions);
    s.on('error', rej);
    s.on('secureConnect', () => s.write('hi'));
    s.on('data', (d: Buffer) => {
      res(d.toString());
      s.destroy();
    });
  });
}

before(async () => {
  pki = await makePki();
  frontend = await sourceFor(pki.ca, FRONTEND, pki.bundles);
  intruder = await sourceFor(pki.ca, INTRUDER, pki.bundles);
  const echo = await app((s) => s.on('data', (d: Buffer) => s.write(Buffer.concat([Buffer.from('echo:'), d]))));
  const greeter = await app((s) => {
    s.write('220 hello\r\n');
    s.on('data', (d: Buffer) => s.write(`got:${d.toString('latin1')}`));
  });
  // The app's own TLS server (its certificate names allowed.test, issued by a CA the client trusts).
  const cert = pemOf(await svidFor(pki.ca, `spiffe://${TD}/tls-app`, ['allowed.test']));
  tlsCa = rootsPem(pki.bundles);
  const tlsServer = tls.createServer({ cert: cert.cert, key: cert.key }, (s) => {
    s.on('error', () => {});
    s.on('data', (d: Buffer) => s.write(`tls:${d.toString('latin1')}`));
  });
  await new Promise<void>((res) => tlsServer.listen(0, '127.0.0.1', res));
  cleanup.add(() => tlsServer.close());
  const tlsPort = (tlsServer.address() as net.AddressInfo).port;
  egressTlsPort = tlsPort;
  egressHttpPort = (await startH1App(cleanup)).port;
  peer.echo = await opaqueInbound(echo, [], echoMetrics);
  peer.greeter = await opaqueInbound(greeter, [greeter]);
  peer.tls = await opaqueInbound(tlsPort);
});

/** Opaque streams to mesh destinations: one row per way the client's outbound decides a connection is TCP. */
const meshRows: { name: string; from: string; dst: OriginalDestination; send: string | undefined; until: (got: string) => boolean; want: string; classified: string }[] = [
  { name: 'a port on the opaque list is TCP over mTLS at once (no byte read first)', from: '127.0.0.11', dst: dst('10.0.0.6', 5432), send: '\x00\x00\x00\x08\x04\xd2\x16\x2f', until: (g) => g.startsWith('echo:'), want: 'echo:\x00\x00\x00\x08\x04\xd2\x16\x2f', classified: 'tcp mesh port' },
  { name: 'non-HTTP first bytes make an opaque stream the peer joins to the original port', from: '127.0.0.12', dst: dst('10.0.0.6', 7000), send: '*1\r\n$4\r\nPING\r\n', until: (g) => g.includes('PING'), want: 'echo:*1\r\n$4\r\nPING\r\n', classified: 'tcp mesh bytes' },
  { name: 'a server-first protocol on an unlisted port is opaque after the detection time', from: '127.0.0.13', dst: dst('10.0.0.6', 7001), send: undefined, until: (g) => g.includes('220'), want: '220 hello\r\n', classified: 'tcp mesh timeout' },
  { name: 'over IPv6: an opaque-list port to an fd00:: address', from: '127.0.0.14', dst: dst('fd00::6', 3306), send: undefined, until: (g) => g.includes('220'), want: '220 hello\r\n', classified: 'tcp mesh port' },
];
for (const row of meshRows) {
  test(`mesh: ${row.name}`, async () => {
    const { port, observer } = await outbound(frontend);
    DESTINATIONS.set(row.from, row.dst);
    const r = await exchange(port, row.from, row.send, row.until);
    assert.equal(r.got, row.want);
    assert.deepEqual(observer.classifiedRows, [row.classified]);
  });
}

test("mesh: the app's own TLS runs inside the mTLS stream, untouched", async () => {
  const { port, observer } = await outbound(frontend);
  DESTINATIONS.set('127.0.0.15', dst('10.0.0.6', 8443));
  const got = await tlsHi(port, '127.0.0.15');
  assert.equal(got, 'tls:hi');
  assert.deepEqual(observer.classifiedRows, ['tls mesh bytes']);
});

test("mesh: the peer's connection check refuses a caller its policy does not allow, before any byte reaches the app", async () => {
  const { port } = await outbound(intruder);
  DESTINATIONS.set('127.0.0.16', dst('10.0.0.6', 5432));
  const r = await exchange(port, '127.0.0.16', '\x00secret');
  assert.deepEqual(r, { got: '', closed: true });
  assert.deepEqual(echoMetrics.decisions.at(-1), { decision: 'deny', peerId: INTRUDER });
});

test('mesh: a server presenting an ID the pin does not expect is refused by the outbound', async () => {
  const { port, logger } = await outbound(frontend, {}, matchId(`spiffe://${TD}/ns/demo/sa/other`));
  DESTINATIONS.set('127.0.0.17', dst('10.0.0.6', 5432));
  const r = await exchange(port, '127.0.0.17', 'secret');
  assert.deepEqual(r, { got: '', closed: true });
  const line = logger.lines.find((l) => l.msg === 'tunnel to destination failed');
  assert.equal(line?.obj['reason'], 'identity_mismatch');
});

test('egress: TLS with an allowed SNI is passed through untouched to that name', async () => {
  const { port, observer, logger } = await outbound(frontend);
  DESTINATIONS.set('127.0.0.21', dst('203.0.113.5', egressTlsPort));
  // The client verifies the app server's own certificate: the sidecar did not terminate TLS.
  const got = await tlsHi(port, '127.0.0.21');
  assert.equal(got, 'tls:hi');
  assert.deepEqual(observer.classifiedRows, ['tls egress bytes']);
  assert.deepEqual(observer.egress, ['allow host tls']);
  const line = logger.lines.find((l) => l.msg === 'egress allowed');
  assert.deepEqual([line?.level, line?.obj['sni'], line?.obj['dst']], ['info', 'allowed.test', `203.0.113.5:${egressTlsPort}`]);
});

test('egress: TLS naming a host nobody allowed is closed and counted', async () => {
  const { port, observer, logger } = await outbound(frontend);
  DESTINATIONS.set('127.0.0.22', dst('203.0.113.5', egressTlsPort));
  const err = await new Promise<Error>((res) => {
    const s = tls.connect({ host: '127.0.0.1', port, localAddress: '127.0.0.22', servername: 'denied.test', ca: tlsCa } as tls.ConnectionOptions);
    s.on('error', res);
    s.on('secureConnect', () => res(new Error('handshake completed')));
  });
  assert.notEqual(err.message, 'handshake completed');
  assert.deepEqual(observer.egress, ['deny no_rule tls']);
  assert.equal(logger.lines.find((l) => l.msg === 'egress denied')?.obj['sni'], 'denied.test');
});

test('egress: opaque TCP to an address no rule allows is closed (default deny)', async () => {
  const { port, observer } = await outbound(frontend);
  DESTINATIONS.set('127.0.0.23', dst('203.0.113.9', 5432));
  const r = await exchange(port, '127.0.0.23', 'x');
  assert.deepEqual(r, { got: '', closed: true });
  assert.deepEqual(observer.egress, ['deny no_rule tcp']);
});

test('egress: a cidr rule on another port does not allow', async () => {
  const { port, observer } = await outbound(frontend);
  DESTINATIONS.set('127.0.0.24', dst('198.51.100.7', 5432));
  const r = await exchange(port, '127.0.0.24', 'x');
  assert.equal(r.closed, true);
  assert.deepEqual(observer.egress, ['deny no_rule tcp']);
});

test('egress: plain HTTP is decided per request by Host; the log has the path without its query', async () => {
  const { port, observer, logger } = await outbound(frontend);
  DESTINATIONS.set('127.0.0.25', dst('203.0.113.5', egressHttpPort));
  const send = (host: string, path: string): Promise<{ got: string; closed: boolean }> =>
    exchange(port, '127.0.0.25', `GET ${path} HTTP/1.1\r\nHost: ${host}\r\nConnection: close\r\n\r\n`);
  const ok = await send(`allowed.test:${egressHttpPort}`, '/orders?token=s3cret');
  assert.match(ok.got, /^HTTP\/1\.1 200 /);
  assert.match(ok.got, /"url":"\/orders\?token=s3cret"/);
  const no = await send(`denied.test:${egressHttpPort}`, '/x?token=s3cret');
  assert.match(no.got, /^HTTP\/1\.1 403 /);
  assert.match(no.got, /egress to "denied\.test:\d+" .* is not allowed/);
  assert.deepEqual(observer.egress, ['allow host http', 'deny no_rule http']);
  const lines = logger.lines.filter((l) => l.msg === 'egress allowed' || l.msg === 'egress denied');
  assert.deepEqual(
    lines.map((l) => [l.level, l.obj['decision'], l.obj['path']]),
    [
      ['info', 'allow', '/orders'],
      ['info', 'deny', '/x'],
    ],
  );
  assert.ok(!JSON.stringify(logger.lines).includes('s3cret'), 'no query string in any log line');
});

test('a destination the guard forbids is closed whatever the rules say', async () => {
  const { port, observer } = await outbound(frontend, { egress: [{ cidr: '169.254.0.0/16' }] });
  DESTINATIONS.set('127.0.0.26', dst('169.254.169.254', 80));
  const r = await exchange(port, '127.0.0.26', 'GET / HTTP/1.1\r\nHost: metadata\r\n\r\n');
  assert.deepEqual(r, { got: '', closed: true });
  assert.deepEqual(observer.egress, ['deny forbidden_address tcp']);
});

test('a connection that was not redirected keeps the explicit behaviour (HTTP by Host)', async () => {
  const { port, observer } = await outbound(frontend);
  const r = await h1Request(port, { headers: { host: 'nowhere.test' } });
  assert.equal(r.status, 503, r.body);
  assert.deepEqual(observer.classifiedRows, []);
});
