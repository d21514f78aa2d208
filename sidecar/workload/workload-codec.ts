import { ProtoError } from './proto-error.ts';
import { ProtoReader, ProtoWriter, WIRE_I64, WIRE_LEN, WIRE_VARINT, fieldTable } from './proto-wire.ts';
import type {
  JwtBundlesResponseMessage,
  JwtSvidMessage,
  JwtSvidRequestMessage,
  JwtSvidResponseMessage,
  StructMessage,
  ValidateJwtSvidRequestMessage,
  ValidateJwtSvidResponseMessage,
  ValueMessage,
  WitBundlesResponseMessage,
  WitSvidMessage,
  WitSvidRequestMessage,
  WitSvidResponseMessage,
  X509BundlesResponseMessage,
  X509SvidMessage,
  X509SvidResponseMessage,
} from './workload-messages.ts';

// Encoders and decoders of the SpiffeWorkloadAPI messages, field numbers
// from sidecar/workload/proto/workload.proto (and google/protobuf/struct.proto
// for Struct, Value and ListValue). Decoded objects have every field, with
// proto3 defaults for absent ones ('' / empty Buffer / [] / {}; an absent
// sub-message is null), and map keys stay plain keys even when a peer sends
// "__proto__". Unknown fields are skipped; a known field with the wrong wire
// type, and any malformed encoding, throws a ProtoError.

const { LEN, VARINT, I64 } = { LEN: WIRE_LEN, VARINT: WIRE_VARINT, I64: WIRE_I64 };
const EMPTY = Buffer.alloc(0);

const T_X509_SVID_RESPONSE = fieldTable('X509SVIDResponse', [[1, 'svids', LEN], [2, 'crl', LEN], [3, 'federated_bundles', LEN]]);
const T_X509_SVID = fieldTable('X509SVID', [[1, 'spiffe_id', LEN], [2, 'x509_svid', LEN], [3, 'x509_svid_key', LEN], [4, 'bundle', LEN], [5, 'hint', LEN]]);
const T_X509_BUNDLES_RESPONSE = fieldTable('X509BundlesResponse', [[1, 'crl', LEN], [2, 'bundles', LEN]]);
const T_JWT_SVID_REQUEST = fieldTable('JWTSVIDRequest', [[1, 'audience', LEN], [2, 'spiffe_id', LEN]]);
const T_JWT_SVID_RESPONSE = fieldTable('JWTSVIDResponse', [[1, 'svids', LEN]]);
const T_JWT_SVID = fieldTable('JWTSVID', [[1, 'spiffe_id', LEN], [2, 'svid', LEN], [3, 'hint', LEN]]);
const T_JWT_BUNDLES_RESPONSE = fieldTable('JWTBundlesResponse', [[1, 'bundles', LEN]]);
const T_VALIDATE_REQUEST = fieldTable('ValidateJWTSVIDRequest', [[1, 'audience', LEN], [2, 'svid', LEN]]);
const T_VALIDATE_RESPONSE = fieldTable('ValidateJWTSVIDResponse', [[1, 'spiffe_id', LEN], [2, 'claims', LEN]]);
const T_WIT_SVID_REQUEST = fieldTable('WITSVIDRequest', [[1, 'spiffe_id', LEN]]);
const T_WIT_SVID_RESPONSE = fieldTable('WITSVIDResponse', [[1, 'svids', LEN]]);
const T_WIT_SVID = fieldTable('WITSVID', [[1, 'spiffe_id', LEN], [2, 'wit_svid', LEN], [3, 'wit_svid_key', LEN], [4, 'hint', LEN]]);
const T_WIT_BUNDLES_RESPONSE = fieldTable('WITBundlesResponse', [[1, 'bundles', LEN]]);
const T_EMPTY = fieldTable('(empty request)', []);
const T_MAP_BYTES = fieldTable('map entry', [[1, 'key', LEN], [2, 'value', LEN]]);
const T_STRUCT = fieldTable('google.protobuf.Struct', [[1, 'fields', LEN]]);
const T_VALUE = fieldTable('google.protobuf.Value', [[1, 'null_value', VARINT], [2, 'number_value', I64], [3, 'string_value', LEN], [4, 'bool_value', VARINT], [5, 'struct_value', LEN], [6, 'list_value', LEN]]);
const T_LIST = fieldTable('google.protobuf.ListValue', [[1, 'values', LEN]]);

