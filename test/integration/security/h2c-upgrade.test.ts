/**
 * h2c upgrade smuggling (RFC 7540 §3.2): a request carrying `Upgrade: h2c`
 * must never reach the app as an upgrade. If it did, an app that speaks h2c
 * would answer 101 and the caller would then talk HTTP/2 straight to it,
 * past policy and identity headers, for the rest of the connection.
 *
 * The app here answers 101 to any upgrade it is offered, as hypercorn, Go's
 * h2c handler, Jetty and Tomcat do for h2c. Every row sends raw bytes, to
 * the outbound listener (the local app's side) and straight to the inbound
 * listener over mTLS (a peer that is not a well-behaved sidecar), and
 * requires a plain response with the upgrade headers gone and the body kept.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import http, { type IncomingMessage } from 'node:http';
import net from 'node:net';
import tls from 'node:tls';
import { once } from 'node:events';
import type { AddressInfo } from 'node:net';
import type { Duplex } from 'node:stream';
import { Cleanup, clientTls, makePki, sourceFor, type Pki } from '../../support/proxy-fixtures.ts';
import { FRONTEND_ID, startMesh, type Mesh } from '../forward/mesh.ts';
import { authorizeAny } from '../../../sidecar/tls/index.ts';

const cleanup = new Cleanup();
after(() => cleanup.run());

interface Seen {
  readonly headers: IncomingMessage['headers'];
  readonly body: string;
}

let pki: Pki;
let mesh: Mesh;
const seen: Seen[] = [];
let upgradesOffered = 0;

before(async () => {
  pki = await makePki();
  const app = http.createServer({ shouldUpgradeCallback: () => true }, (req, res) => {
    let body = '';
    req.setEncoding('latin1');
    req.on('data', (d: string) => (body += d));
    req.on('end', () => {
      seen.push({ headers: req.headers, body });
      res.end('plain');
    });
  });
  app.on('upgrade', (_req: IncomingMessage, socket: Duplex) => {
    upgradesOffered++;
    socket.on('error', () => {});
    socket.end('HTTP/1.1 101 Switching Protocols\r\nConnection: Upgrade\r\nUpgrade: h2c\r\n\r\n');
  });
  app.listen(0, '127.0.0.1');
  await once(app, 'listening');
  cleanup.add(() => {
    app.closeAllConnections();
    app.close();
  });
  // WebSocket permitted on both sides: h2c must stay refused even then.
  mesh = await startMesh(pki, cleanup, {
    appPort: (app.address() as AddressInfo).port,
    upstream: { webSocket: true },
    inbound: { webSocket: true },
  });
});

/** Sends `raw` on a fresh socket and returns everything received until the response completes or the peer closes. */
async function exchange(socket: net.Socket | tls.TLSSocket, raw: string): Promise<string> {
  socket.setEncoding('latin1');
  let got = '';
  socket.on('data', (d: string) => (got += d));
  socket.on('error', () => {});
  socket.write(raw, 'latin1');
  const done = new Promise<void>((resolve) => {
    socket.on('close', () => resolve());
    socket.on('data', () => {
      // One response is enough: `plain` ends it (the app's body), or a local answer's body.
      if (/\r\n\r\n/.test(got) && (got.endsWith('plain') || /content-length: 0\r\n\r\n$/i.test(got) || got.startsWith('HTTP/1.1 101'))) resolve();
    });
  });
  await done;
  socket.destroy();
  return got;
}

const ROWS: readonly { readonly name: string; readonly head: string; readonly body?: string }[] = [
  { name: 'GET with Connection: Upgrade, HTTP2-Settings', head: 'GET /public/x HTTP/1.1\r\nHost: backend\r\nConnection: Upgrade, HTTP2-Settings\r\nUpgrade: h2c\r\nHTTP2-Settings: AAMAAABkAAQAoAAAAAIAAAAA\r\n' },
  { name: 'Connection: Upgrade alone', head: 'GET /public/x HTTP/1.1\r\nHost: backend\r\nConnection: Upgrade\r\nUpgrade: h2c\r\n' },
  { name: 'upper-case token', head: 'GET /public/x HTTP/1.1\r\nHost: backend\r\nConnection: upgrade\r\nUpgrade: H2C\r\nHTTP2-Settings: AAMAAABkAAQAoAAAAAIAAAAA\r\n' },
  { name: 'a list offering websocket and h2c', head: 'GET /public/x HTTP/1.1\r\nHost: backend\r\nConnection: Upgrade\r\nUpgrade: websocket, h2c\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n' },
  { name: 'POST with a body', head: 'POST /public/x HTTP/1.1\r\nHost: backend\r\nConnection: Upgrade, HTTP2-Settings\r\nUpgrade: h2c\r\nHTTP2-Settings: AAMAAABkAAQAoAAAAAIAAAAA\r\nContent-Length: 5\r\n', body: 'hello' },
  { name: 'HTTP2-Settings without an upgrade', head: 'GET /public/x HTTP/1.1\r\nHost: backend\r\nHTTP2-Settings: AAMAAABkAAQAoAAAAAIAAAAA\r\n' },
];

function forged(): string {
  return 'X-Client-Spiffe-Id: spiffe://example.org/admin\r\n';
}

for (const side of ['outbound', 'inbound'] as const) {
  for (const row of ROWS) {
    test(`h2c upgrade is served as a plain request (${side}): ${row.name}`, async () => {
      const before = seen.length;
      const offered = upgradesOffered;
      const socket =
        side === 'outbound'
          ? net.connect(mesh.outboundPort, '127.0.0.1')
          : tls.connect({ ...clientTls(await sourceFor(pki.ca, FRONTEND_ID, pki.bundles), authorizeAny(), ['http/1.1']), host: '127.0.0.1', port: mesh.inboundPort });
      await once(socket, side === 'outbound' ? 'connect' : 'secureConnect');
      const got = await exchange(socket, `${row.head}${forged()}\r\n${row.body ?? ''}`);
      assert.match(got, /^HTTP\/1\.1 200 /, `expected a plain 200, got: ${got.split('\r\n')[0]}`);
      assert.equal(upgradesOffered, offered, 'the app was never offered an upgrade');
      assert.equal(seen.length, before + 1, 'the app served exactly one plain request');
      const h = seen.at(-1)!.headers;
      assert.equal(h['upgrade'], undefined);
      assert.equal(h['http2-settings'], undefined);
      assert.ok(!/upgrade|http2-settings/i.test(String(h['connection'] ?? '')), `connection: ${h['connection']}`);
      assert.equal(h['x-client-spiffe-id'], FRONTEND_ID, 'the forged identity header was replaced');
      assert.equal(seen.at(-1)!.body, row.body ?? '');
    });
  }
}
