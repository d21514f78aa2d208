/**
 * WebSocket (HTTP/1.1 Upgrade) through both sidecars: the upgrade request
 * is authorized and gets identity headers like any request, the 101 comes
 * back, and then bytes flow both ways. A minimal RFC 6455 endpoint on each
 * side (handshake plus one text frame echo) is enough to prove the pipe.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import http, { type IncomingMessage } from 'node:http';
import { once } from 'node:events';
import type { AddressInfo } from 'node:net';
import type { Duplex } from 'node:stream';
import { parsePolicy } from '../../../sidecar/policy/index.ts';
import { Cleanup, eventually, makePki, type Pki } from '../../support/proxy-fixtures.ts';
import { FRONTEND_ID, startMesh } from '../forward/mesh.ts';

const GUID = '258EAFA5-E914-47DA-95CA-C5AB0DC85B11';
const accept = (key: string): string => createHash('sha1').update(key + GUID).digest('base64');

/** Encodes one FIN text frame; clients must mask (RFC 6455 §5.3). */
function frame(text: string, mask: boolean): Buffer {
  const payload = Buffer.from(text);
  if (payload.length > 125) throw new Error('test frames are small');
  const head = Buffer.from([0x81, (mask ? 0x80 : 0) | payload.length]);
  if (!mask) return Buffer.concat([head, payload]);
  const key = randomBytes(4);
  const masked = Buffer.from(payload.map((b, i) => b ^ key[i % 4]!));
  return Buffer.concat([head, key, masked]);
}

/** Reads one small frame from `socket` (after `head`), unmasking if needed. */
async function readFrame(socket: Duplex, head: Buffer = Buffer.alloc(0)): Promise<string> {
  let buf = head;
  for (;;) {
    if (buf.length >= 2) {
      const masked = (buf[1]! & 0x80) !== 0;
      const len = buf[1]! & 0x7f;
      const need = 2 + (masked ? 4 : 0) + len;
      if (buf.length >= need) {
        const body = buf.subarray(2 + (masked ? 4 : 0), need);
        if (masked) {
          const key = buf.subarray(2, 6);
          return Buffer.from(body.map((b, i) => b ^ key[i % 4]!)).toString();
        }
        return body.toString();
      }
    }
    const [chunk] = (await once(socket, 'data')) as [Buffer];
    buf = Buffer.concat([buf, chunk]);
  }
}

const cleanup = new Cleanup();
after(() => cleanup.run());

let pki: Pki;
let appPort: number;
const upgradeRequests: IncomingMessage[] = [];

before(async () => {
  pki = await makePki();
  const app = http.createServer((_req, res) => res.end('not a websocket request'));
  app.on('upgrade', (req: IncomingMessage, socket: Duplex, head: Buffer) => {
    upgradeRequests.push(req);
    socket.on('error', () => {});
    socket.write(
      'HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n' +
        `Sec-WebSocket-Accept: ${accept(String(req.headers['sec-websocket-key']))}\r\n\r\n`,
    );
    void readFrame(socket, head).then((text) => socket.write(frame(`echo:${text}`, false)));
  });
  app.listen(0, '127.0.0.1');
  await once(app, 'listening');
  appPort = (app.address() as AddressInfo).port;
  cleanup.add(() => {
    app.closeAllConnections();
    app.close();
  });
});

function upgrade(port: number, path: string): Promise<{ status: number; socket?: Duplex; head?: Buffer; acceptHeader?: string }> {
  const key = randomBytes(16).toString('base64');
  return new Promise((resolve, reject) => {
    const req = http.request({
      host: '127.0.0.1',
      port,
      path,
      agent: false,
      headers: {
        host: 'backend',
        connection: 'Upgrade',
        upgrade: 'websocket',
        'sec-websocket-key': key,
        'sec-websocket-version': '13',
        'x-client-spiffe-id': 'spiffe://example.org/forged',
      },
    });
    req.on('upgrade', (res, socket, head) => {
      socket.on('error', () => {});
      cleanup.add(() => socket.destroy());
      assert.equal(res.headers['sec-websocket-accept'], accept(key));
      resolve({ status: res.statusCode!, socket, head, acceptHeader: String(res.headers['sec-websocket-accept']) });
    });
    req.on('response', (res) => {
      res.resume();
      resolve({ status: res.statusCode! });
    });
    req.on('error', reject);
    req.end();
  });
}

/** WebSocket is opt-in on both sides (an upgraded connection is an uninspected tunnel). */
const WS = { upstream: { webSocket: true }, inbound: { webSocket: true } } as const;

for (const protocol of ['http1', 'h2'] as const) {
  test(`WebSocket upgrade and echo through both sidecars (${protocol} link configured)`, async () => {
    const m = await startMesh(pki, cleanup, { appPort, protocol, ...WS });
    const r = await upgrade(m.outboundPort, '/ws');
    assert.equal(r.status, 101);
    r.socket!.write(frame('hello', true));
    assert.equal(await readFrame(r.socket!, r.head), 'echo:hello');
    const seen = upgradeRequests.at(-1)!;
    assert.equal(seen.headers['x-client-spiffe-id'], FRONTEND_ID, 'identity headers applied to the upgrade request');
    assert.equal(seen.headers['upgrade'], 'websocket');
  });
}

test('policy applies to upgrade requests: a denied path gets 403 and never reaches the app', async () => {
  const before = upgradeRequests.length;
  const policy = parsePolicy({ version: 1, rules: [{ name: 'ws', from: [{ id: FRONTEND_ID }], to: [{ paths: ['/ws'] }] }] }, 'ws-policy');
  const m = await startMesh(pki, cleanup, { appPort, upstream: { webSocket: true }, inbound: { webSocket: true, policy: () => policy } });
  assert.equal((await upgrade(m.outboundPort, '/ws/../admin')).status, 403);
  assert.equal(upgradeRequests.length, before);
  assert.equal((await upgrade(m.outboundPort, '/ws')).status, 101);
});

// Each row fails without its permission check: the app would answer 101.
for (const [name, opts, refusedBy] of [
  ['outbound route without webSocket', { inbound: { webSocket: true } }, 'outbound'],
  ['inbound listener without webSocket', { upstream: { webSocket: true } }, 'inbound'],
] as const) {
  test(`WebSocket refused with 403 when not permitted: ${name}`, async () => {
    const before = upgradeRequests.length;
    const m = await startMesh(pki, cleanup, { appPort, ...opts });
    assert.equal((await upgrade(m.outboundPort, '/ws')).status, 403);
    assert.equal(upgradeRequests.length, before, 'the app never saw the upgrade');
    const logger = refusedBy === 'outbound' ? m.outLogger : m.inLogger;
    // The access line is written when the refused connection closes.
    await eventually(() => logger.lines.some((l) => l.obj['reason'] === 'upgrade_not_allowed'), 5000, `${refusedBy} logs reason upgrade_not_allowed`);
  });
}