function key(field: number, wire: number): number {
  return field * 8 + wire;
}

/** Sets `obj[k] = v` as an own data property, so "__proto__" stays a plain key. */
function setKey<V>(obj: Record<string, V>, k: string, v: V): void {
  Object.defineProperty(obj, k, { value: v, enumerable: true, writable: true, configurable: true });
}

// ---- decoding -------------------------------------------------------------

/** Decodes a map<string, bytes | string> entry at the reader (entered sub-message). */
function mapEntry<V>(r: ProtoReader, value: (r: ProtoReader) => V, empty: V): [string, V] {
  let k = '';
  let v = empty;
  while (r.more()) {
    const tag = r.tag();
    if (tag === key(1, LEN)) k = r.string();
    else if (tag === key(2, LEN)) v = value(r);
    else r.skip(tag, T_MAP_BYTES);
  }
  return [k, v];
}

/** Reads one entry of a map field into `into`; a repeated key keeps the last value (proto3 maps). */
function readMap<V>(r: ProtoReader, into: Record<string, V>, value: (r: ProtoReader) => V, empty: V): void {
  const outer = r.enter();
  const [k, v] = mapEntry(r, value, empty);
  r.leave(outer);
  setKey(into, k, v);
}

const readBytes = (r: ProtoReader): Buffer => r.bytes();
const readString = (r: ProtoReader): string => r.string();

/** Runs `decode` on an entered sub-message. */
function sub<M>(r: ProtoReader, decode: (r: ProtoReader) => M): M {
  const outer = r.enter();
  const m = decode(r);
  r.leave(outer);
  return m;
}

function x509Svid(r: ProtoReader): X509SvidMessage {
  const m: X509SvidMessage = { spiffe_id: '', x509_svid: EMPTY, x509_svid_key: EMPTY, bundle: EMPTY, hint: '' };
  while (r.more()) {
    const tag = r.tag();
    if (tag === key(1, LEN)) m.spiffe_id = r.string();
    else if (tag === key(2, LEN)) m.x509_svid = r.bytes();
    else if (tag === key(3, LEN)) m.x509_svid_key = r.bytes();
    else if (tag === key(4, LEN)) m.bundle = r.bytes();
    else if (tag === key(5, LEN)) m.hint = r.string();
    else r.skip(tag, T_X509_SVID);
  }
  return m;
}

function x509SvidResponse(r: ProtoReader): X509SvidResponseMessage {
  const m: X509SvidResponseMessage = { svids: [], crl: [], federated_bundles: {} };
  while (r.more()) {
    const tag = r.tag();
    if (tag === key(1, LEN)) m.svids.push(sub(r, x509Svid));
    else if (tag === key(2, LEN)) m.crl.push(r.bytes());
    else if (tag === key(3, LEN)) readMap(r, m.federated_bundles, readBytes, EMPTY);
    else r.skip(tag, T_X509_SVID_RESPONSE);
  }
  return m;
}

function x509BundlesResponse(r: ProtoReader): X509BundlesResponseMessage {
  const m: X509BundlesResponseMessage = { crl: [], bundles: {} };
  while (r.more()) {
    const tag = r.tag();
    if (tag === key(1, LEN)) m.crl.push(r.bytes());
    else if (tag === key(2, LEN)) readMap(r, m.bundles, readBytes, EMPTY);
    else r.skip(tag, T_X509_BUNDLES_RESPONSE);
  }
  return m;
}

function jwtSvidRequest(r: ProtoReader): JwtSvidRequestMessage {
  const m: JwtSvidRequestMessage = { audience: [], spiffe_id: '' };
  while (r.more()) {
    const tag = r.tag();
    if (tag === key(1, LEN)) m.audience.push(r.string());
    else if (tag === key(2, LEN)) m.spiffe_id = r.string();
    else r.skip(tag, T_JWT_SVID_REQUEST);
  }
  return m;
}

function jwtSvid(r: ProtoReader): JwtSvidMessage {
  const m: JwtSvidMessage = { spiffe_id: '', svid: '', hint: '' };
  while (r.more()) {
    const tag = r.tag();
    if (tag === key(1, LEN)) m.spiffe_id = r.string();
    else if (tag === key(2, LEN)) m.svid = r.string();
    else if (tag === key(3, LEN)) m.hint = r.string();
    else r.skip(tag, T_JWT_SVID);
  }
  return m;
}

