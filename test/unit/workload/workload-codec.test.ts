import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ProtoError, loadWorkloadApiProto, type ProtoErrorCode } from '../../../sidecar/workload/index.ts';

// The hand-written Workload API codec against hand-built wire bytes
// (Protocol Buffers "Encoding" guide): golden encodings, unknown fields,
// and one row per decoding rule.

const service = loadWorkloadApiProto().service;
const x509 = service.FetchX509SVID;
const jwtReq = service.FetchJWTSVID;
const validate = service.ValidateJWTSVID;

/** A varint from a non-negative integer (or bigint for values above 2^53). */
function varint(n: number | bigint): number[] {
  let v = BigInt(n);
  const out: number[] = [];
  while (v >= 0x80n) {
    out.push(Number(v & 0x7fn) | 0x80);
    v >>= 7n;
  }
  out.push(Number(v));
  return out;
}

/** One length-delimited field. */
function len(field: number, payload: readonly number[] | Buffer): number[] {
  const bytes = [...payload];
  return [...varint(field * 8 + 2), ...varint(bytes.length), ...bytes];
}

const ascii = (s: string): number[] => [...Buffer.from(s, 'utf8')];
const buf = (...parts: (readonly number[])[]): Buffer => Buffer.from(parts.flat());

/** A minimal valid X509SVID message body: spiffe_id "a". */
const svidBody = len(1, ascii('a'));

test('golden encodings match the protobuf wire format byte for byte', () => {
  const rows: { name: string; got: Buffer; want: Buffer }[] = [
    { name: 'JWTSVIDRequest: repeated string, then string', got: jwtReq.requestSerialize({ audience: ['x', ''], spiffe_id: 'y' }), want: buf([0x0a, 1, 0x78], [0x0a, 0], [0x12, 1, 0x79]) },
    { name: 'proto3 defaults are not written', got: jwtReq.requestSerialize({ audience: [], spiffe_id: '' }), want: buf() },
    {
      name: 'X509SVIDResponse: svid sub-message, crl, map entry',
      got: x509.responseSerialize({ svids: [{ spiffe_id: 'a', x509_svid: Buffer.from([1]), x509_svid_key: Buffer.alloc(0), bundle: Buffer.alloc(0), hint: '' }], crl: [Buffer.from([9])], federated_bundles: { k: Buffer.from([7]) } }),
      want: buf(len(1, [...len(1, ascii('a')), ...len(2, [1])]), len(2, [9]), len(3, [...len(1, ascii('k')), ...len(2, [7])])),
    },
    {
      name: 'Value: a number 0 and false are written (oneof presence)',
      got: validate.responseSerialize({ spiffe_id: '', claims: { fields: { n: { numberValue: 0 }, b: { boolValue: false } } } }),
      want: buf(len(2, [...len(1, [...len(1, ascii('n')), ...len(2, [0x11, 0, 0, 0, 0, 0, 0, 0, 0])]), ...len(1, [...len(1, ascii('b')), ...len(2, [0x20, 0])])])),
    },
    { name: 'an absent Struct is not written', got: validate.responseSerialize({ spiffe_id: 's', claims: null }), want: buf(len(1, ascii('s'))) },
  ];
  for (const r of rows) assert.deepEqual(r.got, r.want, r.name);
});

test('decoding fills proto3 defaults for absent fields', () => {
  assert.deepEqual(x509.responseDeserialize(buf(len(1, []))), {
    svids: [{ spiffe_id: '', x509_svid: Buffer.alloc(0), x509_svid_key: Buffer.alloc(0), bundle: Buffer.alloc(0), hint: '' }],
    crl: [],
    federated_bundles: {},
  });
  assert.deepEqual(validate.responseDeserialize(buf()), { spiffe_id: '', claims: null });
  assert.deepEqual(jwtReq.requestDeserialize(buf()), { audience: [], spiffe_id: '' });
});

