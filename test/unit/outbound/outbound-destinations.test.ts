import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ManualClock, silentLogger, type ProxyLimits } from '../../../sidecar/core/index.ts';
import { noopProxyMetrics } from '../../../sidecar/metrics/index.ts';
import { matchMemberOf } from '../../../sidecar/spiffe/index.ts';
import { SecureContextStore } from '../../../sidecar/tls/index.ts';
import { OutboundDestinations, type Destination } from '../../../sidecar/outbound/outbound-destinations.ts';
import { MutableSource, bundleSetOf, makeCa, makeLeaf, svidOf } from '../../support/tls-pki.ts';

const ca = await makeCa('a.test');
const source = new MutableSource(svidOf(await makeLeaf(ca, 'spiffe://a.test/me')), bundleSetOf(ca));
const limits: ProxyLimits = { maxHeaderBytes: 16384, maxConnections: 8, idleTimeoutMs: 1000, requestTimeoutMs: 1000, headersTimeoutMs: 1000, connectTimeoutMs: 1000 };

function destinations(maxDialled: number): OutboundDestinations {
  return new OutboundDestinations({
    svidSource: source,
    bundleSource: source,
    credentials: undefined,
    store: new SecureContextStore({ svidSource: source, bundleSource: source }),
    limits,
    metrics: noopProxyMetrics,
    clock: new ManualClock(),
    logger: silentLogger,
    transparentLookup: undefined,
    maxDialled,
  });
}

/** One row: dial `calls` in order, then compare the results of calls `a` and `b`. */
interface Row {
  readonly name: string;
  readonly max: number;
  readonly calls: readonly (readonly [string, number])[];
  readonly a: number;
  readonly b: number;
  readonly same: boolean;
}

const rows: readonly Row[] = [
  { name: 'a destination dialled again is reused', max: 4, calls: [['a.test', 80], ['a.test', 80]], a: 0, b: 1, same: true },
  { name: 'host and port both key a destination', max: 4, calls: [['a.test', 80], ['a.test', 81]], a: 0, b: 1, same: false },
  { name: 'beyond the bound the least recently used is dropped', max: 2, calls: [['a.test', 80], ['b.test', 80], ['c.test', 80], ['a.test', 80]], a: 0, b: 3, same: false },
  { name: 'a reuse makes a destination the most recently used', max: 2, calls: [['a.test', 80], ['b.test', 80], ['a.test', 80], ['c.test', 80], ['a.test', 80]], a: 0, b: 4, same: true },
];

for (const row of rows) {
  test(`OutboundDestinations.dialled: ${row.name}`, () => {
    const d = destinations(row.max);
    const got: Destination[] = row.calls.map(([host, port]) => d.dialled(host, port, matchMemberOf('a.test'), 'http1'));
    assert.equal(got[row.a] === got[row.b], row.same);
    d.destroy();
  });
}

test('OutboundDestinations: a destination is named by its address and keeps its protocol', () => {
  const d = destinations(4);
  const dialled = d.dialled('::1', 8443, matchMemberOf('a.test'), 'h2');
  const configured = d.configured('backend:8080', { host: '127.0.0.1', port: 9443 }, matchMemberOf('a.test'), 'http1');
  assert.deepEqual([dialled.name, dialled.protocol, dialled.h1.dst, dialled.h2.dst], ['[::1]:8443', 'h2', '[::1]:8443', '[::1]:8443']);
  assert.deepEqual([configured.name, configured.protocol, configured.h1.dst], ['backend:8080', 'http1', 'backend:8080']);
  d.destroy();
});
