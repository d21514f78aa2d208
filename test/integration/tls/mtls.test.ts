/**
 * SPIFFE mTLS over real TLS sockets on 127.0.0.1: mutual authentication,
 * every rejection with its reason on the side that rejects, authorizers,
 * rotation, and http2/https wiring.
 */
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { createHash } from 'node:crypto';
import net from 'node:net';
import tls from 'node:tls';
import https from 'node:https';
import http2 from 'node:http2';
import type { SecureVersion } from 'node:tls';
import {
  MtlsAgent,
  PeerNotAuthorized,
  authorizeAny,
  authorizeId,
  authorizeMemberOf,
  mtlsClientOptions,
  mtlsServer,
  createMtlsServer,
  peerIdentity,
  tlsFailureReason,
  type Authorizer,
  type PeerRejectedEvent,
  type MtlsServerEvents,
} from '../../../sidecar/tls/index.ts';
import { PeerVerificationError } from '../../../sidecar/svid/index.ts';
import { MutableSource, bundleSetOf, caAsLeaf, makeCa, makeLeaf, svidOf, type TestCreds } from '../../support/tls-pki.ts';
import { TlsSockets, type TlsOutcome } from '../../support/tls-exchange.ts';

const HOUR = 3_600_000;
const caA = await makeCa('a.test');
const caB = await makeCa('b.test');
const caX = await makeCa('x.test'); // in no bundle: an unknown authority
const caRsa = await makeCa('rsa.test', 'rsa-2048');
const trusted = bundleSetOf(caA, caB, caRsa);

const serverId = 'spiffe://a.test/server';
const clientId = 'spiffe://a.test/client';

async function sourceFor(ca: Parameters<typeof makeLeaf>[0], id: string, keyType: 'ec-p256' | 'rsa-2048' = 'ec-p256'): Promise<MutableSource> {
  return new MutableSource(svidOf(await makeLeaf(ca, id, { keyType })), trusted);
}

const opened = new TlsSockets();
after(() => opened.close());
const listen = opened.listen.bind(opened);
const exchange = opened.exchange.bind(opened);
type ClientOutcome = Omit<TlsOutcome, 'reply'>;

/** An attached mTLS echo server; resolves the port and the rejection events it emitted. */
async function echoServer(source: MutableSource, authorize: Authorizer) {
  const rejected: PeerRejectedEvent[] = [];
  const accepted: tls.TLSSocket[] = [];
  const server = createMtlsServer({ svidSource: source, bundleSource: source, authorize }, (socket) => {
    accepted.push(socket);
    socket.on('data', (d) => socket.write(`echo:${String(d)}`));
    socket.on('error', () => {});
  });
  server.on('peerRejected', (ev) => rejected.push(ev));
  const port = await listen(server);
  return { server, port, rejected, accepted };
}

function nextRejection(server: MtlsServerEvents): Promise<PeerRejectedEvent> {
  return new Promise((resolve) => server.once('peerRejected', resolve));
}

const cases: { name: string; keyType: 'ec-p256' | 'rsa-2048'; ca: typeof caA; td: string; maxVersion?: SecureVersion }[] = [
  { name: 'EC P-256, TLS 1.3', keyType: 'ec-p256', ca: caA, td: 'a.test' },
  { name: 'EC P-256, TLS 1.2', keyType: 'ec-p256', ca: caA, td: 'a.test', maxVersion: 'TLSv1.2' },
  { name: 'RSA 2048, TLS 1.3', keyType: 'rsa-2048', ca: caRsa, td: 'rsa.test' },
  { name: 'RSA 2048, TLS 1.2', keyType: 'rsa-2048', ca: caRsa, td: 'rsa.test', maxVersion: 'TLSv1.2' },
];
for (const c of cases) {
  test(`mutual authentication: ${c.name}: both sides verify and see each other's ID`, { timeout: 30_000 }, async () => {
    const sid = `spiffe://${c.td}/server`;
    const cid = `spiffe://${c.td}/client`;
    const srv = await sourceFor(c.ca, sid, c.keyType);
    const cli = await sourceFor(c.ca, cid, c.keyType);
    const { port, accepted, rejected } = await echoServer(srv, authorizeId(cid));
    const opts = mtlsClientOptions({ svidSource: cli, bundleSource: cli, authorize: authorizeId(sid), ...(c.maxVersion ? { maxVersion: c.maxVersion } : {}) });
    const out = await exchange(opts, port);
    assert.equal(out.error, undefined);
    assert.equal(out.reply, 'echo:ping');
    assert.equal(out.socket!.getProtocol(), c.maxVersion ?? 'TLSv1.3');
    const id = peerIdentity(accepted[0]!);
    assert.equal(id?.id.toString(), cid);
    const leafDer = cli.getX509Svid().certificates[0]!.der;
    assert.deepEqual(id?.leafDer, leafDer);
    assert.equal(id?.leafSha256Hex, createHash('sha256').update(leafDer).digest('hex'));
    assert.deepEqual(rejected, []);
    out.socket!.destroy();
  });
}

