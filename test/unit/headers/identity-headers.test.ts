import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  HeaderError,
  IdentityHeaders,
  type CallerIdentity,
  type HeaderObject,
  type IdentityHeaderOptions,
} from '../../../sidecar/headers/index.ts';

const caller: CallerIdentity = { peerId: 'spiffe://example.org/frontend', xfcc: 'By=spiffe://example.org/backend;Hash=00;URI=spiffe://example.org/frontend' };
const OURS = ['x-client-spiffe-id', caller.peerId, 'x-forwarded-client-cert', caller.xfcc];

type Row = { name: string; raw: string[]; kept: string[]; options?: IdentityHeaderOptions };

// `kept` is what must survive in both directions; inbound then appends ours.
const rows: Row[] = [
  { name: 'unrelated headers kept in order, names as sent', raw: ['Host', 'a', 'X-Other', 'b', 'host', 'c'], kept: ['Host', 'a', 'X-Other', 'b', 'host', 'c'] },
  { name: 'SPIFFE ID header removed', raw: ['x-client-spiffe-id', 'spiffe://evil/x', 'Host', 'a'], kept: ['Host', 'a'] },
  { name: 'XFCC header removed', raw: ['x-forwarded-client-cert', 'URI=spiffe://evil/x'], kept: [] },
  { name: 'mixed case removed', raw: ['X-Client-SPIFFE-Id', 'e', 'X-FORWARDED-CLIENT-CERT', 'e'], kept: [] },
  { name: 'every duplicate removed', raw: ['x-client-spiffe-id', '1', 'A', 'a', 'X-Client-Spiffe-Id', '2', 'x-client-spiffe-id', '3'], kept: ['A', 'a'] },
  { name: 'underscore spelling removed', raw: ['X_Client_Spiffe_Id', 'e', 'x_forwarded_client_cert', 'e', 'x-client_spiffe-id', 'e'], kept: [] },
  {
    name: 'names that only resemble ours kept',
    raw: ['x-client-spiffe-ids', '1', 'x-client-spiffe-i', '2', 'x-forwarded-client', '3', 'xx-client-spiffe-id', '4'],
    kept: ['x-client-spiffe-ids', '1', 'x-client-spiffe-i', '2', 'x-forwarded-client', '3', 'xx-client-spiffe-id', '4'],
  },
  { name: 'Connection token naming ours removed', raw: ['Connection', 'keep-alive, X-Client-Spiffe-Id'], kept: ['Connection', 'keep-alive'] },
  { name: 'Connection naming only ours dropped', raw: ['CONNECTION', 'x-forwarded-client-cert', 'A', 'a'], kept: ['A', 'a'] },
  { name: 'Connection with spaces, tabs and empty tokens', raw: ['connection', ' , x_forwarded_client_cert\t,close ,'], kept: ['connection', 'close'] },
  { name: 'Connection naming nothing of ours unchanged', raw: ['Connection', 'keep-alive, Upgrade', 'Upgrade', 'h2c'], kept: ['Connection', 'keep-alive, Upgrade', 'Upgrade', 'h2c'] },
  { name: 'odd trailing item dropped', raw: ['A', 'a', 'B'], kept: ['A', 'a'] },
  {
    name: 'custom names removed, and the defaults too',
    options: { spiffeIdHeader: 'x-peer-id', xfccHeader: 'x-peer-cert' },
    raw: ['X-Peer-Id', 'e', 'x-peer-cert', 'e', 'x-client-spiffe-id', 'e', 'x-forwarded-client-cert', 'e', 'A', 'a'],
    kept: ['A', 'a'],
  },
];

for (const row of rows) {
  test(`IdentityHeaders raw form: inbound: ${row.name}`, () => {
    const h = new IdentityHeaders(row.options);
    const appended = [h.spiffeIdHeader, caller.peerId, h.xfccHeader, caller.xfcc];
    assert.deepEqual(h.inbound(row.raw, caller), [...row.kept, ...appended]);
  });
  test(`IdentityHeaders raw form: outbound: ${row.name}`, () => {
    assert.deepEqual(new IdentityHeaders(row.options).outbound(row.raw), row.kept);
  });
}

test('IdentityHeaders raw form: does not modify its input', () => {
  const raw = ['x-client-spiffe-id', 'e'];
  new IdentityHeaders().inbound(raw, caller);
  assert.deepEqual(raw, ['x-client-spiffe-id', 'e']);
});

