import { test } from 'node:test';
import assert from 'node:assert/strict';
import { HeaderError, callerIdentity, parseXfcc, xfccValue } from '../../../sidecar/headers/index.ts';
import { SpiffeId } from '../../../sidecar/spiffe/index.ts';

const PEER = SpiffeId.parse('spiffe://example.org/frontend');
const LOCAL = SpiffeId.parse('spiffe://example.org/backend');
const HASH = '468ed33be74eee6556d90c0149c1309e9ba61d6425303443c0748a02dd8de688';

/** Something typed as a SpiffeId whose string form is `s`: what a bug elsewhere could hand us. */
const fakeId = (s: string): SpiffeId => ({ toString: () => s }) as unknown as SpiffeId;

test('callerIdentity: builds the SPIFFE ID value and By;Hash;URI XFCC', () => {
  const r = callerIdentity({ id: PEER, leafSha256Hex: HASH }, LOCAL);
  assert.ok(r.ok);
  assert.deepEqual(r.identity, {
    peerId: 'spiffe://example.org/frontend',
    xfcc: `By=spiffe://example.org/backend;Hash=${HASH};URI=spiffe://example.org/frontend`,
  });
  const [element] = parseXfcc(r.identity.xfcc);
  assert.equal(xfccValue(element!, 'uri'), PEER.toString());
  assert.equal(xfccValue(element!, 'BY'), LOCAL.toString());
});

test('callerIdentity: writes the hash in lowercase', () => {
  const r = callerIdentity({ id: PEER, leafSha256Hex: HASH.toUpperCase() }, LOCAL);
  assert.ok(r.ok && r.identity.xfcc.includes(`Hash=${HASH};`));
});

const bad: { name: string; peer: SpiffeId; hash: unknown; local: SpiffeId; problem: RegExp }[] = [
  { name: 'hash too short', peer: PEER, hash: HASH.slice(1), local: LOCAL, problem: /64 hex digits/ },
  { name: 'hash with colons (fingerprint style)', peer: PEER, hash: HASH.slice(0, 62).replace(/(..)/g, '$1:').slice(0, 64), local: LOCAL, problem: /64 hex digits/ },
  { name: 'hash not hex', peer: PEER, hash: 'g' + HASH.slice(1), local: LOCAL, problem: /64 hex digits/ },
  { name: 'hash not a string', peer: PEER, hash: 42, local: LOCAL, problem: /got number/ },
  { name: 'CR LF in peer ID', peer: fakeId('spiffe://a/b\r\nx-client-spiffe-id: spiffe://a/admin'), hash: HASH, local: LOCAL, problem: /peer ID .* not allowed in a header/ },
  { name: 'NUL in peer ID', peer: fakeId('spiffe://a/b\u0000'), hash: HASH, local: LOCAL, problem: /peer ID/ },
  { name: 'LF in local ID', peer: PEER, hash: HASH, local: fakeId('spiffe://a/b\n'), problem: /local ID/ },
  { name: 'space in peer ID', peer: fakeId('spiffe://a/b c'), hash: HASH, local: LOCAL, problem: /peer ID/ },
  { name: 'empty peer ID', peer: fakeId(''), hash: HASH, local: LOCAL, problem: /peer ID/ },
];
for (const row of bad) {
  test(`callerIdentity: refuses ${row.name}`, () => {
    const r = callerIdentity({ id: row.peer, leafSha256Hex: row.hash as string }, row.local);
    assert.equal(r.ok, false);
    if (!r.ok) {
      assert.ok(r.error instanceof HeaderError);
      assert.equal(r.error.code, 'headers.invalid_value');
      assert.match(r.error.message, /^headers: /);
      assert.match(r.error.message, row.problem);
    }
  });
}

test('callerIdentity: quotes XFCC delimiters in an ID, so they cannot add pairs', () => {
  const r = callerIdentity({ id: fakeId('spiffe://a/b;By=x'), leafSha256Hex: HASH }, LOCAL);
  assert.ok(r.ok);
  const [element] = parseXfcc(r.identity.xfcc);
  assert.equal(element!.length, 3);
  assert.equal(xfccValue(element!, 'URI'), 'spiffe://a/b;By=x');
  assert.equal(xfccValue(element!, 'By'), LOCAL.toString());
});