test('messages survive encode then decode', () => {
  const x509Msg = {
    svids: [
      { spiffe_id: 'spiffe://example.org/a', x509_svid: Buffer.from('cert'), x509_svid_key: Buffer.from('key'), bundle: Buffer.from('ca'), hint: 'internal' },
      { spiffe_id: 'spiffe://example.org/b', x509_svid: Buffer.from('c2'), x509_svid_key: Buffer.from('k2'), bundle: Buffer.alloc(0), hint: '' },
    ],
    crl: [Buffer.from('crl1'), Buffer.from('crl2')],
    federated_bundles: { 'spiffe://other.org': Buffer.from('fed'), 'spiffe://ü.example': Buffer.from('x') },
  };
  assert.deepEqual(x509.responseDeserialize(x509.responseSerialize(x509Msg)), x509Msg);
  const bundles = service.FetchX509Bundles;
  assert.deepEqual(bundles.responseDeserialize(bundles.responseSerialize({ crl: [Buffer.from('c')], bundles: { 'spiffe://a.org': Buffer.from('der') } })), {
    crl: [Buffer.from('c')],
    bundles: { 'spiffe://a.org': Buffer.from('der') },
  });
  const jwt = service.FetchJWTSVID;
  const jwtRes = { svids: [{ spiffe_id: 'spiffe://example.org/a', svid: 'h.p.s', hint: 'h' }] };
  assert.deepEqual(jwt.responseDeserialize(jwt.responseSerialize(jwtRes)), jwtRes);
  const jwks = service.FetchJWTBundles;
  assert.deepEqual(jwks.responseDeserialize(jwks.responseSerialize({ bundles: { 'spiffe://a.org': Buffer.from('{"keys":[]}') } })), { bundles: { 'spiffe://a.org': Buffer.from('{"keys":[]}') } });
  assert.deepEqual(validate.requestDeserialize(validate.requestSerialize({ audience: 'aud', svid: 'tok' })), { audience: 'aud', svid: 'tok' });
  const claims = {
    fields: {
      s: { kind: 'stringValue', stringValue: 'é' },
      n: { kind: 'numberValue', numberValue: -1.5 },
      b: { kind: 'boolValue', boolValue: true },
      z: { kind: 'nullValue', nullValue: 'NULL_VALUE' },
      l: { kind: 'listValue', listValue: { values: [{ kind: 'numberValue', numberValue: 1 }, { kind: 'structValue', structValue: { fields: {} } }] } },
    },
  };
  assert.deepEqual(validate.responseDeserialize(validate.responseSerialize({ spiffe_id: 'x', claims })), { spiffe_id: 'x', claims });
  const wit = service.FetchWITSVID;
  assert.deepEqual(wit.requestDeserialize(wit.requestSerialize({ spiffe_id: 'spiffe://a.org/w' })), { spiffe_id: 'spiffe://a.org/w' });
  const witRes = { svids: [{ spiffe_id: 'a', wit_svid: 'b', wit_svid_key: 'c', hint: 'd' }] };
  assert.deepEqual(wit.responseDeserialize(wit.responseSerialize(witRes)), witRes);
  const witB = service.FetchWITBundles;
  assert.deepEqual(witB.responseDeserialize(witB.responseSerialize({ bundles: { 'spiffe://a.org': '{}' } })), { bundles: { 'spiffe://a.org': '{}' } });
});

