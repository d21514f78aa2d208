import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Buffer } from 'node:buffer';
import { ManualClock } from '../../../sidecar/core/index.ts';
import { TrustDomain } from '../../../sidecar/spiffe/index.ts';
import { JwtBundle, JwtBundleSet } from '../../../sidecar/bundle/index.ts';
import { parseAndValidateJwtSvid } from '../../../sidecar/svid/index.ts';
import { JwtAuthority, JwtAuthorityError } from '../../../sidecar/devagent/index.ts';

const td = TrustDomain.parse('example.org');
const T0 = 1_700_000_000;
const claims = { sub: 'spiffe://example.org/web', aud: ['svc'], exp: T0 + 300, iat: T0 };
const decode = (seg: string): Record<string, unknown> => JSON.parse(Buffer.from(seg, 'base64url').toString('utf8'));

const rows = [
  { keyType: 'ec-p256', alg: 'ES256', kty: 'EC', crv: 'P-256' },
  { keyType: 'ec-p384', alg: 'ES384', kty: 'EC', crv: 'P-384' },
  { keyType: 'rsa-2048', alg: 'RS256', kty: 'RSA', crv: undefined },
] as const;
for (const row of rows) {
  test(`JwtAuthority: ${row.keyType}: SPIRE-shaped tokens that verify against its JWKS`, () => {
    const a = JwtAuthority.generate(td, row.keyType);
    const token = a.sign(claims);
    const [h, p] = token.split('.') as [string, string];
    assert.deepEqual(decode(h), { alg: row.alg, kid: a.kid, typ: 'JWT' });
    assert.deepEqual(decode(p), claims);
    const jwk = a.publicJwk();
    assert.equal(jwk.kty, row.kty);
    assert.equal(jwk.crv, row.crv);
    assert.equal(jwk['kid' as keyof typeof jwk], a.kid);
    for (const secret of ['d', 'p', 'q', 'dp', 'dq', 'qi']) assert.ok(!(secret in jwk), secret);
    assert.equal('use' in jwk, false);
    const bundle = JwtBundle.parse(td, a.jwks());
    assert.deepEqual(bundle.keyIds, [a.kid]);
    const svid = parseAndValidateJwtSvid(token, JwtBundleSet.of([bundle]), ['svc'], { clock: new ManualClock(T0 * 1000) });
    assert.equal(svid.id.toString(), claims.sub);
  });
}

test('JwtAuthority: defaults to ec-p256 and a fresh random kid each time', () => {
  const a = JwtAuthority.generate(td);
  const b = JwtAuthority.generate(td);
  assert.equal(a.alg, 'ES256');
  assert.notEqual(a.kid, b.kid);
  assert.match(a.kid, /^[A-Za-z0-9_-]{32}$/);
});

test('JwtAuthority: bundle() matches jwks()', () => {
  const a = JwtAuthority.generate(td);
  assert.deepEqual(JSON.parse(a.bundle().toJwks()), JSON.parse(a.jwks()));
  assert.ok(a.bundle().trustDomain.equals(td));
});

test('JwtAuthority: drops empty audiences as SPIRE does', () => {
  const a = JwtAuthority.generate(td);
  const [, p] = a.sign({ ...claims, aud: ['', 'svc'] }).split('.') as [string, string];
  assert.deepEqual(decode(p)['aud'], ['svc']);
});

const refused = [
  { name: 'sub not a SPIFFE ID', c: { ...claims, sub: 'web' } },
  { name: 'sub in another trust domain', c: { ...claims, sub: 'spiffe://other.org/web' } },
  { name: 'no audience', c: { ...claims, aud: [] } },
  { name: 'only empty audiences', c: { ...claims, aud: [''] } },
  { name: 'exp not a number', c: { ...claims, exp: Number.NaN } },
  { name: 'iat not a number', c: { ...claims, iat: 'now' as unknown as number } },
];
for (const row of refused) {
  test(`JwtAuthority: sign refuses ${row.name}`, () => {
    const a = JwtAuthority.generate(td);
    assert.throws(() => a.sign(row.c), (err: unknown) => err instanceof JwtAuthorityError && err.code === 'jwtauthority.bad_claims');
  });
}

test('JwtAuthority: header overrides merge over the defaults and undefined drops a member', () => {
  const a = JwtAuthority.generate(td);
  const [h] = a.sign(claims, { typ: 'JOSE', kid: undefined, extra: 1 }).split('.') as [string];
  assert.deepEqual(decode(h), { alg: 'ES256', typ: 'JOSE', extra: 1 });
});

for (const keyType of ['ec-p256', 'ec-p384', 'rsa-2048'] as const) {
  test(`JwtAuthority: ${keyType}: exportState/fromState round trip keeps the kid and key`, () => {
    const a = JwtAuthority.generate(td, keyType);
    const b = JwtAuthority.fromState(td, a.exportState(), keyType);
    assert.equal(b.kid, a.kid);
    assert.equal(b.alg, a.alg);
    assert.equal(b.jwks(), a.jwks());
    // A token of the restored authority verifies against the original's bundle.
    const svid = parseAndValidateJwtSvid(b.sign(claims), JwtBundleSet.of([a.bundle()]), ['svc'], { clock: new ManualClock(T0 * 1000) });
    assert.equal(svid.id.toString(), claims.sub);
  });
}

test('JwtAuthority: fromState refuses a state it cannot use', () => {
  const state = JwtAuthority.generate(td).exportState();
  const rows = [
    { name: 'empty kid', s: { ...state, kid: '' }, message: /key ID is not 1 to 128 printable ASCII/ },
    { name: 'kid with a newline', s: { ...state, kid: 'a\nb' }, message: /key ID is not 1 to 128 printable ASCII/ },
    { name: 'kid not a string', s: { ...state, kid: 7 as unknown as string }, message: /key ID is not 1 to 128 printable ASCII/ },
    { name: 'key not PKCS#8', s: { ...state, privateKeyPkcs8Der: Buffer.from('junk') }, message: /not a PKCS#8 private key/ },
  ];
  for (const row of rows) {
    assert.throws(
      () => JwtAuthority.fromState(td, row.s),
      (err: unknown) => err instanceof JwtAuthorityError && err.code === 'jwtauthority.bad_state' && row.message.test(err.message),
      row.name,
    );
  }
  assert.throws(
    () => JwtAuthority.fromState(td, state, 'rsa-2048'),
    (err: unknown) => err instanceof JwtAuthorityError && err.code === 'jwtauthority.bad_state' && /the signing key is ec-p256, but the key type is rsa-2048/.test(err.message),
  );
});

test('JwtAuthority: does not expose the private key', () => {
  const a = JwtAuthority.generate(td);
  assert.ok(!JSON.stringify(a).includes('"d"'));
  assert.deepEqual(Object.keys(a).sort(), ['alg', 'keyType', 'kid', 'trustDomain']);
});
