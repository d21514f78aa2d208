/**
 * Numeric IPv4 spellings in transparent mode (issue 12 item 4): a Host the
 * WHATWG URL parser reads as an IP address (`2130706433`, `0x7f000001`,
 * `127.1`, `0177.0.0.1`, `10.5`, IPv4-mapped IPv6) is an IP literal, refused
 * with 403 before anything is resolved. The outbound proxy here resolves
 * names with the system resolver (getaddrinfo, which also reads those
 * spellings as addresses) and allows loopback, so without the check the
 * loopback spellings would reach the app behind a real inbound sidecar.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import dns from 'node:dns';
import type { LookupFunction } from 'node:net';

import { matchMemberOf } from '../../../sidecar/spiffe/index.ts';
import { Cleanup, TD, h1Request, makePki, sourceFor, type Pki } from '../../support/proxy-fixtures.ts';
import { startMesh, type Mesh } from '../forward/mesh.ts';
import { startOutbound } from '../../support/outbound-fixture.ts';
import { startNodeH1, type Backend } from './backends.ts';

const cleanup = new Cleanup();
after(() => cleanup.run());

let pki: Pki;
let app: Backend;
let mesh: Mesh;
let outboundPort: number;
/** Every name transparent mode asked the resolver for. */
const resolved: string[] = [];

before(async () => {
  pki = await makePki();
  app = await startNodeH1(cleanup);
  mesh = await startMesh(pki, cleanup, { appPort: app.port });
  const frontend = await sourceFor(pki.ca, `spiffe://${TD}/frontend`, pki.bundles);
  // The system resolver, recorded; loopback allowed (everything here is on 127.0.0.1).
  const lookup = ((hostname: string, options: dns.LookupOptions, cb: (...a: unknown[]) => void) => {
    resolved.push(hostname);
    dns.lookup(hostname, options, cb as never);
  }) as unknown as LookupFunction;
  outboundPort = await startOutbound(cleanup, frontend, { transparent: { server: matchMemberOf(TD), lookup } });
});

test('control: a name that resolves to the backend is dialled and served', async () => {
  const r = await h1Request(outboundPort, { path: '/control', headers: { host: `localhost:${mesh.inboundPort}` } });
  assert.equal(r.status, 200);
  assert.ok(resolved.includes('localhost'));
});

const SPELLINGS: readonly [spelling: string, address: string][] = [
  ['2130706433', '127.0.0.1'],
  ['0x7f000001', '127.0.0.1'],
  ['127.1', '127.0.0.1'],
  ['0177.0.0.1', '127.0.0.1'],
  ['0x7f.0.0.1', '127.0.0.1'],
  ['127.0.0.1.', '127.0.0.1'],
  ['10.5', '10.0.0.5'],
  ['167772165', '10.0.0.5'],
  ['[::ffff:7f00:1]', '::ffff:7f00:1'],
  ['[0:0:0:0:0:ffff:127.0.0.1]', '::ffff:7f00:1'],
];

for (const [spelling, address] of SPELLINGS) {
  test(`Host ${spelling} is the IP literal ${address}: 403, never resolved, never forwarded`, async () => {
    const before = (await app.seen()).length;
    const path = `/ip/${encodeURIComponent(spelling)}`;
    const r = await h1Request(outboundPort, { path, headers: { host: `${spelling}:${mesh.inboundPort}` } });
    assert.equal(r.status, 403, `got ${r.status}: ${r.body}`);
    assert.match(r.body, new RegExp(`an IP address names no workload, so there is no server identity to expect from it \\(the host is ${address.replace(/[.]/g, '\\.')}\\)`));
    assert.ok(!resolved.includes(spelling.replace(/^\[|\]$/g, '')), `${spelling} was handed to the resolver`);
    assert.equal((await app.seen()).length, before, 'nothing reached the app');
  });
}
