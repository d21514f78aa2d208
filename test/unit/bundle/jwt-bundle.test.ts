import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Buffer } from 'node:buffer';
import { generateKeyPairSync } from 'node:crypto';
import { TrustDomain } from '../../../sidecar/spiffe/index.ts';
import { JwtBundle, JwtBundleError } from '../../../sidecar/bundle/index.ts';
import type { JwtBundleErrorCode } from '../../../sidecar/bundle/index.ts';

const td = TrustDomain.parse('example.org');
const jwk = (j: Record<string, unknown>, kid: string, extra: Record<string, unknown> = {}): Record<string, unknown> => ({ ...j, kid, ...extra });
const p256 = generateKeyPairSync('ec', { namedCurve: 'P-256' }).publicKey.export({ format: 'jwk' });
const p384 = generateKeyPairSync('ec', { namedCurve: 'P-384' }).publicKey.export({ format: 'jwk' });
const p521 = generateKeyPairSync('ec', { namedCurve: 'P-521' }).publicKey.export({ format: 'jwk' });
const secp256k1 = generateKeyPairSync('ec', { namedCurve: 'secp256k1' }).publicKey.export({ format: 'jwk' });
const rsa2048 = generateKeyPairSync('rsa', { modulusLength: 2048 }).publicKey.export({ format: 'jwk' });
const rsa1024 = generateKeyPairSync('rsa', { modulusLength: 1024 }).publicKey.export({ format: 'jwk' });
const ed25519 = generateKeyPairSync('ed25519').publicKey.export({ format: 'jwk' });
const p256Private = generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey.export({ format: 'jwk' });
const doc = (...keys: unknown[]): string => JSON.stringify({ keys });

type Row = { name: string; input: string | Uint8Array; kids?: string[]; code?: JwtBundleErrorCode; message?: RegExp };