test('unknown fields of every wire type are skipped, at the top level and inside sub-messages', () => {
  const unknown: { name: string; bytes: number[] }[] = [
    { name: 'varint', bytes: [...varint(9 * 8 + 0), ...varint(2 ** 40)] },
    { name: '64-bit', bytes: [...varint(9 * 8 + 1), 1, 2, 3, 4, 5, 6, 7, 8] },
    { name: 'length-delimited', bytes: len(9, [1, 2, 3]) },
    { name: '32-bit', bytes: [...varint(9 * 8 + 5), 1, 2, 3, 4] },
  ];
  const want = x509.responseDeserialize(buf(len(1, svidBody)));
  for (const u of unknown) {
    assert.deepEqual(x509.responseDeserialize(buf(u.bytes, len(1, svidBody))), want, `${u.name} before`);
    assert.deepEqual(x509.responseDeserialize(buf(len(1, [...svidBody, ...u.bytes]))), want, `${u.name} inside X509SVID`);
  }
  // Empty request messages ignore whatever a newer client adds.
  assert.deepEqual(x509.requestDeserialize(buf(len(3, [1]))), {});
});

test('map fields: the last value of a repeated key wins, "__proto__" stays a plain key, a missing key is ""', () => {
  const entry = (k: string, v: number): number[] => len(3, [...len(1, ascii(k)), ...len(2, [v])]);
  const m = x509.responseDeserialize(buf(entry('k', 1), entry('k', 2), entry('__proto__', 3), len(3, len(2, [4]))));
  assert.deepEqual(m.federated_bundles['k'], Buffer.from([2]));
  assert.equal(Object.getPrototypeOf(m.federated_bundles), Object.prototype);
  assert.deepEqual(Object.getOwnPropertyDescriptor(m.federated_bundles, '__proto__')?.value, Buffer.from([3]));
  assert.deepEqual(m.federated_bundles[''], Buffer.from([4]));
});

test('a Value keeps the last oneof member on the wire', () => {
  const value = [0x1a, 1, 0x61, 0x20, 1]; // string_value "a", then bool_value true
  const msg = validate.responseDeserialize(buf(len(2, len(1, [...len(1, ascii('v')), ...len(2, value)]))));
  assert.deepEqual(msg.claims?.fields['v'], { kind: 'boolValue', boolValue: true });
});

/** Nests `depth` ListValues inside one Value. */
function nestedLists(depth: number): number[] {
  let v: number[] = [0x08, 0]; // null_value
  for (let i = 0; i < depth; i++) v = len(6, len(1, v));
  return v;
}