test('IdentityHeaders raw form: appends exactly one of each', () => {
  const out = new IdentityHeaders().inbound(['x-client-spiffe-id', 'a', 'x-client-spiffe-id', 'b'], caller);
  assert.deepEqual(out, OURS);
});

const h = new IdentityHeaders();
const rowsObj: { name: string; headers: HeaderObject; kept: Record<string, string | readonly string[]> }[] = [
  { name: 'unrelated headers and pseudo-headers kept', headers: { ':path': '/a', host: 'h', accept: ['a', 'b'] }, kept: { ':path': '/a', host: 'h', accept: ['a', 'b'] } },
  { name: 'ours removed, any case, arrays too', headers: { 'x-client-spiffe-id': ['a', 'b'], 'X-Forwarded-Client-Cert': 'c', a: '1' }, kept: { a: '1' } },
  { name: 'underscore spelling removed', headers: { x_client_spiffe_id: 'e' }, kept: {} },
  { name: 'undefined values skipped', headers: { a: undefined, b: '1' }, kept: { b: '1' } },
  { name: 'Connection scrubbed', headers: { connection: 'x-client-spiffe-id, close' }, kept: { connection: 'close' } },
  { name: 'Connection list scrubbed and joined', headers: { Connection: ['close', 'X-Forwarded-Client-Cert'] }, kept: { Connection: 'close' } },
  { name: 'Connection naming only ours dropped', headers: { connection: 'x-client-spiffe-id' }, kept: {} },
];
for (const row of rowsObj) {
  test(`IdentityHeaders object form: inbound: ${row.name}`, () => {
    assert.deepEqual({ ...h.inboundObject(row.headers, caller) }, { ...row.kept, 'x-client-spiffe-id': caller.peerId, 'x-forwarded-client-cert': caller.xfcc });
  });
  test(`IdentityHeaders object form: outbound: ${row.name}`, () => {
    assert.deepEqual({ ...h.outboundObject(row.headers) }, row.kept);
  });
}

test('IdentityHeaders object form: returns an object without prototype, so "__proto__" stays an ordinary header', () => {
  const input = JSON.parse('{"__proto__": "x", "a": "1"}') as HeaderObject;
  const out = h.outboundObject(input);
  assert.equal(Object.getPrototypeOf(out), null);
  assert.deepEqual(Object.keys(out), ['__proto__', 'a']);
});

test('IdentityHeaders configuration: defaults', () => {
  const h = new IdentityHeaders();
  assert.equal(h.spiffeIdHeader, 'x-client-spiffe-id');
  assert.equal(h.xfccHeader, 'x-forwarded-client-cert');
  assert.ok(h.isIdentityHeader('X_Forwarded_Client_Cert'));
  assert.ok(!h.isIdentityHeader('x-forwarded-client-certs'));
});

const bad: { name: string; options: IdentityHeaderOptions; problem: RegExp }[] = [
  { name: 'uppercase', options: { spiffeIdHeader: 'X-Peer' }, problem: /spiffeIdHeader "X-Peer": use 1-64 lowercase/ },
  { name: 'underscore', options: { xfccHeader: 'x_peer' }, problem: /xfccHeader "x_peer": use 1-64 lowercase/ },
  { name: 'empty', options: { spiffeIdHeader: '' }, problem: /spiffeIdHeader "": use/ },
  { name: 'pseudo-header', options: { spiffeIdHeader: ':peer' }, problem: /spiffeIdHeader ":peer": use/ },
  { name: 'too long', options: { spiffeIdHeader: 'x'.repeat(65) }, problem: /spiffeIdHeader "x+": use 1-64/ },
  { name: 'hop-by-hop name', options: { xfccHeader: 'connection' }, problem: /xfccHeader "connection": is a standard HTTP header/ },
  { name: 'host', options: { spiffeIdHeader: 'host' }, problem: /spiffeIdHeader "host": is a standard HTTP header/ },
  { name: 'the same name twice', options: { spiffeIdHeader: 'x-id', xfccHeader: 'x-id' }, problem: /must differ/ },
];
for (const row of bad) {
  test(`IdentityHeaders configuration: refuses ${row.name}`, () => {
    assert.throws(
      () => new IdentityHeaders(row.options),
      (err: unknown) => err instanceof HeaderError && err.code === 'headers.invalid_name' && row.problem.test(err.message),
    );
  });
}