const rows: Row[] = [
  // Accepted shapes.
  { name: 'SPIRE plain JWKS (no use)', input: doc(jwk(p256, 'a'), jwk(rsa2048, 'b')), kids: ['a', 'b'] },
  { name: 'bytes input', input: new TextEncoder().encode(doc(jwk(p256, 'a'))), kids: ['a'] },
  { name: 'P-384 and P-521', input: doc(jwk(p384, 'a'), jwk(p521, 'b')), kids: ['a', 'b'] },
  { name: 'empty key list (no token verifies)', input: doc(), kids: [] },
  {
    name: 'SPIFFE bundle: jwt-svid kept, x509-svid and wit-svid ignored',
    input: JSON.stringify({
      spiffe_sequence: 3,
      spiffe_refresh_hint: 300,
      keys: [
        jwk(p256, 'j', { use: 'jwt-svid' }),
        { kty: 'EC', crv: 'P-256', use: 'x509-svid', x5c: ['AAAA'] },
        jwk(p384, 'w', { use: 'wit-svid' }),
      ],
    }),
    kids: ['j'],
  },
  { name: 'unknown use ignored, even when the key is unusable', input: doc(jwk(p256, 'a'), { kty: 'oct', use: 'enc' }), kids: ['a'] },
  { name: 'unknown members such as alg or x5t tolerated', input: doc(jwk(p256, 'a', { alg: 'ES256', x5t: 'zz' })), kids: ['a'] },

  // Document shape.
  { name: 'not JSON', input: '{keys:', code: 'jwtbundle.malformed' },
  {
    name: 'not UTF-8 (bad byte inside a string)',
    input: new Uint8Array([...Buffer.from(doc(jwk(p256, 'a')).slice(0, -4)), 0xff, ...Buffer.from('"}]}')]),
    code: 'jwtbundle.malformed',
  },
  { name: 'a JSON array', input: '[]', code: 'jwtbundle.malformed', message: /not a JSON object/ },
  { name: 'JSON null', input: 'null', code: 'jwtbundle.malformed' },
  { name: 'keys missing', input: '{}', code: 'jwtbundle.malformed' },
  { name: 'keys not an array', input: '{"keys":{}}', code: 'jwtbundle.malformed' },
  { name: 'a key that is not an object', input: doc('x'), code: 'jwtbundle.bad_key' },

  // kid rules.
  { name: 'kid missing', input: doc(jwk(p256, 'a'), { ...p256 }), code: 'jwtbundle.missing_kid' },
  { name: 'kid empty', input: doc(jwk(p256, '')), code: 'jwtbundle.missing_kid' },
  { name: 'kid not a string', input: doc({ ...p256, kid: 1 }), code: 'jwtbundle.missing_kid' },
  { name: 'jwt-svid key without kid in a SPIFFE bundle', input: doc({ ...p256, use: 'jwt-svid' }), code: 'jwtbundle.missing_kid' },
  { name: 'duplicate kid', input: doc(jwk(p256, 'a'), jwk(p384, 'a')), code: 'jwtbundle.duplicate_kid' },

  // Key rules.
  { name: 'kty oct (symmetric) ignored, never trusted', input: doc({ kty: 'oct', k: 'AAAA', kid: 'a' }, jwk(p256, 'b')), kids: ['b'] },
  { name: 'kty OKP (Ed25519 is not a JWT-SVID algorithm) ignored, the rest kept', input: doc(jwk(ed25519, 'a'), jwk(p256, 'b')), kids: ['b'] },
  { name: 'kty missing', input: doc({ kid: 'a', x: 'AA' }), code: 'jwtbundle.bad_key' },
  { name: 'EC curve secp256k1', input: doc(jwk(secp256k1, 'a')), code: 'jwtbundle.bad_key' },
  { name: 'EC curve missing', input: doc(jwk({ ...p256, crv: undefined }, 'a')), code: 'jwtbundle.bad_key' },
  { name: 'EC point not on the curve', input: doc(jwk({ ...p256, x: p384.x! }, 'a')), code: 'jwtbundle.bad_key' },
  { name: 'EC y missing', input: doc(jwk({ ...p256, y: undefined }, 'a')), code: 'jwtbundle.bad_key' },
  { name: 'RSA modulus missing', input: doc(jwk({ ...rsa2048, n: undefined }, 'a')), code: 'jwtbundle.bad_key' },
  { name: 'RSA key below 2048 bits', input: doc(jwk(rsa1024, 'a')), code: 'jwtbundle.bad_key' },
  { name: 'private key material (d)', input: doc(jwk(p256Private, 'a')), code: 'jwtbundle.bad_key' },
];

for (const row of rows) {
  test(`JwtBundle.parse: ${row.name}`, () => {
    if (row.code) {
      assert.throws(
        () => JwtBundle.parse(td, row.input),
        (err: unknown) => {
          assert.ok(err instanceof JwtBundleError, String(err));
          assert.equal(err.code, row.code, err.message);
          assert.match(err.message, /^jwtbundle: trust domain "example\.org": /);
          if (row.message) assert.match(err.message, row.message);
          return true;
        },
      );
      return;
    }
    const b = JwtBundle.parse(td, row.input);
    assert.deepEqual(b.keyIds, row.kids);
    assert.equal(b.size, row.kids!.length);
    for (const kid of row.kids!) assert.equal(b.findKey(kid)?.type, 'public');
  });
}

test('JwtBundle.parse: names the key index when a kid is missing', () => {
  assert.throws(() => JwtBundle.parse(td, doc(jwk(p256, 'a'), { ...p256 })), /key 1 has no "kid"/);
});

test('JwtBundle.parse: finds keys by exact kid only', () => {
  const b = JwtBundle.parse(td, doc(jwk(p256, 'Key1')));
  assert.equal(b.trustDomain, td);
  assert.equal(b.findKey('key1'), undefined);
  assert.equal(b.findKey('__proto__'), undefined);
  assert.equal(b.findKey('constructor'), undefined);
  assert.deepEqual(b.findKey('Key1')?.export({ format: 'jwk' }), p256);
});

