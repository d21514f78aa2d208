/**
 * X509-SVIDs issued through an intermediate CA, over real TLS on 127.0.0.1:
 * the peer sends [leaf, intermediate] and the bundle holds only the root,
 * as with a SPIRE server behind an UpstreamAuthority. Both directions
 * (server verifying client, client verifying server), TLS 1.2 and 1.3, at
 * the tls helper level and through the real outbound and inbound proxies,
 * with SVIDs served by the dev agent CLI with `--intermediate`. Chains that
 * must not verify are refused on both sides.
 *
 * Regression guard for nodejs/node#65579: on Node 24.21 a TLS server that
 * lets OpenSSL verify the client loses the client's intermediates before
 * 'secureConnection' (docs/decisions/009-peer-chain.md).
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { createHash } from 'node:crypto';
import https from 'node:https';
import tls, { type SecureVersion } from 'node:tls';
import { X509BundleSet } from '../../../sidecar/bundle/index.ts';
import { PeerVerificationError, type CertificateInfo, type X509Svid } from '../../../sidecar/svid/index.ts';
import {
  authorizeAny,
  authorizeId,
  createMtlsServer,
  mtlsClientOptions,
  mtlsServer,
  peerIdentity,
  tlsFailureReason,
  type Authorizer,
  type PeerRejectedEvent,
} from '../../../sidecar/tls/index.ts';
import { X509Source } from '../../../sidecar/workload/index.ts';
import { spawnDevAgent } from '../../support/dev-agent-process.ts';
import { BACKEND_ID, FRONTEND_ID, startMesh } from '../forward/mesh.ts';
import { Cleanup, eventually, h1Request, makePki, startH1App, type Pki } from '../../support/proxy-fixtures.ts';
import { MutableSource, bundleSetOf, makeCa, makeIntermediate, makeLeaf, svidOf, withChain, type TestCreds } from '../../support/tls-pki.ts';
import { TlsSockets, type TlsOutcome } from '../../support/tls-exchange.ts';

const VERSIONS: readonly SecureVersion[] = ['TLSv1.2', 'TLSv1.3'];

const cleanup = new Cleanup();
const opened = new TlsSockets();
after(async () => {
  opened.close();
  await cleanup.run();
});
const listen = opened.listen.bind(opened);
const exchange = (opts: tls.ConnectionOptions, port: number): Promise<TlsOutcome> => opened.exchange(opts, port);

/** An authorizer that allows `id` and keeps the verified chains it was shown. */
function recording(id: string): Authorizer & { chains: (readonly CertificateInfo[])[] } {
  const inner = authorizeId(id);
  const chains: (readonly CertificateInfo[])[] = [];
  const fn = (peerId: Parameters<Authorizer>[0], chain: readonly CertificateInfo[]) => {
    chains.push(chain);
    return inner(peerId, chain);
  };
  return Object.assign(fn, { chains, description: inner.description ?? id });
}

// The dev agent as a real process, issuing through an intermediate: the
// SVIDs every positive test below presents.
let frontendSource: X509Source;
let backendSource: X509Source;
let agentBundles: X509BundleSet;

before(async () => {
  const agent = await spawnDevAgent({
    workloads: { frontend: [FRONTEND_ID], backend: [BACKEND_ID] },
    stateDir: false,
    extraArgs: ['--intermediate'],
    cleanup: { after: (fn) => cleanup.add(fn) },
  });
  assert.equal(agent.events.find((e) => e.event === 'ready')?.['intermediate'], true);
  frontendSource = await X509Source.create({ address: agent.address('frontend'), timeoutMs: 10_000 });
  cleanup.add(() => frontendSource.close());
  backendSource = await X509Source.create({ address: agent.address('backend'), timeoutMs: 10_000 });
  cleanup.add(() => backendSource.close());
  agentBundles = frontendSource.bundles();
});

test('dev agent --intermediate: the Workload API serves leaf + intermediate, and the bundle holds only the root', () => {
  for (const source of [frontendSource, backendSource]) {
    const svid = source.getX509Svid();
    assert.equal(svid.certificates.length, 2);
    const [leaf, intermediate] = svid.certificates as [CertificateInfo, CertificateInfo];
    const roots = source.bundles().get(svid.id.trustDomain)!.authorities;
    assert.equal(roots.length, 1);
    assert.equal(intermediate.isCa, true);
    assert.ok(!roots.some((r) => r.der.equals(intermediate.der)), 'the intermediate is not a trust anchor');
    assert.ok(leaf.x509.verify(intermediate.publicKey), 'the leaf is signed by the intermediate');
    assert.ok(!leaf.x509.verify(roots[0]!.publicKey), 'not by the root');
    assert.ok(intermediate.x509.verify(roots[0]!.publicKey), 'the intermediate is signed by the root');
  }
});

