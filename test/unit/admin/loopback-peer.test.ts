import { test } from 'node:test';
import assert from 'node:assert/strict';
import { isLoopbackPeer } from '../../../sidecar/admin/loopback-peer.ts';

const rows: [address: string | undefined, loopback: boolean][] = [
  ['127.0.0.1', true],
  ['127.0.0.2', true],
  ['127.255.255.255', true],
  ['::1', true],
  ['0:0:0:0:0:0:0:1', true],
  ['::ffff:127.0.0.1', true],
  ['::ffff:127.1.2.3', true],
  ['::ffff:7f00:1', true],
  ['128.0.0.1', false],
  ['126.255.255.255', false],
  ['10.0.0.1', false],
  ['192.0.2.2', false],
  ['0.0.0.0', false],
  ['::', false],
  ['::2', false],
  ['fd00::2', false],
  ['fe80::1', false],
  ['::ffff:10.0.0.1', false],
  ['::ffff:192.0.2.2', false],
  ['localhost', false],
  ['', false],
  [undefined, false],
];
for (const [address, loopback] of rows) {
  test(`isLoopbackPeer: ${String(address)} → ${loopback}`, () => assert.equal(isLoopbackPeer(address), loopback));
}
