import { test } from 'node:test';
import assert from 'node:assert/strict';
import { fromStruct, loadWorkloadApiProto, toStruct } from '../../../sidecar/workload/index.ts';

test('JWT claims survive google.protobuf.Struct on the real wire encoding', () => {
  const claims = { sub: 'spiffe://example.org/a', aud: ['x', 'y'], exp: 1_900_000_000, ok: true, none: null, nested: { k: [1, 'two'] } };
  const def = loadWorkloadApiProto().service.ValidateJWTSVID;
  const decoded = def.responseDeserialize(def.responseSerialize({ spiffe_id: claims.sub, claims: toStruct(claims) }));
  assert.deepEqual(fromStruct(decoded.claims), claims);
});

test('a claim named __proto__ stays a plain key', () => {
  const out = fromStruct({ fields: { ['__proto__']: { stringValue: 'x' } } });
  assert.equal(Object.getPrototypeOf(out), Object.prototype);
  assert.equal(Object.getOwnPropertyDescriptor(out, '__proto__')?.value, 'x');
});

test('a missing Struct is an empty object', () => {
  assert.deepEqual(fromStruct(null), {});
});
