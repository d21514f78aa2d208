import { test } from 'node:test';
import assert from 'node:assert/strict';
import { decodeJws } from '../../../sidecar/auth/jws-compact.ts';
import { b64url } from '../../support/jwt-sign.ts';

const h = b64url({ alg: 'RS256' });
const p = b64url({ sub: 'x' });

const rows: { name: string; token: string; want: 'ok' | 'not_jwt' | 'malformed' }[] = [
  { name: 'three canonical segments', token: `${h}.${p}.c2ln`, want: 'ok' },
  { name: 'empty signature decodes (verification refuses it)', token: `${h}.${p}.`, want: 'ok' },
  { name: 'two segments', token: `${h}.${p}`, want: 'not_jwt' },
  { name: 'four segments', token: `${h}.${p}.c2ln.e30`, want: 'not_jwt' },
  { name: 'five segments (JWE)', token: `${h}..${p}.c2ln.c2ln`, want: 'not_jwt' },
  { name: 'header not base64url', token: `${h}=.${p}.c2ln`, want: 'not_jwt' },
  { name: 'header not an object', token: `${b64url('[1]')}.${p}.c2ln`, want: 'not_jwt' },
  { name: 'empty header', token: `.${p}.c2ln`, want: 'not_jwt' },
  { name: 'opaque token', token: 'mF_9.B5f-4.1JqM', want: 'not_jwt' },
  { name: 'payload with padding', token: `${h}.${b64url({ a: 1 })}=.c2ln`, want: 'malformed' },
  { name: 'payload with whitespace', token: `${h}.${p.slice(0, 4)} ${p.slice(4)}.c2ln`, want: 'malformed' },
  { name: 'payload not UTF-8', token: `${h}.${Buffer.from([0xff, 0xfe]).toString('base64url')}.c2ln`, want: 'malformed' },
  { name: 'payload JSON null', token: `${h}.${b64url('null')}.c2ln`, want: 'malformed' },
  { name: 'signature with +', token: `${h}.${p}.c2l+`, want: 'malformed' },
  { name: 'signature with non-zero spare bits', token: `${h}.${p}.cx`, want: 'malformed' },
];

for (const row of rows) {
  test(`decodeJws: ${row.name}`, () => {
    const r = decodeJws(row.token);
    const got = r.ok ? 'ok' : r.jwtShaped ? 'malformed' : 'not_jwt';
    assert.equal(got, row.want, r.ok ? '' : r.detail);
  });
}

test('decodeJws: keeps the exact signing input', () => {
  const r = decodeJws(`${h}.${p}.c2ln`);
  assert.ok(r.ok);
  assert.equal(r.jws.signingInput, `${h}.${p}`);
  assert.deepEqual([...r.jws.signature], [...Buffer.from('sig')]);
});