// A second trust domain whose SVIDs come straight from its root, so each
// direction can be shown on its own.
let plainCa: Awaited<ReturnType<typeof makeCa>>;
let trusted: X509BundleSet;
// Made once, by the first test that needs it. Not a before(): node:test runs a top-level
// before() as soon as it is registered, before the one above has the agent's bundles.
let plainSetUp: Promise<void> | undefined;
const withPlainCa = (): Promise<void> =>
  (plainSetUp ??= (async () => {
    plainCa = await makeCa('plain.test');
    trusted = X509BundleSet.of([...agentBundles, plainCa.bundle]);
  })());

const sides = [
  { name: 'server and client chained', serverChained: true, clientChained: true },
  { name: 'server chained, client issued by its root', serverChained: true, clientChained: false },
  { name: 'client chained, server issued by its root', serverChained: false, clientChained: true },
];
for (const version of VERSIONS) {
  for (const side of sides) {
    test(`tls helpers: chained SVIDs verify in both directions: ${version}: ${side.name}`, { timeout: 60_000 }, async () => {
      await withPlainCa();
      const serverSvid: X509Svid = side.serverChained ? backendSource.getX509Svid() : svidOf(await makeLeaf(plainCa, 'spiffe://plain.test/server'));
      const clientSvid: X509Svid = side.clientChained ? frontendSource.getX509Svid() : svidOf(await makeLeaf(plainCa, 'spiffe://plain.test/client'));
      const srv = new MutableSource(serverSvid, trusted);
      const cli = new MutableSource(clientSvid, trusted);
      const serverAuthz = recording(clientSvid.id.toString());
      const clientAuthz = recording(serverSvid.id.toString());
      const accepted: tls.TLSSocket[] = [];
      const rejected: PeerRejectedEvent[] = [];
      const server = createMtlsServer({ svidSource: srv, bundleSource: srv, authorize: serverAuthz, maxVersion: version }, (s) => {
        accepted.push(s);
        s.on('error', () => {});
        s.on('data', (d) => s.write(`echo:${String(d)}`));
      });
      server.on('peerRejected', (ev) => rejected.push(ev));
      const port = await listen(server);
      const out = await exchange(mtlsClientOptions({ svidSource: cli, bundleSource: cli, authorize: clientAuthz, maxVersion: version }), port);
      assert.equal(out.error, undefined, String(out.error));
      assert.deepEqual(rejected, []);
      assert.equal(out.reply, 'echo:ping');
      assert.equal(out.socket!.getProtocol(), version);
      assert.equal(peerIdentity(accepted[0]!)?.id.toString(), clientSvid.id.toString());
      assert.equal(accepted[0]!.authorized, true, 'the SPIFFE check authorized the socket');
      // Each side verified the chain its peer sent: leaf, the peer's own intermediate if any, a root of the bundle.
      for (const [authz, svid] of [
        [serverAuthz, clientSvid],
        [clientAuthz, serverSvid],
      ] as const) {
        const chain = authz.chains[0]!;
        assert.equal(chain.length, svid.certificates.length + 1);
        svid.certificates.forEach((c, i) => assert.ok(chain[i]!.der.equals(c.der), `verified chain[${i}] is what the peer sent`));
      }
      out.socket!.destroy();
    });
  }
}

/** A chain that must be refused, with how each side reports it. */
interface BadChain {
  readonly name: string;
  readonly creds: () => Promise<TestCreds>;
  /** PeerRejectedEvent reason on the server (stage 'verification'). */
  readonly server: string;
  /** The client's error code (OpenSSL's pre-filter or our x509svid code) and its reason label. */
  readonly client: { code: string; reason: string };
}