/** Peers that must be refused; `serverSide`/`clientSide` say how each side reports it. */
interface BadPeer {
  readonly name: string;
  readonly creds: () => Promise<TestCreds>;
  readonly serverSide: { reason: string; stage: PeerRejectedEvent['stage'] };
  /** Error code the client gets (Node's OpenSSL code or our x509svid code) and its reason label. */
  readonly clientSide: { code: string; reason: string };
}

const past = { notBefore: new Date(Date.now() - 3 * HOUR), notAfter: new Date(Date.now() - 2 * HOUR) };
const badPeers: BadPeer[] = [
  {
    name: 'expired leaf',
    creds: () => makeLeaf(caA, 'spiffe://a.test/peer', past),
    serverSide: { reason: 'expired', stage: 'verification' },
    clientSide: { code: 'CERT_HAS_EXPIRED', reason: 'expired' },
  },
  {
    name: 'unknown CA',
    creds: () => makeLeaf(caX, 'spiffe://a.test/peer'),
    serverSide: { reason: 'unknown_authority', stage: 'verification' },
    clientSide: { code: 'UNABLE_TO_GET_ISSUER_CERT_LOCALLY', reason: 'unknown_authority' },
  },
  {
    name: 'self-signed leaf with the right URI SAN',
    creds: () => makeLeaf(null, 'spiffe://a.test/peer'),
    serverSide: { reason: 'unknown_authority', stage: 'verification' },
    clientSide: { code: 'DEPTH_ZERO_SELF_SIGNED_CERT', reason: 'unknown_authority' },
  },
  {
    // A bundle root presented as a leaf: OpenSSL (the client's pre-filter)
    // refuses it for TLS because its keyUsage has no digitalSignature; the
    // SPIFFE leaf rules (the server's only check) refuse its root ID first.
    name: 'root CA certificate as leaf',
    creds: async () => caAsLeaf(caA),
    serverSide: { reason: 'root_path', stage: 'verification' },
    clientSide: { code: 'INVALID_PURPOSE', reason: 'invalid_purpose' },
  },
  {
    // A CA certificate OpenSSL accepts as a TLS leaf (digitalSignature set):
    // only the SPIFFE leaf rule (cA=false) catches it.
    name: 'CA certificate with digitalSignature as leaf',
    creds: () => makeLeaf(caA, 'spiffe://a.test/peer', { isCa: true, usages: ['digitalSignature', 'keyCertSign'] }),
    serverSide: { reason: 'leaf_is_ca', stage: 'verification' },
    clientSide: { code: 'x509svid.leaf_is_ca', reason: 'leaf_is_ca' },
  },
  {
    // OpenSSL trusts the union of roots, so this passes the handshake; the
    // peer's own trust domain's bundle (b.test) did not issue it.
    name: 'ID in another trust domain, issued by our CA',
    creds: () => makeLeaf(caA, 'spiffe://b.test/peer'),
    serverSide: { reason: 'unknown_authority', stage: 'verification' },
    clientSide: { code: 'x509svid.unknown_authority', reason: 'unknown_authority' },
  },
  {
    name: 'ID in a trust domain with no bundle',
    creds: () => makeLeaf(caA, 'spiffe://c.test/peer'),
    serverSide: { reason: 'no_bundle', stage: 'verification' },
    clientSide: { code: 'x509svid.no_bundle', reason: 'no_bundle' },
  },
  {
    name: 'trust domain ID (no path) as leaf ID',
    creds: () => makeLeaf(caA, 'spiffe://a.test'),
    serverSide: { reason: 'root_path', stage: 'verification' },
    clientSide: { code: 'x509svid.root_path', reason: 'root_path' },
  },
];