function jwtSvidResponse(r: ProtoReader): JwtSvidResponseMessage {
  const m: JwtSvidResponseMessage = { svids: [] };
  while (r.more()) {
    const tag = r.tag();
    if (tag === key(1, LEN)) m.svids.push(sub(r, jwtSvid));
    else r.skip(tag, T_JWT_SVID_RESPONSE);
  }
  return m;
}

function jwtBundlesResponse(r: ProtoReader): JwtBundlesResponseMessage {
  const m: JwtBundlesResponseMessage = { bundles: {} };
  while (r.more()) {
    const tag = r.tag();
    if (tag === key(1, LEN)) readMap(r, m.bundles, readBytes, EMPTY);
    else r.skip(tag, T_JWT_BUNDLES_RESPONSE);
  }
  return m;
}

function validateRequest(r: ProtoReader): ValidateJwtSvidRequestMessage {
  const m: ValidateJwtSvidRequestMessage = { audience: '', svid: '' };
  while (r.more()) {
    const tag = r.tag();
    if (tag === key(1, LEN)) m.audience = r.string();
    else if (tag === key(2, LEN)) m.svid = r.string();
    else r.skip(tag, T_VALIDATE_REQUEST);
  }
  return m;
}

function struct(r: ProtoReader): StructMessage {
  const m: StructMessage = { fields: {} };
  while (r.more()) {
    const tag = r.tag();
    if (tag === key(1, LEN)) readMap<ValueMessage>(r, m.fields, (x) => sub(x, value), { kind: 'nullValue', nullValue: 'NULL_VALUE' });
    else r.skip(tag, T_STRUCT);
  }
  return m;
}

/** google.protobuf.Value: the last member of the `kind` oneof on the wire wins (proto3 oneof rule). */
function value(r: ProtoReader): ValueMessage {
  let m: ValueMessage = { kind: 'nullValue', nullValue: 'NULL_VALUE' };
  while (r.more()) {
    const tag = r.tag();
    if (tag === key(1, VARINT)) {
      r.varint();
      m = { kind: 'nullValue', nullValue: 'NULL_VALUE' };
    } else if (tag === key(2, I64)) m = { kind: 'numberValue', numberValue: r.double() };
    else if (tag === key(3, LEN)) m = { kind: 'stringValue', stringValue: r.string() };
    else if (tag === key(4, VARINT)) m = { kind: 'boolValue', boolValue: r.varint() !== 0 };
    else if (tag === key(5, LEN)) m = { kind: 'structValue', structValue: sub(r, struct) };
    else if (tag === key(6, LEN)) m = { kind: 'listValue', listValue: sub(r, list) };
    else r.skip(tag, T_VALUE);
  }
  return m;
}

function list(r: ProtoReader): { values: ValueMessage[] } {
  const m: { values: ValueMessage[] } = { values: [] };
  while (r.more()) {
    const tag = r.tag();
    if (tag === key(1, LEN)) m.values.push(sub(r, value));
    else r.skip(tag, T_LIST);
  }
  return m;
}

function validateResponse(r: ProtoReader): ValidateJwtSvidResponseMessage {
  const m: ValidateJwtSvidResponseMessage = { spiffe_id: '', claims: null };
  while (r.more()) {
    const tag = r.tag();
    if (tag === key(1, LEN)) m.spiffe_id = r.string();
    else if (tag === key(2, LEN)) m.claims = sub(r, struct);
    else r.skip(tag, T_VALIDATE_RESPONSE);
  }
  return m;
}

function witSvidRequest(r: ProtoReader): WitSvidRequestMessage {
  const m: WitSvidRequestMessage = { spiffe_id: '' };
  while (r.more()) {
    const tag = r.tag();
    if (tag === key(1, LEN)) m.spiffe_id = r.string();
    else r.skip(tag, T_WIT_SVID_REQUEST);
  }
  return m;
}

function witSvid(r: ProtoReader): WitSvidMessage {
  const m: WitSvidMessage = { spiffe_id: '', wit_svid: '', wit_svid_key: '', hint: '' };
  while (r.more()) {
    const tag = r.tag();
    if (tag === key(1, LEN)) m.spiffe_id = r.string();
    else if (tag === key(2, LEN)) m.wit_svid = r.string();
    else if (tag === key(3, LEN)) m.wit_svid_key = r.string();
    else if (tag === key(4, LEN)) m.hint = r.string();
    else r.skip(tag, T_WIT_SVID);
  }
  return m;
}