let caA: Awaited<ReturnType<typeof makeCa>>;
let caB: Awaited<ReturnType<typeof makeCa>>;
let caX: Awaited<ReturnType<typeof makeCa>>;
let bundles: X509BundleSet;
let okSource: MutableSource;
before(async () => {
  caA = await makeCa('a.test');
  caB = await makeCa('b.test');
  caX = await makeCa('a.test'); // claims a.test but is in no bundle
  bundles = bundleSetOf(caA, caB);
  okSource = new MutableSource(svidOf(await makeLeaf(await makeIntermediate(caA), 'spiffe://a.test/ok')), bundles);
}, { timeout: 60_000 });
const peer = 'spiffe://a.test/peer';
const rows: BadChain[] = [
  {
    name: "intermediate not signed by the bundle's root",
    creds: async () => makeLeaf(await makeIntermediate(caX), peer),
    server: 'unknown_authority',
    client: { code: 'UNABLE_TO_GET_ISSUER_CERT_LOCALLY', reason: 'unknown_authority' },
  },
  {
    name: 'intermediate with basicConstraints cA=false',
    creds: async () => makeLeaf(await makeIntermediate(caA, { ca: false }), peer),
    server: 'intermediate_not_ca',
    // OpenSSL's pre-filter on the client: a non-CA cannot serve the TLS server purpose as an issuer.
    client: { code: 'INVALID_PURPOSE', reason: 'invalid_purpose' },
  },
  {
    name: 'intermediate without a basicConstraints extension',
    creds: async () => makeLeaf(await makeIntermediate(caA, { ca: 'absent' }), peer),
    server: 'intermediate_not_ca',
    client: { code: 'INVALID_CA', reason: 'invalid_ca' },
  },
  {
    name: 'leaf signed by an intermediate missing from the chain',
    creds: async () => {
      const full = await makeLeaf(await makeIntermediate(caA), peer);
      return withChain(full, []);
    },
    server: 'unknown_authority',
    client: { code: 'UNABLE_TO_GET_ISSUER_CERT_LOCALLY', reason: 'unknown_authority' },
  },
  {
    // Every root passes OpenSSL's union check; the peer's own trust domain (b.test) did not issue it.
    name: "ID in b.test through an intermediate of a.test's root",
    creds: async () => makeLeaf(await makeIntermediate(caA), 'spiffe://b.test/peer'),
    server: 'unknown_authority',
    client: { code: 'x509svid.unknown_authority', reason: 'unknown_authority' },
  },
];

for (const version of VERSIONS) {
  for (const row of rows) {
    test(`chains that must be refused: ${version}: server refuses a client with ${row.name} (${row.server})`, { timeout: 60_000 }, async () => {
      const accepted: tls.TLSSocket[] = [];
      const server = createMtlsServer({ svidSource: okSource, bundleSource: okSource, authorize: authorizeAny(), maxVersion: version }, (s) => {
        accepted.push(s);
        s.on('error', () => {});
        s.write('should not be sent');
      });
      const port = await listen(server);
      const rejection = new Promise<PeerRejectedEvent>((r) => server.once('peerRejected', r));
      const creds = await row.creds();
      const out = await exchange({ cert: creds.certPem, key: creds.keyPem, rejectUnauthorized: false, maxVersion: version }, port);
      const ev = await rejection;
      assert.equal(ev.reason, row.server);
      assert.equal(ev.stage, 'verification');
      assert.ok(ev.error instanceof PeerVerificationError);
      assert.equal(out.reply, undefined);
      assert.equal(accepted.length, 0, 'the application never saw the socket');
    });

    test(`chains that must be refused: ${version}: client refuses a server with ${row.name} (${row.client.code})`, { timeout: 60_000 }, async () => {
      const creds = await row.creds();
      const server = tls.createServer({ cert: creds.certPem, key: creds.keyPem, maxVersion: version }, (s) => s.on('error', () => {}).end('should not be read'));
      const port = await listen(server);
      const out = await exchange(mtlsClientOptions({ svidSource: okSource, bundleSource: okSource, authorize: authorizeAny(), maxVersion: version }), port);
      assert.equal(out.reply, undefined);
      assert.equal(out.error?.code, row.client.code);
      assert.equal(tlsFailureReason(out.error), row.client.reason);
    });
  }
}

let pki: Pki;
before(async () => {
  pki = await makePki();
}, { timeout: 60_000 });

test('through the outbound and inbound proxies: TLS 1.3: caller app → outbound → inbound → app, both sidecars with chained SVIDs from the dev agent', { timeout: 60_000 }, async () => {
  const app = await startH1App(cleanup);
  const m = await startMesh(pki, cleanup, { appPort: app.port, frontend: frontendSource, backend: backendSource });
  const r = await h1Request(m.outboundPort, { headers: { host: 'backend' } });
  assert.equal(r.status, 200, r.body);
  const seen = app.seen.at(-1)!;
  assert.equal(seen.headers['x-client-spiffe-id'], FRONTEND_ID);
  const hash = createHash('sha256').update(frontendSource.getX509Svid().certificates[0]!.der).digest('hex');
  assert.equal(seen.headers['x-forwarded-client-cert'], `By=${BACKEND_ID};Hash=${hash};URI=${FRONTEND_ID}`);
  assert.equal(m.outMetrics.requests.at(-1)?.peerId, BACKEND_ID);
  assert.deepEqual(m.inMetrics.handshakeErrors, []);
  assert.deepEqual(m.outMetrics.handshakeErrors, []);
});

