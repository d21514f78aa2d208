/**
 * The inbound listener refuses every client that does not present a valid
 * X509-SVID, at the handshake or right after it and before any request byte
 * reaches the app, and counts each refusal by reason.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import net from 'node:net';
import tls from 'node:tls';
import {
  Cleanup,
  RecordingMetrics,
  TD,
  badCreds,
  eventually,
  makePki,
  pemOf,
  rootsPem,
  sourceFor,
  startH1App,
  svidFor,
  type PemCreds,
  type Pki,
} from '../../support/proxy-fixtures.ts';
import { startInbound } from '../../support/inbound-fixture.ts';

const cleanup = new Cleanup();
after(() => cleanup.run());

let pki: Pki;
let port: number;
let metrics: RecordingMetrics;
let app: Awaited<ReturnType<typeof startH1App>>;

before(async () => {
  pki = await makePki();
  const server = await sourceFor(pki.ca, `spiffe://${TD}/backend`, pki.bundles);
  app = await startH1App(cleanup);
  metrics = new RecordingMetrics();
  port = await startInbound(cleanup, server, app.port, { metrics });
});

/** Connects with `creds` (or none), sends a request, and reports what came back. */
function attempt(creds: PemCreds | undefined): Promise<{ response: string; error?: string }> {
  return new Promise((resolve) => {
    let response = '';
    const socket = tls.connect({
      host: '127.0.0.1',
      port,
      ca: rootsPem(pki.bundles),
      checkServerIdentity: () => undefined,
      ALPNProtocols: ['http/1.1'],
      ...(creds ? { cert: creds.cert, key: creds.key } : {}),
    });
    socket.on('secureConnect', () => socket.write('GET /secret HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n'));
    socket.on('data', (d) => (response += d.toString()));
    socket.on('error', (e: Error & { code?: string }) => resolve({ response, error: e.code ?? e.message }));
    socket.on('close', () => resolve({ response }));
  });
}

const rows: { name: string; reason: string; creds: () => Promise<PemCreds | undefined> }[] = [
  { name: 'no client certificate', reason: 'no_certificate', creds: async () => undefined },
  { name: 'unknown trust domain (other.org is not trusted)', reason: 'no_bundle', creds: async () => pemOf(await svidFor(pki.other, 'spiffe://other.org/client')) },
  { name: 'expired leaf from a trusted root', reason: 'expired', creds: () => badCreds(pki, 'expired') },
  { name: 'CA certificate used as the leaf', reason: 'leaf_is_ca', creds: () => badCreds(pki, 'caAsLeaf') },
  { name: 'self-signed leaf with the right URI SAN', reason: 'unknown_authority', creds: () => badCreds(pki, 'selfSigned') },
];

for (const row of rows) {
  test(`refused: ${row.name} (counted as ${row.reason})`, async () => {
    const before = metrics.handshakeErrors.length;
    const r = await attempt(await row.creds());
    assert.equal(r.response, '', 'no HTTP response: the request was never read');
    await eventually(() => metrics.handshakeErrors.length > before, 5000, 'handshake error counted');
    assert.deepEqual(metrics.handshakeErrors.slice(before), [{ direction: 'inbound', reason: row.reason }]);
    assert.equal(app.seen.length, 0);
  });
}

test('refused: plaintext HTTP (counted as not_tls)', async () => {
  const before = metrics.handshakeErrors.length;
  const response = await new Promise<string>((resolve) => {
    let got = '';
    const s = net.connect(port, '127.0.0.1', () => s.write('GET / HTTP/1.1\r\nHost: x\r\n\r\n'));
    s.on('data', (d) => (got += d.toString()));
    s.on('error', () => resolve(got));
    s.on('close', () => resolve(got));
  });
  assert.ok(!response.startsWith('HTTP/'), 'no HTTP answer to plaintext');
  await eventually(() => metrics.handshakeErrors.length > before, 5000, 'handshake error counted');
  assert.deepEqual(metrics.handshakeErrors.slice(before), [{ direction: 'inbound', reason: 'not_tls' }]);
  assert.equal(app.seen.length, 0);
});

test('a valid SVID gets through (the rows above fail for their own reason)', async () => {
  const r = await attempt(pemOf(await svidFor(pki.ca, `spiffe://${TD}/client`)));
  assert.match(r.response, /^HTTP\/1\.1 200/);
  assert.equal(app.seen.length, 1);
});
