/**
 * Interop with OpenSSL's own tools, with the SVIDs written to files as a
 * user would: `openssl s_client` against a server from mtlsServer, and
 * `openssl s_server -Verify` as the server for a client from mtlsClientOptions.
 */
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import tls from 'node:tls';
import { requireTools } from '../../support/tools.ts';
import {
  PeerNotAuthorized,
  authorizeId,
  createMtlsServer,
  mtlsClientOptions,
  peerIdentity,
  type PeerRejectedEvent,
} from '../../../sidecar/tls/index.ts';
import { MutableSource, bundleSetOf, makeCa, makeLeaf, svidOf, type TestCreds } from '../../support/tls-pki.ts';

const serverId = 'spiffe://a.test/server';
const clientId = 'spiffe://a.test/client';
const dir = mkdtempSync(join(tmpdir(), 'tls-interop-'));
const children: ChildProcess[] = [];
const servers: net.Server[] = [];
after(() => {
  for (const c of children) c.kill('SIGKILL');
  for (const s of servers) s.close();
  rmSync(dir, { recursive: true, force: true });
});

const caA = await makeCa('a.test');
const bundles = bundleSetOf(caA);
writeFileSync(join(dir, 'bundle.pem'), caA.bundle.toPem());

function writeCreds(name: string, c: TestCreds): { cert: string; key: string } {
  const cert = join(dir, `${name}.pem`);
  const key = join(dir, `${name}.key`);
  writeFileSync(cert, c.certPem);
  writeFileSync(key, c.keyPem, { mode: 0o600 });
  return { cert, key };
}

/** Runs openssl with stdin left open; resolves with its output once it exits (or after `ms`). */
function openssl(args: string[], ms = 10_000): { child: ChildProcess; done: Promise<{ code: number | null; out: string }> } {
  const child = spawn('openssl', args, { stdio: ['pipe', 'pipe', 'pipe'] });
  children.push(child);
  let out = '';
  child.stdout!.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr!.on('data', (d: Buffer) => (out += d.toString()));
  const timer = setTimeout(() => child.kill('SIGKILL'), ms);
  const done = once(child, 'exit').then(([code]) => {
    clearTimeout(timer);
    return { code: code as number | null, out };
  });
  return { child, done };
}

async function greetingServer(authorizeClient: string) {
  const srv = new MutableSource(svidOf(await makeLeaf(caA, serverId)), bundles);
  const rejected: PeerRejectedEvent[] = [];
  // Greets first, then closes: s_client exits when the server closes.
  const server = createMtlsServer({ svidSource: srv, bundleSource: srv, authorize: authorizeId(authorizeClient) }, (s) => {
    s.on('error', () => {});
    s.end(`hello ${peerIdentity(s)?.id.toString()}\n`);
  });
  server.on('peerRejected', (ev) => rejected.push(ev));
  servers.push(server);
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  return { port: (server.address() as net.AddressInfo).port, rejected };
}

test('openssl s_client with SVID files is authenticated by an mtlsServer', async (t) => {
  if (!requireTools(t, ['openssl'])) return;
  const { port, rejected } = await greetingServer(clientId);
  const files = writeCreds('client', await makeLeaf(caA, clientId));
  const { done } = openssl(['s_client', '-connect', `127.0.0.1:${port}`, '-cert', files.cert, '-key', files.key, '-CAfile', join(dir, 'bundle.pem'), '-verify_return_error', '-brief']);
  const { out } = await done;
  assert.match(out, /Verification: OK/);
  assert.match(out, new RegExp(`hello ${clientId}`));
  assert.deepEqual(rejected, []);
});

test('openssl s_client with an ID the authorizer refuses gets no greeting', async (t) => {
  if (!requireTools(t, ['openssl'])) return;
  const { port, rejected } = await greetingServer(clientId);
  const files = writeCreds('intruder', await makeLeaf(caA, 'spiffe://a.test/intruder'));
  const { out } = await openssl(['s_client', '-connect', `127.0.0.1:${port}`, '-cert', files.cert, '-key', files.key, '-CAfile', join(dir, 'bundle.pem'), '-brief']).done;
  assert.doesNotMatch(out, /hello/);
  assert.equal(rejected[0]?.reason, 'not_authorized');
  assert.equal(rejected[0]?.presentedId, 'spiffe://a.test/intruder');
});

/** Starts `openssl s_server -Verify 1 -rev` (echoes lines reversed) and waits until it accepts. */
async function sServer(creds: TestCreds): Promise<number> {
  const probe = net.createServer().listen(0, '127.0.0.1');
  await once(probe, 'listening');
  const port = (probe.address() as net.AddressInfo).port;
  probe.close();
  const files = writeCreds(`s_server-${port}`, creds);
  const { child } = openssl(
    ['s_server', '-accept', String(port), '-cert', files.cert, '-key', files.key, '-CAfile', join(dir, 'bundle.pem'), '-Verify', '1', '-verify_return_error', '-rev', '-naccept', '1'],
    20_000,
  );
  await new Promise<void>((resolve, reject) => {
    let buf = '';
    child.stdout!.on('data', (d: Buffer) => {
      buf += d.toString();
      if (buf.includes('ACCEPT')) resolve();
    });
    child.on('exit', (code) => reject(new Error(`s_server exited early (${code}): ${buf}`)));
  });
  return port;
}

test('an mtlsClientOptions client authenticates openssl s_server -Verify and is verified by it', async (t) => {
  if (!requireTools(t, ['openssl'])) return;
  const port = await sServer(await makeLeaf(caA, serverId));
  const cli = new MutableSource(svidOf(await makeLeaf(caA, clientId)), bundles);
  const socket = tls.connect({ ...mtlsClientOptions({ svidSource: cli, bundleSource: cli, authorize: authorizeId(serverId) }), host: '127.0.0.1', port });
  await once(socket, 'secureConnect');
  socket.write('spiffe\n');
  const [reply] = (await once(socket, 'data')) as [Buffer];
  assert.match(String(reply), /effips/);
  socket.destroy();
});

test('an mtlsClientOptions client refuses openssl s_server with an unexpected ID', async (t) => {
  if (!requireTools(t, ['openssl'])) return;
  const port = await sServer(await makeLeaf(caA, 'spiffe://a.test/impostor'));
  const cli = new MutableSource(svidOf(await makeLeaf(caA, clientId)), bundles);
  const socket = tls.connect({ ...mtlsClientOptions({ svidSource: cli, bundleSource: cli, authorize: authorizeId(serverId) }), host: '127.0.0.1', port });
  const [err] = (await once(socket, 'error').catch((e: unknown) => [e])) as [unknown];
  assert.ok(err instanceof PeerNotAuthorized);
  assert.equal(err.presentedId, 'spiffe://a.test/impostor');
});
