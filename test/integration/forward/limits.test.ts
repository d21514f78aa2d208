/**
 * Listener limits on real sockets: maxConnections, idle timeout (HTTP/1.1
 * keep-alive and HTTP/2 sessions), the headers timeout against slowloris
 * clients, and the TLS handshake deadline on the inbound listener.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { once } from 'node:events';
import http2 from 'node:http2';
import net from 'node:net';
import { Cleanup, LIMITS, eventually, h1Request, makePki, startH1App, type Pki } from '../../support/proxy-fixtures.ts';
import { startMesh } from './mesh.ts';

const cleanup = new Cleanup();
after(() => cleanup.run());

let pki: Pki;
let appPort: number;
before(async () => {
  pki = await makePki();
  appPort = (await startH1App(cleanup)).port;
});

/** Opens a TCP connection, optionally writes, and resolves with what was received once the server closes it. */
function untilClosed(port: number, write?: string): Promise<{ received: string; socket: net.Socket }> {
  return new Promise((resolve) => {
    let received = '';
    const socket = net.connect(port, '127.0.0.1', () => {
      if (write !== undefined) socket.write(write);
    });
    socket.on('data', (d) => (received += d.toString()));
    socket.on('error', () => {});
    socket.on('close', () => resolve({ received, socket }));
    cleanup.add(() => socket.destroy());
  });
}

test('maxConnections: connections beyond the limit are closed at once; the others keep working', async () => {
  const m = await startMesh(pki, cleanup, { appPort, outbound: { limits: { ...LIMITS, maxConnections: 2 } } });
  const held: net.Socket[] = [];
  for (let i = 0; i < 2; i++) {
    const s = net.connect(m.outboundPort, '127.0.0.1');
    s.on('error', () => {});
    await once(s, 'connect');
    held.push(s);
    cleanup.add(() => s.destroy());
  }
  await new Promise((r) => setTimeout(r, 50));
  const third = await untilClosed(m.outboundPort, 'GET / HTTP/1.1\r\nHost: backend\r\n\r\n');
  assert.equal(third.received, '', 'the third connection got no answer');
  // A held connection still serves requests.
  const first = held[0]!;
  first.write('GET / HTTP/1.1\r\nHost: backend\r\nConnection: close\r\n\r\n');
  let got = '';
  first.on('data', (d) => (got += d.toString()));
  await once(first, 'close');
  assert.match(got, /^HTTP\/1\.1 200/);
});

test('idle timeout: a kept-alive HTTP/1.1 connection and an idle HTTP/2 session are closed', async () => {
  const m = await startMesh(pki, cleanup, { appPort, outbound: { limits: { ...LIMITS, idleTimeoutMs: 200 } } });
  const r = await untilClosed(m.outboundPort, 'GET / HTTP/1.1\r\nHost: backend\r\n\r\n');
  assert.match(r.received, /^HTTP\/1\.1 200/, 'answered, then closed when idle');
  const s = http2.connect(`http://127.0.0.1:${m.outboundPort}`);
  s.on('error', () => {});
  cleanup.add(() => s.destroy());
  await once(s, 'connect');
  await once(s, 'close');
});

test('headers timeout: a client that never finishes its request head is answered 408 and disconnected', async () => {
  const m = await startMesh(pki, cleanup, { appPort, outbound: { limits: { ...LIMITS, headersTimeoutMs: 300 } } });
  const slowloris = await untilClosed(m.outboundPort, 'GET / HTTP/1.1\r\nHost: backend\r\nX-Slow: ');
  assert.match(slowloris.received, /^HTTP\/1\.1 408/);
  // A client that sends nothing at all is disconnected too.
  const silent = await untilClosed(m.outboundPort);
  assert.equal(silent.received, '');
  assert.equal((await h1Request(m.outboundPort, { headers: { host: 'backend' } })).status, 200);
});

test('inbound: a TLS handshake that never starts is cut at headersTimeout and counted', async () => {
  const m = await startMesh(pki, cleanup, { appPort, inbound: { limits: { ...LIMITS, headersTimeoutMs: 300 } } });
  const r = await untilClosed(m.inboundPort);
  assert.equal(r.received, '');
  await eventually(() => m.inMetrics.handshakeErrors.length > 0, 5000, 'handshake timeout counted');
  assert.deepEqual(m.inMetrics.handshakeErrors, [{ direction: 'inbound', reason: 'timeout' }]);
});
