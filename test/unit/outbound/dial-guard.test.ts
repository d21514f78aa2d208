import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { LookupAddress } from 'node:dns';
import { guardedLookup, isForbiddenDestination } from '../../../sidecar/outbound/index.ts';
import { ForwardError } from '../../../sidecar/forward/index.ts';

const destinations: [address: string, forbidden: boolean, why: string][] = [
  ['127.0.0.1', true, 'loopback: the pod itself'],
  ['127.42.0.9', true, 'all of 127/8 is loopback'],
  ['0.0.0.0', true, 'unspecified: connects to the local host'],
  ['0.1.2.3', true, '0/8 is "this network"'],
  ['169.254.169.254', true, 'link-local: cloud metadata endpoints'],
  ['224.0.0.1', true, 'multicast'],
  ['255.255.255.255', true, 'broadcast'],
  ['::1', true, 'IPv6 loopback'],
  ['::', true, 'IPv6 unspecified'],
  ['fe80::1', true, 'IPv6 link-local'],
  ['ff02::1', true, 'IPv6 multicast'],
  ['::ffff:127.0.0.1', true, 'IPv4-mapped loopback'],
  ['::FFFF:169.254.1.1', true, 'IPv4-mapped link-local, any case'],
  ['not-an-address', true, 'only IP literals can be checked'],
  ['10.213.7.3', false, 'a pod IP'],
  ['192.0.2.10', false, 'an ordinary unicast address'],
  ['fd00::5', false, 'IPv6 unique local'],
  ['::ffff:10.0.0.5', false, 'IPv4-mapped unicast'],
  ['::ffff:7f00:1', true, 'IPv4-mapped loopback in hex'],
  ['::7f00:1', true, 'IPv4-compatible loopback (::/96, RFC 4291 §2.5.5.1)'],
  ['2130706433', true, 'not an address a resolver answers: fail closed'],
];

for (const [address, forbidden, why] of destinations) {
  test(`isForbiddenDestination: ${address}: ${forbidden ? 'refused' : 'allowed'} (${why})`, () => assert.equal(isForbiddenDestination(address), forbidden));
}

/** A stand-in for dns.lookup answering from a table (always called with all: true). */
function fakeResolver(table: Record<string, LookupAddress[]>) {
  return ((hostname: string, options: { all?: boolean }, cb: (err: NodeJS.ErrnoException | null, list: LookupAddress[]) => void) => {
    assert.equal(options.all, true, 'the guard must see every address');
    const found = table[hostname];
    if (found === undefined) {
      cb(Object.assign(new Error(`getaddrinfo ENOTFOUND ${hostname}`), { code: 'ENOTFOUND' }), []);
      return;
    }
    cb(null, found);
  }) as unknown as typeof import('node:dns').lookup;
}

const resolve = fakeResolver({
  backend: [{ address: '10.213.7.3', family: 4 }],
  localhost: [
    { address: '127.0.0.1', family: 4 },
    { address: '::1', family: 6 },
  ],
  mixed: [
    { address: '127.0.0.1', family: 4 },
    { address: '10.213.7.4', family: 4 },
  ],
});

function lookupOnce(hostname: string, all: boolean): Promise<{ err: NodeJS.ErrnoException | null; address: unknown; family: unknown }> {
  const lookup = guardedLookup(resolve);
  return new Promise((done) => {
    (lookup as unknown as (h: string, o: object, cb: (...a: unknown[]) => void) => void)(hostname, { all }, (err, address, family) =>
      done({ err: err as NodeJS.ErrnoException | null, address, family }),
    );
  });
}

test('guardedLookup: passes an allowed single answer through', async () => {
  const r = await lookupOnce('backend', false);
  assert.equal(r.err, null);
  assert.deepEqual([r.address, r.family], ['10.213.7.3', 4]);
});

test('guardedLookup: refuses a name that resolves only to forbidden addresses, naming them', async () => {
  const r = await lookupOnce('localhost', false);
  assert.ok(r.err instanceof ForwardError);
  assert.equal(r.err.code, 'forward.connect_failed');
  assert.match(r.err.message, /localhost resolves to 127\.0\.0\.1, ::1, which transparent mode never dials/);
});

test('guardedLookup: keeps only the allowed addresses of a mixed answer', async () => {
  const single = await lookupOnce('mixed', false);
  assert.deepEqual([single.err, single.address], [null, '10.213.7.4']);
  const all = await lookupOnce('mixed', true);
  assert.deepEqual(all.address, [{ address: '10.213.7.4', family: 4 }]);
});

// Names getaddrinfo would read as addresses (issue 12) are refused unresolved.
for (const host of ['2130706433', '0x7f000001', '127.1', '0177.0.0.1', '10.5', '167772165', '::ffff:7f00:1', '1.2.3.4.5']) {
  test(`guardedLookup: refuses ${host} without resolving it: an address, not a name`, async () => {
    let resolved = false;
    const spy = ((h: string, o: object, cb: (e: null, l: LookupAddress[]) => void) => {
      resolved = true;
      cb(null, [{ address: '10.0.0.5', family: 4 }]);
    }) as unknown as typeof import('node:dns').lookup;
    const r = await new Promise<{ err: unknown }>((done) => {
      (guardedLookup(spy) as unknown as (h: string, o: object, cb: (e: unknown) => void) => void)(host, { all: false }, (err) => done({ err }));
    });
    assert.ok(r.err instanceof ForwardError, `got ${String(r.err)}`);
    assert.equal(r.err.code, 'forward.connect_failed');
    assert.match(r.err.message, /not a name/);
    assert.equal(resolved, false);
  });
}

test('guardedLookup: passes resolver errors through (ENOTFOUND becomes 503 in the dialer)', async () => {
  const r = await lookupOnce('nowhere', false);
  assert.equal(r.err?.code, 'ENOTFOUND');
});