test('JwtBundle.parse: is immutable', () => {
  const b = JwtBundle.parse(td, doc(jwk(p256, 'a')));
  assert.ok(Object.isFrozen(b));
  assert.ok(Object.isFrozen(b.keyIds));
});

test('JwtBundle.parse: round-trips through toJwks', () => {
  const b = JwtBundle.parse(td, doc(jwk(p256, 'a'), jwk(rsa2048, 'b')));
  const again = JwtBundle.parse(td, b.toJwks());
  assert.deepEqual(again.keyIds, ['a', 'b']);
  assert.deepEqual(JSON.parse(b.toJwks()), { keys: [jwk(p256, 'a'), jwk(rsa2048, 'b')] });
});

{
  const a = JwtBundle.parse(td, doc(jwk(p256, 'a'), jwk(rsa2048, 'b')));
  const rows: { name: string; other: JwtBundle; want: boolean }[] = [
    { name: 'same keys, other order', other: JwtBundle.parse(td, doc(jwk(rsa2048, 'b'), jwk(p256, 'a'))), want: true },
    { name: 'other trust domain', other: JwtBundle.parse(TrustDomain.parse('x.org'), doc(jwk(p256, 'a'), jwk(rsa2048, 'b'))), want: false },
    { name: 'one key fewer', other: JwtBundle.parse(td, doc(jwk(p256, 'a'))), want: false },
    { name: 'same kid, other key', other: JwtBundle.parse(td, doc(jwk(p384, 'a'), jwk(rsa2048, 'b'))), want: false },
    { name: 'same keys, kids swapped', other: JwtBundle.parse(td, doc(jwk(p256, 'b'), jwk(rsa2048, 'a'))), want: false },
  ];
  for (const row of rows) {
    test(`JwtBundle.equals: ${row.name}`, () => {
      assert.equal(a.equals(row.other), row.want);
      assert.equal(row.other.equals(a), row.want);
    });
  }
}

const ec = generateKeyPairSync('ec', { namedCurve: 'P-256' });
test('JwtBundle.fromKeys: accepts public EC and RSA keys', () => {
  const rsa = generateKeyPairSync('rsa', { modulusLength: 2048 });
  assert.deepEqual(JwtBundle.fromKeys(td, [['a', ec.publicKey], ['b', rsa.publicKey]]).keyIds, ['a', 'b']);
});
const bad: { name: string; entries: () => [string, import('node:crypto').KeyObject][]; code: JwtBundleErrorCode }[] = [
  { name: 'private key', entries: () => [['a', ec.privateKey]], code: 'jwtbundle.bad_key' },
  { name: 'Ed25519 key', entries: () => [['a', generateKeyPairSync('ed25519').publicKey]], code: 'jwtbundle.bad_key' },
  { name: 'secp256k1 key', entries: () => [['a', generateKeyPairSync('ec', { namedCurve: 'secp256k1' }).publicKey]], code: 'jwtbundle.bad_key' },
  { name: 'short RSA key', entries: () => [['a', generateKeyPairSync('rsa', { modulusLength: 1024 }).publicKey]], code: 'jwtbundle.bad_key' },
  { name: 'empty kid', entries: () => [['', ec.publicKey]], code: 'jwtbundle.missing_kid' },
  { name: 'duplicate kid', entries: () => [['a', ec.publicKey], ['a', ec.publicKey]], code: 'jwtbundle.duplicate_kid' },
];
for (const row of bad) {
  test(`JwtBundle.fromKeys: refuses ${row.name}`, () => {
    assert.throws(() => JwtBundle.fromKeys(td, row.entries()), (err: unknown) => err instanceof JwtBundleError && err.code === row.code);
  });
}
