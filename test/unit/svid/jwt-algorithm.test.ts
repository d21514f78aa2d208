import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createSecretKey, generateKeyPairSync } from 'node:crypto';
import { JWT_SVID_ALGORITHMS, isJwtSvidAlgorithm, signJws, verifyJws } from '../../../sidecar/svid/index.ts';

const p256 = generateKeyPairSync('ec', { namedCurve: 'P-256' });
const p384 = generateKeyPairSync('ec', { namedCurve: 'P-384' });
const rsa = generateKeyPairSync('rsa', { modulusLength: 2048 });

test('JWT-SVID algorithms: allows exactly RS*, PS* and ES* (JWT-SVID.md §3)', () => {
  assert.deepEqual([...JWT_SVID_ALGORITHMS].sort(), ['ES256', 'ES384', 'ES512', 'PS256', 'PS384', 'PS512', 'RS256', 'RS384', 'RS512']);
  for (const bad of ['HS256', 'none', 'EdDSA', 'es256', 'toString', '__proto__', '', 1, null]) {
    assert.equal(isJwtSvidAlgorithm(bad), false, String(bad));
  }
});

const mismatches = [
  { name: 'ES256 with a P-384 key', alg: 'ES256', key: p384.privateKey },
  { name: 'ES384 with a P-256 key', alg: 'ES384', key: p256.privateKey },
  { name: 'RS256 with an EC key', alg: 'RS256', key: p256.privateKey },
  { name: 'PS256 with an EC key', alg: 'PS256', key: p256.privateKey },
  { name: 'ES256 with an RSA key', alg: 'ES256', key: rsa.privateKey },
  { name: 'RS256 with a secret key', alg: 'RS256', key: createSecretKey(Buffer.alloc(32)) },
  { name: 'ES256 with a public key', alg: 'ES256', key: p256.publicKey },
] as const;
for (const row of mismatches) {
  test(`JWT-SVID algorithms: signJws refuses ${row.name}`, () => {
    assert.throws(() => signJws(row.alg, row.key, 'a.b'), { name: 'TypeError', message: /^jwtsvid: cannot sign/ });
  });
}

test('JWT-SVID algorithms: verifyJws returns false, not throws, for a key of the wrong kind', () => {
  const sig = signJws('ES256', p256.privateKey, 'a.b');
  assert.equal(verifyJws('ES256', p256.publicKey, 'a.b', sig), true);
  assert.equal(verifyJws('ES256', createSecretKey(Buffer.alloc(32)), 'a.b', sig), false);
  assert.equal(verifyJws('ES256', p256.publicKey, 'a.c', sig), false);
});