function witSvidResponse(r: ProtoReader): WitSvidResponseMessage {
  const m: WitSvidResponseMessage = { svids: [] };
  while (r.more()) {
    const tag = r.tag();
    if (tag === key(1, LEN)) m.svids.push(sub(r, witSvid));
    else r.skip(tag, T_WIT_SVID_RESPONSE);
  }
  return m;
}

function witBundlesResponse(r: ProtoReader): WitBundlesResponseMessage {
  const m: WitBundlesResponseMessage = { bundles: {} };
  while (r.more()) {
    const tag = r.tag();
    if (tag === key(1, LEN)) readMap(r, m.bundles, readString, '');
    else r.skip(tag, T_WIT_BUNDLES_RESPONSE);
  }
  return m;
}

function empty(r: ProtoReader): Record<string, never> {
  while (r.more()) r.skip(r.tag(), T_EMPTY);
  return {};
}

// ---- encoding -------------------------------------------------------------

function bad(message: string, field: string, expected: string): ProtoError {
  return new ProtoError('proto.bad_value', `${message}.${field} must be ${expected}`);
}

/** A proto3 string field: skipped when empty or absent. */
function putString(w: ProtoWriter, field: number, v: unknown, message: string, name: string): void {
  if (v === undefined || v === null || v === '') return;
  if (typeof v !== 'string') throw bad(message, name, 'a string');
  w.stringField(field, v);
}

/** A proto3 bytes field: skipped when empty or absent. */
function putBytes(w: ProtoWriter, field: number, v: unknown, message: string, name: string): void {
  if (v === undefined || v === null) return;
  if (!(v instanceof Uint8Array)) throw bad(message, name, 'a Buffer');
  if (v.length > 0) w.bytesField(field, v);
}

function listOf(v: unknown, message: string, name: string): readonly unknown[] {
  if (v === undefined || v === null) return [];
  if (!Array.isArray(v)) throw bad(message, name, 'an array');
  return v;
}

function entriesOf(v: unknown, message: string, name: string): [string, unknown][] {
  if (v === undefined || v === null) return [];
  if (typeof v !== 'object' || Array.isArray(v)) throw bad(message, name, 'an object');
  return Object.entries(v);
}

function putMessage(w: ProtoWriter, field: number, write: (w: ProtoWriter) => void): void {
  const inner = new ProtoWriter();
  write(inner);
  w.bytesField(field, inner.finish());
}

/** map<string, bytes | string>: one entry message per key (key = 1, value = 2). */
function putMap(w: ProtoWriter, field: number, v: unknown, message: string, name: string, put: typeof putBytes): void {
  for (const [k, val] of entriesOf(v, message, name)) {
    putMessage(w, field, (e) => {
      putString(e, 1, k, message, `${name} key`);
      put(e, 2, val, message, `${name}[${JSON.stringify(k)}]`);
    });
  }
}

function asObject(v: unknown, message: string): Record<string, unknown> {
  if (v === null || typeof v !== 'object' || Array.isArray(v)) throw new ProtoError('proto.bad_value', `${message} must be an object`);
  return v as Record<string, unknown>;
}

function putX509Svid(w: ProtoWriter, v: unknown): void {
  const m = asObject(v, 'X509SVID');
  putString(w, 1, m['spiffe_id'], 'X509SVID', 'spiffe_id');
  putBytes(w, 2, m['x509_svid'], 'X509SVID', 'x509_svid');
  putBytes(w, 3, m['x509_svid_key'], 'X509SVID', 'x509_svid_key');
  putBytes(w, 4, m['bundle'], 'X509SVID', 'bundle');
  putString(w, 5, m['hint'], 'X509SVID', 'hint');
}

function putX509SvidResponse(w: ProtoWriter, v: unknown): void {
  const m = asObject(v, 'X509SVIDResponse');
  for (const s of listOf(m['svids'], 'X509SVIDResponse', 'svids')) putMessage(w, 1, (x) => putX509Svid(x, s));
  for (const c of listOf(m['crl'], 'X509SVIDResponse', 'crl')) putBytes(w, 2, c, 'X509SVIDResponse', 'crl');
  putMap(w, 3, m['federated_bundles'], 'X509SVIDResponse', 'federated_bundles', putBytes);
}

