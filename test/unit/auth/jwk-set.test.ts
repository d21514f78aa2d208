import { test } from 'node:test';
import assert from 'node:assert/strict';
import { generateKeyPairSync, randomBytes } from 'node:crypto';
import { KeySetError } from '../../../sidecar/auth/index.ts';
import { JwkSet, MAX_KEY_SET_BYTES } from '../../../sidecar/auth/jwk-set.ts';
import { jwks, octJwk, publicJwk } from '../../support/jwt-sign.ts';

const rsa = generateKeyPairSync('rsa', { modulusLength: 2048 });
const p256 = generateKeyPairSync('ec', { namedCurve: 'P-256' });
const p521 = generateKeyPairSync('ec', { namedCurve: 'P-521' });
const ed = generateKeyPairSync('ed25519');
const ed448 = generateKeyPairSync('ed448');
const weak = generateKeyPairSync('rsa', { modulusLength: 1024 });
const good = publicJwk(rsa.publicKey, { kid: 'good' });

const remote = { allowSymmetric: false, source: 'test' };
const file = { allowSymmetric: true, source: 'test' };

type Row = { name: string; key: Record<string, unknown>; fromFile?: boolean; used: boolean; skipped?: RegExp };
const rows: Row[] = [
  { name: 'RSA 2048', key: publicJwk(rsa.publicKey, { kid: 'k' }), used: true },
  { name: 'EC P-256', key: publicJwk(p256.publicKey, { kid: 'k' }), used: true },
  { name: 'Ed25519', key: publicJwk(ed.publicKey, { kid: 'k' }), used: true },
  { name: 'use sig', key: publicJwk(rsa.publicKey, { kid: 'k', use: 'sig' }), used: true },
  { name: 'key_ops verify', key: publicJwk(rsa.publicKey, { kid: 'k', key_ops: ['verify'] }), used: true },
  { name: 'no kid', key: publicJwk(rsa.publicKey), used: true },
  { name: 'oct from a file', key: octJwk(randomBytes(32), { kid: 'k' }), fromFile: true, used: true },
  { name: 'use enc (RFC 7517 §4.2) is not a signing key', key: publicJwk(rsa.publicKey, { kid: 'k', use: 'enc' }), used: false },
  { name: 'key_ops without verify', key: publicJwk(rsa.publicKey, { kid: 'k', key_ops: ['encrypt'] }), used: false },
  { name: 'RSA 1024 is too weak', key: publicJwk(weak.publicKey, { kid: 'k' }), used: false, skipped: /1024 bits is below 2048/ },
  { name: 'EC P-521 is not used', key: publicJwk(p521.publicKey, { kid: 'k' }), used: false, skipped: /P-521/ },
  { name: 'Ed448 is not used', key: publicJwk(ed448.publicKey, { kid: 'k' }), used: false, skipped: /Ed448/ },
  { name: 'private RSA key', key: { ...(rsa.privateKey.export({ format: 'jwk' }) as Record<string, unknown>), kid: 'k' }, used: false, skipped: /private key material/ },
  { name: 'oct over the network', key: octJwk(randomBytes(32), { kid: 'k' }), used: false, skipped: /only accepted from a key file/ },
  { name: 'oct shorter than 32 bytes', key: octJwk(randomBytes(16), { kid: 'k' }), fromFile: true, used: false, skipped: /shorter than 32/ },
  { name: 'alg that does not fit the key', key: publicJwk(rsa.publicKey, { kid: 'k', alg: 'ES256' }), used: false, skipped: /declares "alg" ES256/ },
  { name: 'unknown alg', key: publicJwk(rsa.publicKey, { kid: 'k', alg: 'RSA-OAEP' }), used: false, skipped: /not a supported signature algorithm/ },
  { name: 'kid too long', key: publicJwk(rsa.publicKey, { kid: 'k'.repeat(257) }), used: false, skipped: /kid/ },
  { name: 'unknown kty', key: { kty: 'XYZ', kid: 'k' }, used: false, skipped: /key type/ },
  { name: 'broken RSA modulus', key: { kty: 'RSA', kid: 'k', n: '!!', e: 'AQAB' }, used: false, skipped: /RSA key of 0 bits/ },
  { name: 'EC point not on the curve', key: { kty: 'EC', crv: 'P-256', kid: 'k', x: 'AA', y: 'AA' }, used: false, skipped: /not a valid EC public key/ },
];

for (const row of rows) {
  test(`JwkSet.parse: keys: ${row.name}`, () => {
    const { set, skipped } = JwkSet.parse(jwks(good, row.key), row.fromFile === true ? file : remote);
    assert.equal(set.size, row.used ? 2 : 1, skipped.join('; '));
    if (row.skipped !== undefined) assert.match(skipped.join('\n'), row.skipped);
  });
}

test('JwkSet.parse: keys: never puts key material into skip messages', () => {
  const secret = octJwk(randomBytes(8), { kid: 'k' });
  const priv: Record<string, string> = { ...(rsa.privateKey.export({ format: 'jwk' }) as Record<string, string>), kid: 'p' };
  const { skipped } = JwkSet.parse(jwks(good, secret, priv), file);
  const text = skipped.join('\n');
  assert.ok(!text.includes(String(secret['k'])) && !text.includes(priv['d']!));
});

test('JwkSet.parse: keys: indexes keys by kid, several keys may share one', () => {
  const { set } = JwkSet.parse(jwks(good, publicJwk(p256.publicKey, { kid: 'good' }), publicJwk(ed.publicKey)), remote);
  assert.equal(set.byKid('good').length, 2);
  assert.equal(set.byKid('missing').length, 0);
  assert.equal(set.all().length, 3);
  assert.deepEqual(set.keyIds, ['good']);
});

const bad: { name: string; doc: string }[] = [
  { name: 'not JSON', doc: '<html>' },
  { name: 'JSON array', doc: '[]' },
  { name: 'no keys member', doc: '{"jwks":[]}' },
  { name: 'keys not an array', doc: '{"keys":{}}' },
  { name: 'no usable key among several', doc: jwks(publicJwk(weak.publicKey, { kid: 'w' })) },
  { name: 'larger than 256 KiB', doc: JSON.stringify({ keys: [good], pad: 'x'.repeat(MAX_KEY_SET_BYTES) }) },
];
for (const row of bad) {
  test(`JwkSet.parse: documents: refuses: ${row.name}`, () => {
    assert.throws(() => JwkSet.parse(row.doc, remote), (e: unknown) => e instanceof KeySetError && e.code === 'auth.bad_key_set');
  });
}

test('JwkSet.parse: documents: accepts an empty key list (the issuer has no keys)', () => {
  assert.equal(JwkSet.parse('{"keys":[]}', remote).set.size, 0);
});
