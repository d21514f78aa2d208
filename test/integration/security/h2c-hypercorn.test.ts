/**
 * h2c upgrade smuggling (RFC 7540 §3.2) against hypercorn, a real server
 * that implements the h2c Upgrade by default (issue 12 item 1, the second
 * backend beside h2c-upgrade.test.ts's Node app). Without the fix
 * (forward/hop-by-hop.ts acceptsUpgrade) hypercorn answers 101 and the
 * caller speaks HTTP/2 straight to it. Every row sends raw bytes to the
 * outbound listener and over mTLS to the inbound listener, and requires a
 * plain 200 from hypercorn, which must have seen no upgrade headers, the
 * body intact and the sidecar's identity header instead of the forged one.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import net from 'node:net';
import tls from 'node:tls';
import { once } from 'node:events';
import { Cleanup, clientTls, makePki, sourceFor, type Pki } from '../../support/proxy-fixtures.ts';
import { FRONTEND_ID, startMesh, type Mesh } from '../forward/mesh.ts';
import { authorizeAny } from '../../../sidecar/tls/index.ts';
import { requireTools } from '../../support/tools.ts';
import { HYPERCORN, startHypercorn, type Backend } from './backends.ts';

const cleanup = new Cleanup();
after(() => cleanup.run());

let pki: Pki;
let mesh: Mesh | undefined;
let app: Backend | undefined;

before(async () => {
  pki = await makePki();
});

/** Starts hypercorn and the mesh once, for the first test that has the tool. */
async function setup(): Promise<{ mesh: Mesh; app: Backend }> {
  if (mesh === undefined || app === undefined) {
    app = await startHypercorn(cleanup);
    // WebSocket permitted on both sides: h2c must stay refused even then.
    mesh = await startMesh(pki, cleanup, { appPort: app.port, upstream: { webSocket: true }, inbound: { webSocket: true } });
  }
  return { mesh, app };
}

/** Writes `raw` and collects the answer until one response ended ("plain", or a 101) or the peer closed. */
async function exchange(socket: net.Socket | tls.TLSSocket, raw: string): Promise<string> {
  socket.setEncoding('latin1');
  let got = '';
  const done = new Promise<void>((resolve) => {
    socket.on('close', () => resolve());
    socket.on('data', (d: string) => {
      got += d;
      if (/\r\n\r\n/.test(got) && (got.endsWith('plain') || got.startsWith('HTTP/1.1 101'))) resolve();
    });
  });
  socket.on('error', () => {});
  socket.write(raw, 'latin1');
  await done;
  socket.destroy();
  return got;
}

const SETTINGS = 'AAMAAABkAAQAoAAAAAIAAAAA';
const ROWS: readonly { readonly name: string; readonly head: string; readonly body?: string }[] = [
  { name: 'GET with Connection: Upgrade, HTTP2-Settings', head: `GET /public/x HTTP/1.1\r\nHost: backend\r\nConnection: Upgrade, HTTP2-Settings\r\nUpgrade: h2c\r\nHTTP2-Settings: ${SETTINGS}\r\n` },
  { name: 'Connection: Upgrade alone', head: `GET /public/x HTTP/1.1\r\nHost: backend\r\nConnection: Upgrade\r\nUpgrade: h2c\r\nHTTP2-Settings: ${SETTINGS}\r\n` },
  { name: 'POST with a body', head: `POST /public/x HTTP/1.1\r\nHost: backend\r\nConnection: Upgrade, HTTP2-Settings\r\nUpgrade: h2c\r\nHTTP2-Settings: ${SETTINGS}\r\nContent-Length: 5\r\n`, body: 'hello' },
];

test('control: hypercorn itself answers 101 to an h2c upgrade (the backend really is h2c-capable)', async (t) => {
  if (!requireTools(t, [HYPERCORN])) return;
  const { app } = await setup();
  const s = net.connect(app.port, '127.0.0.1');
  await once(s, 'connect');
  const got = await exchange(s, `${ROWS[0]!.head}\r\n`);
  assert.match(got, /^HTTP\/1\.1 101 /);
});

for (const side of ['outbound', 'inbound'] as const) {
  for (const row of ROWS) {
    test(`hypercorn behind the ${side} listener: h2c upgrade served as a plain request: ${row.name}`, async (t) => {
      if (!requireTools(t, [HYPERCORN])) return;
      const { mesh, app } = await setup();
      const before = (await app.seen()).length;
      const socket =
        side === 'outbound'
          ? net.connect(mesh.outboundPort, '127.0.0.1')
          : tls.connect({ ...clientTls(await sourceFor(pki.ca, FRONTEND_ID, pki.bundles), authorizeAny(), ['http/1.1']), host: '127.0.0.1', port: mesh.inboundPort });
      await once(socket, side === 'outbound' ? 'connect' : 'secureConnect');
      const got = await exchange(socket, `${row.head}X-Client-Spiffe-Id: spiffe://example.org/admin\r\n\r\n${row.body ?? ''}`);
      assert.match(got, /^HTTP\/1\.1 200 /, `expected a plain 200, got: ${got.split('\r\n')[0]}`);
      const seen = await app.seen();
      assert.equal(seen.length, before + 1, 'hypercorn served exactly one plain request');
      const last = seen.at(-1)!;
      assert.equal(last.headers['upgrade'], undefined);
      assert.equal(last.headers['http2-settings'], undefined);
      assert.ok(!/upgrade|http2-settings/i.test(last.headers['connection'] ?? ''), `connection: ${last.headers['connection']}`);
      assert.equal(last.headers['x-client-spiffe-id'], FRONTEND_ID, 'the forged identity header was replaced');
      assert.equal(last.body, row.body ?? '');
      assert.equal(last.complete, true);
    });
  }
}