for (const row of badPeers) {
  test(`server refuses a bad client: ${row.name} → ${row.serverSide.stage} ${row.serverSide.reason}`, { timeout: 30_000 }, async () => {
    const srv = await sourceFor(caA, serverId);
    const { server, port, accepted } = await echoServer(srv, authorizeAny());
    const creds = await row.creds();
    const rejection = nextRejection(server);
    // A raw client that presents the bad certificate and does not check the server.
    const out = await exchange({ cert: creds.certPem, key: creds.keyPem, rejectUnauthorized: false }, port);
    const ev = await rejection;
    assert.equal(ev.reason, row.serverSide.reason);
    assert.equal(ev.stage, row.serverSide.stage);
    assert.equal(tlsFailureReason(ev.error), row.serverSide.reason);
    assert.equal(out.reply, undefined, 'the refused client got no reply');
    assert.equal(accepted.length, 0, 'the application never saw the socket');
  });
}

test('server refuses a bad client: client without a certificate → verification no_certificate; the handshake completes, then the socket is closed unread', { timeout: 30_000 }, async () => {
  const srv = await sourceFor(caA, serverId);
  const { server, port, accepted } = await echoServer(srv, authorizeAny());
  const rejection = nextRejection(server);
  const out = await exchange({ rejectUnauthorized: false }, port);
  const ev = await rejection;
  assert.equal(ev.reason, 'no_certificate');
  assert.equal(ev.stage, 'verification');
  assert.equal(tlsFailureReason(ev.error), 'no_certificate');
  // RFC 8446 §4.4.2.4: the server may continue without client authentication and decide afterwards.
  assert.equal(out.sawSecureConnect, true);
  assert.equal(out.reply, undefined);
  assert.equal(accepted.length, 0);
});

test('server refuses a bad client: authorizer refuses → authorization not_authorized with expected and presented IDs', { timeout: 30_000 }, async () => {
  const srv = await sourceFor(caA, serverId);
  const cli = await sourceFor(caA, 'spiffe://a.test/intruder');
  const { server, port, accepted } = await echoServer(srv, authorizeId(clientId));
  const rejection = nextRejection(server);
  const out = await exchange(mtlsClientOptions({ svidSource: cli, bundleSource: cli, authorize: authorizeId(serverId) }), port);
  const ev = await rejection;
  assert.equal(ev.stage, 'authorization');
  assert.equal(ev.reason, 'not_authorized');
  assert.equal(ev.presentedId, 'spiffe://a.test/intruder');
  assert.ok(ev.error instanceof PeerNotAuthorized);
  assert.equal(ev.error.expected, clientId);
  assert.equal(ev.error.message, `tls: peer not authorized: unexpected ID "spiffe://a.test/intruder", want ${clientId}`);
  assert.equal(out.reply, undefined);
  assert.equal(accepted.length, 0);
});

test('server refuses a bad client: TLS 1.3: the client finishes first; the server sees the certificate at secureConnection and reads nothing from a refused client', { timeout: 30_000 }, async () => {
  const srv = await sourceFor(caA, serverId);
  const cli = await sourceFor(caA, 'spiffe://a.test/intruder');
  const m = mtlsServer({ svidSource: srv, bundleSource: srv, authorize: authorizeId(clientId) });
  let appBytes = 0;
  let appConnections = 0;
  const server = m.attach(
    tls.createServer(m.options, (s) => {
      appConnections++;
      s.on('data', (d) => (appBytes += d.length));
    }),
  );
  const order: string[] = [];
  server.prependListener('secureConnection', () => order.push('server secureConnection (not expected)'));
  server.on('peerRejected', () => order.push('server peerRejected'));
  const port = await listen(server);
  const out = await new Promise<ClientOutcome>((resolve) => {
    let saw = false;
    const s = tls.connect({ ...mtlsClientOptions({ svidSource: cli, bundleSource: cli, authorize: authorizeId(serverId) }), host: '127.0.0.1', port });
    s.on('secureConnect', () => {
      saw = true;
      order.push(`client secureConnect ${s.getProtocol()}`);
      s.write('application data sent right after the client finished');
    });
    s.on('error', (error) => resolve({ error, sawSecureConnect: saw }));
    s.on('close', () => resolve({ sawSecureConnect: saw }));
  });
  assert.equal(out.sawSecureConnect, true, 'TLS 1.3 client completes before the server judged its certificate');
  assert.deepEqual(order, ['client secureConnect TLSv1.3', 'server peerRejected']);
  assert.equal(appConnections, 0);
  assert.equal(appBytes, 0);
});