test('malformed encodings are refused with a typed error, one row per rule', () => {
  const rows: { name: string; decode: (b: Buffer) => unknown; bytes: Buffer; code: ProtoErrorCode }[] = [
    { name: 'varint cut off by the end of the message', decode: x509.responseDeserialize, bytes: buf([0x80]), code: 'proto.truncated' },
    { name: 'varint longer than 10 bytes', decode: x509.responseDeserialize, bytes: buf(Array(10).fill(0xff), [0x01]), code: 'proto.varint_too_long' },
    { name: 'tenth varint byte above 1 (over 64 bits)', decode: x509.responseDeserialize, bytes: buf(Array(9).fill(0xff), [0x02]), code: 'proto.varint_too_long' },
    { name: 'length runs past the end of the message', decode: x509.responseDeserialize, bytes: buf([0x12, 5], ascii('ab')), code: 'proto.truncated' },
    { name: 'length above 2^31-1', decode: x509.responseDeserialize, bytes: buf([0x12], varint(2 ** 31)), code: 'proto.length_out_of_range' },
    { name: 'length beyond the enclosing sub-message', decode: x509.responseDeserialize, bytes: buf(len(1, [0x0a, 5, 0x61]), ascii('bcde')), code: 'proto.truncated' },
    { name: 'tag above 2^32 (field number over 2^29-1)', decode: x509.responseDeserialize, bytes: buf(varint(2n ** 35n + 2n), [0]), code: 'proto.length_out_of_range' },
    { name: 'field number 0', decode: x509.responseDeserialize, bytes: buf([0x02, 0]), code: 'proto.bad_field_number' },
    { name: 'wire type 6', decode: x509.responseDeserialize, bytes: buf(varint(9 * 8 + 6)), code: 'proto.bad_wire_type' },
    { name: 'wire type 7', decode: x509.responseDeserialize, bytes: buf(varint(9 * 8 + 7)), code: 'proto.bad_wire_type' },
    { name: 'group start (wire type 3) in an unknown field', decode: x509.responseDeserialize, bytes: buf(varint(9 * 8 + 3), varint(9 * 8 + 4)), code: 'proto.bad_wire_type' },
    { name: 'known field with the wrong wire type (svids as varint)', decode: x509.responseDeserialize, bytes: buf([0x08, 1]), code: 'proto.wire_type_mismatch' },
    { name: 'known field with the wrong wire type inside a sub-message', decode: x509.responseDeserialize, bytes: buf(len(1, [0x0d, 1, 2, 3, 4])), code: 'proto.wire_type_mismatch' },
    { name: 'string field that is not UTF-8', decode: x509.responseDeserialize, bytes: buf(len(1, len(1, [0xff, 0xfe]))), code: 'proto.bad_utf8' },
    { name: 'string field with a lone surrogate encoded (CESU)', decode: jwtReq.requestDeserialize, bytes: buf(len(1, [0xed, 0xa0, 0x80])), code: 'proto.bad_utf8' },
    { name: 'double cut off', decode: validate.responseDeserialize, bytes: buf(len(2, len(1, [...len(1, ascii('n')), ...len(2, [0x11, 0, 0, 0])]))), code: 'proto.truncated' },
    { name: 'unknown 32-bit field cut off', decode: x509.responseDeserialize, bytes: buf(varint(9 * 8 + 5), [1, 2]), code: 'proto.truncated' },
    { name: 'unknown 64-bit field cut off', decode: x509.responseDeserialize, bytes: buf(varint(9 * 8 + 1), [1, 2, 3]), code: 'proto.truncated' },
    { name: 'Struct nested deeper than 64 messages', decode: validate.responseDeserialize, bytes: buf(len(2, len(1, [...len(1, ascii('d')), ...len(2, nestedLists(40))]))), code: 'proto.too_deep' },
  ];
  for (const r of rows) {
    assert.throws(
      () => r.decode(r.bytes),
      (err: unknown) => err instanceof ProtoError && err.code === r.code && err.message.startsWith('proto: '),
      r.name,
    );
  }
});

test('the depth limit leaves room for realistic nesting', () => {
  const ok = buf(len(2, len(1, [...len(1, ascii('d')), ...len(2, nestedLists(20))])));
  assert.doesNotThrow(() => validate.responseDeserialize(ok));
});

test('objects with members of the wrong type are refused when encoding, one row per field kind', () => {
  const rows: { name: string; encode: () => unknown }[] = [
    { name: 'string field given a number', encode: () => x509.responseSerialize({ svids: [{ spiffe_id: 1 }] } as never) },
    { name: 'bytes field given a string', encode: () => x509.responseSerialize({ svids: [{ spiffe_id: 'a', x509_svid: 'pem' }] } as never) },
    { name: 'repeated field given an object', encode: () => x509.responseSerialize({ svids: {} } as never) },
    { name: 'map field given an array', encode: () => x509.responseSerialize({ svids: [], federated_bundles: [] } as never) },
    { name: 'map value of the wrong type', encode: () => service.FetchJWTBundles.responseSerialize({ bundles: { a: 'text' } } as never) },
    { name: 'repeated string with a non-string', encode: () => jwtReq.requestSerialize({ audience: [1], spiffe_id: '' } as never) },
    { name: 'Value member of the wrong type', encode: () => validate.responseSerialize({ spiffe_id: '', claims: { fields: { n: { numberValue: '1' } } } } as never) },
    { name: 'message that is not an object', encode: () => x509.responseSerialize(null as never) },
  ];
  for (const r of rows) {
    assert.throws(r.encode, (err: unknown) => err instanceof ProtoError && err.code === 'proto.bad_value', r.name);
  }
});