test('through the outbound and inbound proxies: TLS 1.2: the inbound proxy verifies a chained client SVID', { timeout: 60_000 }, async () => {
  const app = await startH1App(cleanup);
  const m = await startMesh(pki, cleanup, { appPort: app.port, frontend: frontendSource, backend: backendSource });
  const opts = mtlsClientOptions({ svidSource: frontendSource, bundleSource: frontendSource, authorize: authorizeId(BACKEND_ID), alpn: ['http/1.1'], maxVersion: 'TLSv1.2' });
  const socket = tls.connect({ ...opts, host: '127.0.0.1', port: m.inboundPort });
  opened.track(socket);
  await once(socket, 'secureConnect');
  assert.equal(socket.getProtocol(), 'TLSv1.2');
  socket.write('GET /tls12 HTTP/1.1\r\nHost: backend\r\nConnection: close\r\n\r\n');
  let response = '';
  socket.setEncoding('utf8').on('data', (d: string) => (response += d));
  await once(socket, 'end');
  assert.match(response, /^HTTP\/1\.1 200/);
  assert.equal(app.seen.at(-1)?.url, '/tls12');
  assert.equal(app.seen.at(-1)?.headers['x-client-spiffe-id'], FRONTEND_ID);
  assert.deepEqual(m.inMetrics.handshakeErrors, []);
});

test('through the outbound and inbound proxies: TLS 1.2: the outbound proxy verifies a chained server SVID', { timeout: 60_000 }, async () => {
  // The upstream is an HTTPS server limited to TLS 1.2 with the backend's chained SVID.
  const upstream = mtlsServer({ svidSource: backendSource, bundleSource: backendSource, authorize: authorizeId(FRONTEND_ID), maxVersion: 'TLSv1.2', alpn: ['http/1.1'] });
  const server = upstream.attach(
    https.createServer(upstream.options, (req, res) => {
      res.setHeader('content-type', 'application/json');
      res.end(JSON.stringify({ protocol: (req.socket as tls.TLSSocket).getProtocol(), peer: peerIdentity(req.socket)?.id.toString() }));
    }),
  );
  const port = await listen(server);
  const app = await startH1App(cleanup);
  const m = await startMesh(pki, cleanup, { appPort: app.port, frontend: frontendSource, backend: backendSource, upstream: { address: { host: '127.0.0.1', port } } });
  const r = await h1Request(m.outboundPort, { headers: { host: 'backend' } });
  assert.equal(r.status, 200, r.body);
  assert.deepEqual(JSON.parse(r.body), { protocol: 'TLSv1.2', peer: FRONTEND_ID });
  assert.equal(m.outMetrics.requests.at(-1)?.peerId, BACKEND_ID);
  assert.deepEqual(m.outMetrics.handshakeErrors, []);
});

test('through the outbound and inbound proxies: the inbound proxy refuses a chained SVID sent without its intermediate, counted as unknown_authority', { timeout: 60_000 }, async () => {
  const app = await startH1App(cleanup);
  const m = await startMesh(pki, cleanup, { appPort: app.port, frontend: frontendSource, backend: backendSource });
  const svid = frontendSource.getX509Svid();
  const socket = tls.connect({
    host: '127.0.0.1',
    port: m.inboundPort,
    cert: svid.certificates[0]!.x509.toString(),
    key: svid.privateKeyPem(),
    rejectUnauthorized: false,
    ALPNProtocols: ['http/1.1'],
  });
  opened.track(socket);
  socket.on('error', () => {});
  socket.on('secureConnect', () => socket.write('GET / HTTP/1.1\r\nHost: backend\r\n\r\n'));
  let response = '';
  socket.setEncoding('utf8').on('data', (d: string) => (response += d));
  await once(socket, 'close');
  assert.equal(response, '');
  await eventually(() => m.inMetrics.handshakeErrors.length > 0, 5000, 'refusal counted');
  assert.deepEqual(m.inMetrics.handshakeErrors, [{ direction: 'inbound', reason: 'unknown_authority' }]);
  assert.equal(app.seen.length, 0);
});
