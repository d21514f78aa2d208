/**
 * The credentials home on real sockets: a server and a dialer that share
 * one home per side take a rotation when update() publishes it (not
 * before), refuse new connections while it is withdrawn, and the dialer
 * hands out the verified server identity as a value and relays the change
 * event to its pools.
 */
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { once } from 'node:events';
import tls, { type TLSSocket } from 'node:tls';
import type { AddressInfo, Socket } from 'node:net';
import { MtlsDialer, TcpDialer } from '../../../sidecar/forward/index.ts';
import { matchId, SpiffeId } from '../../../sidecar/spiffe/index.ts';
import { Credentials, authorizeAny, mtlsServer, peerIdentity } from '../../../sidecar/tls/index.ts';
import { WorkloadApiError } from '../../../sidecar/workload/index.ts';
import { MutableSource, bundleSetOf, makeCa, makeLeaf, svidOf } from '../../support/tls-pki.ts';
import { RecordingMetrics } from '../../support/proxy-fixtures.ts';

const ca = await makeCa('a.test');
const serverId = 'spiffe://a.test/server';
const clientId = 'spiffe://a.test/client';
const cleanups: (() => void)[] = [];
after(() => {
  for (const c of cleanups) c();
});

/** A source and its credentials home, published once. */
async function homeFor(id: string): Promise<{ source: MutableSource; home: Credentials }> {
  const source = new MutableSource(svidOf(await makeLeaf(ca, id)), bundleSetOf(ca));
  const home = new Credentials({ svidSource: source, bundleSource: source });
  home.update();
  return { source, home };
}

/** A TLS server on the home that answers each verified client with the peer ID it saw. */
async function serverOn(home: Credentials): Promise<number> {
  const m = mtlsServer({ credentials: home, authorize: authorizeAny() });
  const server = m.attach(tls.createServer(m.options, (s: TLSSocket) => s.on('error', () => {}).end(peerIdentity(s)?.id.toString() ?? '?')));
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  cleanups.push(() => server.close());
  return (server.address() as AddressInfo).port;
}

/** What one dial saw. */
interface DialOutcome {
  readonly serial?: string | undefined;
  readonly presentedId?: string | undefined;
  readonly onSocket?: string | undefined;
  readonly reply?: string | undefined;
  readonly error?: string | undefined;
}

/** Dials once; resolves with the server's leaf serial and verified ID, or the error. */
function dialOnce(d: MtlsDialer): Promise<DialOutcome> {
  return new Promise((resolve) => {
    d.dial((err, socket, presentedId) => {
      if (err) return resolve({ error: (err as Error & { code?: string }).code ?? err.message });
      const s = socket as Socket as TLSSocket;
      cleanups.push(() => s.destroy());
      const serial = s.getPeerCertificate().serialNumber;
      let reply = '';
      s.on('data', (b: Buffer) => (reply += b.toString()));
      s.on('error', () => {});
      s.on('close', () => resolve({ serial, presentedId, onSocket: peerIdentity(s)?.id.toString(), reply }));
    });
  });
}

test('rotation takes effect when the home publishes it; the verified ID travels as a value', async () => {
  const srv = await homeFor(serverId);
  const cli = await homeFor(clientId);
  const port = await serverOn(srv.home);
  const metrics = new RecordingMetrics();
  const dialer = new MtlsDialer({ address: { host: '127.0.0.1', port }, server: matchId(SpiffeId.parse(serverId)), credentials: cli.home, connectTimeoutMs: 5_000, metrics });
  let changes = 0;
  dialer.onCredentialsChange(() => changes++);

  const first = await dialOnce(dialer);
  assert.deepEqual([first.presentedId, first.onSocket, first.reply], [serverId, serverId, clientId]);

  srv.source.setSvid(svidOf(await makeLeaf(ca, serverId)));
  const unpublished = await dialOnce(dialer);
  assert.equal(unpublished.serial, first.serial, 'the server keeps presenting the published SVID');
  srv.home.update();
  const rotated = await dialOnce(dialer);
  assert.notEqual(rotated.serial, first.serial, 'the next accept presents the new SVID');
  assert.equal(changes, 0, 'the server side rotated; the client home did not change');

  cli.source.setSvid(svidOf(await makeLeaf(ca, clientId)));
  cli.home.update();
  assert.equal(changes, 1, 'the dialer relays its home change event');
});

test('withdrawn credentials: the server closes new connections, the dialer fails with workload.no_svid', async () => {
  const srv = await homeFor(serverId);
  const cli = await homeFor(clientId);
  const port = await serverOn(srv.home);
  const dialer = new MtlsDialer({ address: { host: '127.0.0.1', port }, server: matchId(SpiffeId.parse(serverId)), credentials: cli.home, connectTimeoutMs: 5_000, metrics: new RecordingMetrics() });
  // The server's source now throws what X509Source throws after PermissionDenied.
  const withdrawn = new WorkloadApiError('workload.no_svid', 'no identity issued');
  srv.source.getX509Svid = () => {
    throw withdrawn;
  };
  srv.home.update();
  const refused = await dialOnce(dialer);
  assert.ok(refused.error !== undefined && refused.reply === undefined, `refused: ${JSON.stringify(refused)}`);
  cli.source.getX509Svid = () => {
    throw withdrawn;
  };
  cli.home.update();
  assert.deepEqual(await dialOnce(dialer), { error: 'workload.no_svid' });
});

test('a plain TCP dialer presents no credentials: its change listener is accepted and never called', () => {
  const d = new TcpDialer({ host: '127.0.0.1', port: 9 }, 1_000);
  let called = false;
  d.onCredentialsChange(() => (called = true));
  assert.equal(called, false);
});