for (const row of badPeers) {
  test(`client refuses a bad server: ${row.name} → ${row.clientSide.code}`, { timeout: 30_000 }, async () => {
    const creds = await row.creds();
    const server = tls.createServer({ cert: creds.certPem, key: creds.keyPem }, (s) => s.on('error', () => {}).end('should not be read'));
    const port = await listen(server);
    const cli = await sourceFor(caA, clientId);
    const out = await exchange(mtlsClientOptions({ svidSource: cli, bundleSource: cli, authorize: authorizeAny() }), port);
    assert.equal(out.sawSecureConnect, false);
    assert.equal(out.error?.code, row.clientSide.code);
    assert.equal(tlsFailureReason(out.error), row.clientSide.reason);
    if (row.clientSide.code.startsWith('x509svid.')) assert.ok(out.error instanceof PeerVerificationError);
  });
}

test('client refuses a bad server: authorizer refuses → PeerNotAuthorized naming expected and presented IDs', { timeout: 30_000 }, async () => {
  const srv = await sourceFor(caA, serverId);
  const cli = await sourceFor(caA, clientId);
  const { port, accepted } = await echoServer(srv, authorizeAny());
  const out = await exchange(mtlsClientOptions({ svidSource: cli, bundleSource: cli, authorize: authorizeId('spiffe://a.test/backend') }), port);
  assert.ok(out.error instanceof PeerNotAuthorized);
  assert.equal(out.error.code, 'tls.peer_not_authorized');
  assert.equal(out.error.presentedId, serverId);
  assert.equal(out.error.expected, 'spiffe://a.test/backend');
  assert.match(out.error.message, /unexpected ID "spiffe:\/\/a\.test\/server", want spiffe:\/\/a\.test\/backend/);
  assert.equal(out.sawSecureConnect, false);
  // The server completed its side (TLS 1.3) but the client never sent data.
  assert.ok(accepted.length <= 1);
});

test('client refuses a bad server: authorizeMemberOf accepts any ID of the trust domain only', { timeout: 30_000 }, async () => {
  const srv = await sourceFor(caB, 'spiffe://b.test/api');
  const cli = await sourceFor(caA, clientId);
  const { port } = await echoServer(srv, authorizeMemberOf('a.test'));
  const ok = await exchange(mtlsClientOptions({ svidSource: cli, bundleSource: cli, authorize: authorizeMemberOf('b.test') }), port);
  assert.equal(ok.reply, 'echo:ping');
  ok.socket!.destroy();
  const no = await exchange(mtlsClientOptions({ svidSource: cli, bundleSource: cli, authorize: authorizeMemberOf('a.test') }), port);
  assert.ok(no.error instanceof PeerNotAuthorized);
});

test('rotation: server: the next handshake presents the new SVID, an open connection keeps working', { timeout: 30_000 }, async () => {
  const srv = await sourceFor(caA, serverId);
  const cli = await sourceFor(caA, clientId);
  const { port } = await echoServer(srv, authorizeAny());
  const opts = mtlsClientOptions({ svidSource: cli, bundleSource: cli, authorize: authorizeId(serverId) });
  const first = await exchange(opts, port);
  const serial1 = first.socket!.getPeerCertificate().serialNumber;
  assert.equal(serial1, srv.getX509Svid().certificates[0]!.serialNumber);

  const rotated = svidOf(await makeLeaf(caA, serverId));
  srv.setSvid(rotated);
  const second = await exchange(opts, port);
  const serial2 = second.socket!.getPeerCertificate().serialNumber;
  assert.equal(serial2, rotated.certificates[0]!.serialNumber);
  assert.notEqual(serial2, serial1);

  // The connection made before the rotation still carries traffic.
  first.socket!.write('still-there');
  const [d] = (await once(first.socket!, 'data')) as [Buffer];
  assert.equal(String(d), 'echo:still-there');
  first.socket!.destroy();
  second.socket!.destroy();
});

test('rotation: client: the next connection presents the new SVID', { timeout: 30_000 }, async () => {
  const srv = await sourceFor(caA, serverId);
  const cli = await sourceFor(caA, clientId);
  const { port, accepted } = await echoServer(srv, authorizeAny());
  const opts = mtlsClientOptions({ svidSource: cli, bundleSource: cli, authorize: authorizeAny() });
  const a = await exchange(opts, port);
  const rotated = svidOf(await makeLeaf(caA, clientId));
  cli.setSvid(rotated);
  const b = await exchange(opts, port);
  const serials = accepted.map((s) => s.getPeerCertificate().serialNumber);
  assert.deepEqual(serials, [serials[0], rotated.certificates[0]!.serialNumber]);
  assert.notEqual(serials[0], serials[1]);
  a.socket!.destroy();
  b.socket!.destroy();
});