function putX509BundlesResponse(w: ProtoWriter, v: unknown): void {
  const m = asObject(v, 'X509BundlesResponse');
  for (const c of listOf(m['crl'], 'X509BundlesResponse', 'crl')) putBytes(w, 1, c, 'X509BundlesResponse', 'crl');
  putMap(w, 2, m['bundles'], 'X509BundlesResponse', 'bundles', putBytes);
}

function putJwtSvidRequest(w: ProtoWriter, v: unknown): void {
  const m = asObject(v, 'JWTSVIDRequest');
  // Repeated strings are written even when empty: each element counts.
  for (const a of listOf(m['audience'], 'JWTSVIDRequest', 'audience')) {
    if (typeof a !== 'string') throw bad('JWTSVIDRequest', 'audience', 'an array of strings');
    w.stringField(1, a);
  }
  putString(w, 2, m['spiffe_id'], 'JWTSVIDRequest', 'spiffe_id');
}

function putJwtSvid(w: ProtoWriter, v: unknown): void {
  const m = asObject(v, 'JWTSVID');
  putString(w, 1, m['spiffe_id'], 'JWTSVID', 'spiffe_id');
  putString(w, 2, m['svid'], 'JWTSVID', 'svid');
  putString(w, 3, m['hint'], 'JWTSVID', 'hint');
}

function putJwtSvidResponse(w: ProtoWriter, v: unknown): void {
  const m = asObject(v, 'JWTSVIDResponse');
  for (const s of listOf(m['svids'], 'JWTSVIDResponse', 'svids')) putMessage(w, 1, (x) => putJwtSvid(x, s));
}

function putJwtBundlesResponse(w: ProtoWriter, v: unknown): void {
  putMap(w, 1, asObject(v, 'JWTBundlesResponse')['bundles'], 'JWTBundlesResponse', 'bundles', putBytes);
}

function putValidateRequest(w: ProtoWriter, v: unknown): void {
  const m = asObject(v, 'ValidateJWTSVIDRequest');
  putString(w, 1, m['audience'], 'ValidateJWTSVIDRequest', 'audience');
  putString(w, 2, m['svid'], 'ValidateJWTSVIDRequest', 'svid');
}

function putStruct(w: ProtoWriter, v: unknown, depth: number): void {
  if (depth > 64) throw new ProtoError('proto.too_deep', 'google.protobuf.Struct nested deeper than 64');
  for (const [k, val] of entriesOf(asObject(v, 'google.protobuf.Struct')['fields'], 'google.protobuf.Struct', 'fields')) {
    putMessage(w, 1, (e) => {
      putString(e, 1, k, 'google.protobuf.Struct', 'fields key');
      putMessage(e, 2, (x) => putValue(x, val, depth + 1));
    });
  }
}

/** google.protobuf.Value: the member named by `kind`, else the first one set; the oneof member is written even when it holds a default. */
function putValue(w: ProtoWriter, v: unknown, depth: number): void {
  if (depth > 64) throw new ProtoError('proto.too_deep', 'google.protobuf.Value nested deeper than 64');
  const m = asObject(v, 'google.protobuf.Value');
  const members = ['nullValue', 'numberValue', 'stringValue', 'boolValue', 'structValue', 'listValue'];
  const kind = typeof m['kind'] === 'string' ? m['kind'] : members.find((k) => m[k] !== undefined && m[k] !== null);
  const x = kind === undefined ? undefined : m[kind];
  switch (kind) {
    case 'numberValue':
      if (typeof x !== 'number') throw bad('google.protobuf.Value', 'numberValue', 'a number');
      w.doubleField(2, x);
      return;
    case 'stringValue':
      if (typeof x !== 'string') throw bad('google.protobuf.Value', 'stringValue', 'a string');
      w.stringField(3, x);
      return;
    case 'boolValue':
      if (typeof x !== 'boolean') throw bad('google.protobuf.Value', 'boolValue', 'a boolean');
      w.varintField(4, x ? 1 : 0);
      return;
    case 'structValue':
      putMessage(w, 5, (s) => putStruct(s, x, depth + 1));
      return;
    case 'listValue':
      putMessage(w, 6, (l) => {
        for (const item of listOf(asObject(x, 'google.protobuf.ListValue')['values'], 'google.protobuf.ListValue', 'values')) {
          putMessage(l, 1, (e) => putValue(e, item, depth + 1));
        }
      });
      return;
    default:
      // nullValue, or nothing set: NULL_VALUE is the enum's only member (0).
      w.varintField(1, 0);
  }
}

