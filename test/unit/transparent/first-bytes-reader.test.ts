/**
 * readFirstBytes on a real loopback socket pair (in this process), with a
 * ManualClock for the wait: each way it can end, and that the bytes read
 * are pushed back for whoever takes the socket over.
 */
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import net, { type Socket } from 'node:net';
import { ManualClock } from '../../../sidecar/core/index.ts';
import { classifyFirstBytes, readFirstBytes, type FirstBytesClass, type FirstBytesEnd } from '../../../sidecar/transparent/index.ts';

const server = net.createServer();
const accepted: Socket[] = [];
server.on('connection', (s) => accepted.push(s));
await new Promise<void>((res) => server.listen(0, '127.0.0.1', res));
after(() => {
  for (const s of accepted) s.destroy();
  server.close();
});

/** A connected pair: `client` writes, `peer` is the accepted end. */
async function pair(): Promise<{ client: Socket; peer: Socket }> {
  const got = new Promise<Socket>((res) => server.once('connection', res));
  const client = net.connect((server.address() as net.AddressInfo).port, '127.0.0.1');
  await new Promise<void>((res) => client.once('connect', res));
  const peer = await got;
  after(() => client.destroy());
  return { client, peer };
}

function read(peer: Socket, clock: ManualClock, maxBytes = 64): Promise<{ end: FirstBytesEnd<FirstBytesClass>; bytes: string }> {
  return new Promise((res) => readFirstBytes(peer, { timeoutMs: 500, maxBytes, clock }, classifyFirstBytes, (end, bytes) => res({ end, bytes: bytes.toString('latin1') })));
}

/** Everything `peer` yields after it was handed over, until `n` bytes. */
function drain(peer: Socket, n: number): Promise<string> {
  return new Promise((res) => {
    let got = '';
    peer.on('data', (d: Buffer) => {
      got += d.toString('latin1');
      if (got.length >= n) res(got);
    });
    peer.resume();
  });
}

test('readFirstBytes: decides on the first bytes and pushes them back', async () => {
  const { client, peer } = await pair();
  const r = read(peer, new ManualClock());
  client.write('GET / HTTP/1.1\r\n');
  const { end, bytes } = await r;
  assert.deepEqual(end, { kind: 'decided', value: 'http' });
  assert.equal(bytes, 'GET / HTTP/1.1\r\n');
  assert.equal(peer.isPaused(), true);
  client.write('Host: x\r\n');
  assert.equal(await drain(peer, 25), 'GET / HTTP/1.1\r\nHost: x\r\n');
});

test('readFirstBytes: keeps reading while undecided (bytes split over writes)', async () => {
  const { client, peer } = await pair();
  const r = read(peer, new ManualClock());
  client.write('\r\nPO');
  await new Promise((res) => setTimeout(res, 20));
  client.write('ST /');
  const { end, bytes } = await r;
  assert.deepEqual(end, { kind: 'decided', value: 'http' });
  assert.equal(bytes, '\r\nPOST /');
});

test('readFirstBytes: ends with timeout when nothing arrives in time (server-first)', async () => {
  const { peer } = await pair();
  const clock = new ManualClock();
  const r = read(peer, clock);
  clock.advance(499);
  clock.advance(1);
  const { end, bytes } = await r;
  assert.deepEqual(end, { kind: 'timeout' });
  assert.equal(bytes, '');
});

test('readFirstBytes: ends with timeout and pushes back an undecided prefix', async () => {
  const { client, peer } = await pair();
  const clock = new ManualClock();
  const r = read(peer, clock);
  client.write('GE');
  await new Promise((res) => setTimeout(res, 20));
  clock.advance(500);
  const { end, bytes } = await r;
  assert.deepEqual(end, { kind: 'timeout' });
  assert.equal(bytes, 'GE');
  assert.equal(await drain(peer, 2), 'GE');
});

test('readFirstBytes: ends with full after maxBytes undecided bytes', async () => {
  const { client, peer } = await pair();
  const r = read(peer, new ManualClock(), 8);
  client.write('AAAAAAAAAAAA');
  const { end } = await r;
  assert.deepEqual(end, { kind: 'full' });
});

test('readFirstBytes: ends with closed when the client leaves first', async () => {
  const { client, peer } = await pair();
  const r = read(peer, new ManualClock());
  client.end();
  const { end } = await r;
  assert.deepEqual(end, { kind: 'closed' });
});