test('rotation: bundle change: a root removed from the bundle set stops new handshakes from its clients', { timeout: 30_000 }, async () => {
  const srv = await sourceFor(caA, serverId);
  const cli = await sourceFor(caB, 'spiffe://b.test/client');
  const { server, port } = await echoServer(srv, authorizeAny());
  const opts = mtlsClientOptions({ svidSource: cli, bundleSource: cli, authorize: authorizeAny() });
  const ok = await exchange(opts, port);
  assert.equal(ok.reply, 'echo:ping');
  srv.setBundles(bundleSetOf(caA));
  const rejection = nextRejection(server);
  const no = await exchange(opts, port);
  assert.equal(no.reply, undefined);
  assert.equal((await rejection).reason, 'no_bundle');
  ok.socket!.destroy();
});

test('rotation: the secure context is rebuilt only when the SVID or bundle set changed', { timeout: 30_000 }, async () => {
  const srv = await sourceFor(caA, serverId);
  const m = mtlsServer({ svidSource: srv, bundleSource: srv, authorize: authorizeAny() });
  const g1 = m.store.snapshot();
  const c1 = m.store.current();
  assert.equal(m.store.snapshot(), g1);
  assert.equal(m.store.current(), c1);
  srv.setSvid(svidOf(await makeLeaf(caA, serverId)));
  assert.equal(m.store.snapshot().generation, g1.generation + 1);
  assert.notEqual(m.store.current(), c1);
});

test('not TLS: plaintext to the TLS port gets no application response', { timeout: 30_000 }, async () => {
  const srv = await sourceFor(caA, serverId);
  const { server, port, accepted } = await echoServer(srv, authorizeAny());
  const tlsErrors: string[] = [];
  server.on('tlsClientError', (e: Error & { code?: string }) => tlsErrors.push(e.code ?? e.message));
  const sock = net.connect(port, '127.0.0.1');
  sock.write('GET / HTTP/1.1\r\nHost: x\r\n\r\n');
  let got = '';
  sock.on('data', (d) => (got += d.toString('latin1')));
  await once(sock, 'close');
  assert.doesNotMatch(got, /HTTP|echo/);
  assert.equal(accepted.length, 0);
  assert.equal(tlsErrors.length, 1);
});

test('not TLS: a client that connects and never starts a handshake is closed at handshakeTimeout', { timeout: 30_000 }, async () => {
  const srv = await sourceFor(caA, serverId);
  const m = mtlsServer({ svidSource: srv, bundleSource: srv, authorize: authorizeAny() });
  const server = m.attach(tls.createServer({ ...m.options, handshakeTimeout: 200 }));
  const port = await listen(server);
  const sock = net.connect(port, '127.0.0.1');
  opened.track(sock);
  sock.on('error', () => {});
  const closed = once(sock, 'close').then(() => true);
  const stillOpen = new Promise<boolean>((r) => setTimeout(() => r(false), 5_000).unref());
  assert.equal(await Promise.race([closed, stillOpen]), true, 'the silent socket was never closed by the server');
});

test('failing sources fail closed: client: a bundle source that throws refuses the server instead of crashing', { timeout: 30_000 }, async () => {
  const srv = await sourceFor(caA, serverId);
  const cli = await sourceFor(caA, clientId);
  const { port } = await echoServer(srv, authorizeAny());
  let calls = 0;
  const opts = mtlsClientOptions({
    svidSource: cli,
    bundleSource: () => {
      // The first read builds the secure context; later ones (the check) fail.
      if (calls++ === 0) return trusted;
      throw new Error('source closed');
    },
    authorize: authorizeAny(),
  });
  const out = await exchange(opts, port);
  assert.equal(out.error?.message, 'source closed');
  assert.equal(out.sawSecureConnect, false);
});