function putValidateResponse(w: ProtoWriter, v: unknown): void {
  const m = asObject(v, 'ValidateJWTSVIDResponse');
  putString(w, 1, m['spiffe_id'], 'ValidateJWTSVIDResponse', 'spiffe_id');
  if (m['claims'] !== undefined && m['claims'] !== null) putMessage(w, 2, (s) => putStruct(s, m['claims'], 0));
}

function putWitSvidRequest(w: ProtoWriter, v: unknown): void {
  putString(w, 1, asObject(v, 'WITSVIDRequest')['spiffe_id'], 'WITSVIDRequest', 'spiffe_id');
}

function putWitSvidResponse(w: ProtoWriter, v: unknown): void {
  for (const s of listOf(asObject(v, 'WITSVIDResponse')['svids'], 'WITSVIDResponse', 'svids')) {
    putMessage(w, 1, (x) => {
      const m = asObject(s, 'WITSVID');
      putString(x, 1, m['spiffe_id'], 'WITSVID', 'spiffe_id');
      putString(x, 2, m['wit_svid'], 'WITSVID', 'wit_svid');
      putString(x, 3, m['wit_svid_key'], 'WITSVID', 'wit_svid_key');
      putString(x, 4, m['hint'], 'WITSVID', 'hint');
    });
  }
}

function putWitBundlesResponse(w: ProtoWriter, v: unknown): void {
  putMap(w, 1, asObject(v, 'WITBundlesResponse')['bundles'], 'WITBundlesResponse', 'bundles', putString);
}

function putEmpty(_w: ProtoWriter, v: unknown): void {
  asObject(v ?? {}, '(empty request)');
}

// ---- the codecs -------------------------------------------------------------

/** Encodes and decodes one message type (the shape grpc-js's serializers take). */
export interface MessageCodec<M> {
  /** The proto message name, for errors. */
  readonly name: string;
  /** Encodes `m`; throws ProtoError 'proto.bad_value' on a member of the wrong type. */
  encode(m: M): Buffer;
  /** Decodes one message; throws ProtoError on malformed input. */
  decode(buf: Uint8Array): M;
}

function codec<M>(name: string, put: (w: ProtoWriter, v: unknown) => void, read: (r: ProtoReader) => M): MessageCodec<M> {
  return {
    name,
    encode: (m: M): Buffer => {
      const w = new ProtoWriter();
      put(w, m);
      return w.finish();
    },
    decode: (buf: Uint8Array): M => read(new ProtoReader(buf, name)),
  };
}

/** The codec of every Workload API message, by proto name. */
export const workloadCodecs = {
  empty: codec<Record<string, never>>('(empty request)', putEmpty, empty),
  X509SVIDResponse: codec('X509SVIDResponse', putX509SvidResponse, x509SvidResponse),
  X509BundlesResponse: codec('X509BundlesResponse', putX509BundlesResponse, x509BundlesResponse),
  JWTSVIDRequest: codec('JWTSVIDRequest', putJwtSvidRequest, jwtSvidRequest),
  JWTSVIDResponse: codec('JWTSVIDResponse', putJwtSvidResponse, jwtSvidResponse),
  JWTBundlesResponse: codec('JWTBundlesResponse', putJwtBundlesResponse, jwtBundlesResponse),
  ValidateJWTSVIDRequest: codec('ValidateJWTSVIDRequest', putValidateRequest, validateRequest),
  ValidateJWTSVIDResponse: codec('ValidateJWTSVIDResponse', putValidateResponse, validateResponse),
  WITSVIDRequest: codec('WITSVIDRequest', putWitSvidRequest, witSvidRequest),
  WITSVIDResponse: codec('WITSVIDResponse', putWitSvidResponse, witSvidResponse),
  WITBundlesResponse: codec('WITBundlesResponse', putWitBundlesResponse, witBundlesResponse),
} as const;