test('failing sources fail closed: server: an authorizer that throws → verification_error; no SVID any more → new connections are closed', { timeout: 30_000 }, async () => {
  const srv = await sourceFor(caA, serverId);
  const cli = await sourceFor(caA, clientId);
  let withdrawn = false;
  const m = mtlsServer({
    svidSource: {
      getX509Svid: () => {
        if (withdrawn) throw new Error('no identity issued');
        return srv.getX509Svid();
      },
    },
    bundleSource: srv,
    authorize: () => {
      throw new Error('policy store unavailable');
    },
  });
  const server = m.attach(tls.createServer(m.options, (s) => s.on('error', () => {}).end('hi')));
  const port = await listen(server);
  const opts = mtlsClientOptions({ svidSource: cli, bundleSource: cli, authorize: authorizeAny() });

  const rejection = nextRejection(server);
  const a = await exchange(opts, port);
  assert.equal(a.reply, undefined);
  const ev = await rejection;
  assert.equal(ev.reason, 'verification_error');
  assert.equal(ev.error.message, 'policy store unavailable');

  withdrawn = true;
  const b = await exchange(opts, port);
  assert.equal(b.sawSecureConnect, false);
  assert.equal(b.reply, undefined);
});

test('http2 and https: http2.createSecureServer + http2.connect with ALPN h2; the handler reads the caller identity', { timeout: 30_000 }, async () => {
  const srv = await sourceFor(caA, serverId);
  const cli = await sourceFor(caA, clientId);
  const m = mtlsServer({ svidSource: srv, bundleSource: srv, authorize: authorizeId(clientId), alpn: ['h2'] });
  const server = m.attach(
    http2.createSecureServer(m.options, (req, res) => {
      res.end(JSON.stringify({ alpn: (req.socket as tls.TLSSocket).alpnProtocol, peer: peerIdentity(req.socket)?.id.toString() }));
    }),
  );
  const port = await listen(server);
  const session = http2.connect(`https://127.0.0.1:${port}`, mtlsClientOptions({ svidSource: cli, bundleSource: cli, authorize: authorizeId(serverId) }));
  session.on('error', () => {});
  const req = session.request({ ':path': '/' });
  req.end();
  let body = '';
  req.setEncoding('utf8').on('data', (d: string) => (body += d));
  await once(req, 'end');
  assert.deepEqual(JSON.parse(body), { alpn: 'h2', peer: clientId });
  session.close();
});

test('http2 and https: http2: a refused client never creates a session', { timeout: 30_000 }, async () => {
  const srv = await sourceFor(caA, serverId);
  const cli = await sourceFor(caA, 'spiffe://a.test/intruder');
  const m = mtlsServer({ svidSource: srv, bundleSource: srv, authorize: authorizeId(clientId), alpn: ['h2'] });
  let sessions = 0;
  const server = m.attach(http2.createSecureServer(m.options, (_req, res) => res.end('no')));
  server.on('session', () => sessions++);
  const port = await listen(server);
  const rejection = nextRejection(server);
  const session = http2.connect(`https://127.0.0.1:${port}`, mtlsClientOptions({ svidSource: cli, bundleSource: cli, authorize: authorizeId(serverId) }));
  session.on('error', () => {});
  const ev = await rejection;
  assert.equal(ev.reason, 'not_authorized');
  session.destroy();
  assert.equal(sessions, 0);
});

test('http2 and https: https with MtlsAgent: keep-alive pooling, identity in the handler, no session resumption', { timeout: 30_000 }, async () => {
  const srv = await sourceFor(caA, serverId);
  const cli = await sourceFor(caA, clientId);
  const m = mtlsServer({ svidSource: srv, bundleSource: srv, authorize: authorizeId(clientId) });
  const resumed: boolean[] = [];
  const server = m.attach(
    https.createServer(m.options, (req, res) => {
      resumed.push((req.socket as tls.TLSSocket).isSessionReused());
      res.end(peerIdentity(req.socket)?.id.toString());
    }),
  );
  const port = await listen(server);
  const get = (agent: https.Agent): Promise<string> =>
    new Promise((resolve, reject) => {
      https
        .get({ host: '127.0.0.1', port, path: '/', agent }, (res) => {
          let b = '';
          res.setEncoding('utf8').on('data', (d: string) => (b += d));
          res.on('end', () => resolve(b));
        })
        .on('error', reject);
    });
  const agent = new MtlsAgent({ svidSource: cli, bundleSource: cli, authorize: authorizeId(serverId) }, { keepAlive: false });
  assert.equal(await get(agent), clientId);
  assert.equal(await get(agent), clientId);
  assert.deepEqual(resumed, [false, false]);
  agent.destroy();

  const wrong = new MtlsAgent({ svidSource: cli, bundleSource: cli, authorize: authorizeId('spiffe://a.test/other') });
  await assert.rejects(get(wrong), (err: Error) => err instanceof PeerNotAuthorized);
  wrong.destroy();
});
