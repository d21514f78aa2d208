import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash, generateKeyPairSync, randomBytes, type KeyObject } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ManualClock } from '../../../sidecar/core/index.ts';
import { TrustDomain } from '../../../sidecar/spiffe/index.ts';
import { JwtBundleSet } from '../../../sidecar/bundle/index.ts';
import { JwtAuthority } from '../../../sidecar/devagent/index.ts';
import {
  TokenAuthenticator,
  type AuthObserver,
  type JwtProviderOptions,
  type OpaqueTokenVerifier,
  type TokenOutcome,
} from '../../../sidecar/auth/index.ts';
import { makeLeaf } from '../../support/certs.ts';
import { b64url, craftJwt, jwks, octJwk, publicJwk, signJwt, signature, type TestAlg } from '../../support/jwt-sign.ts';

const NOW_S = 1_900_000_000;
const NOW = NOW_S * 1000;
const ISS = 'https://issuer.example';
const HMAC_ISS = 'https://hmac.example';
const TYPED_ISS = 'https://typed.example';
const COOKIE_ISS = 'https://cookie.example';

const rsa = generateKeyPairSync('rsa', { modulusLength: 2048 });
const p256 = generateKeyPairSync('ec', { namedCurve: 'P-256' });
const p384 = generateKeyPairSync('ec', { namedCurve: 'P-384' });
const ed = generateKeyPairSync('ed25519');
const weak = generateKeyPairSync('rsa', { modulusLength: 1024 });
const rs512Only = generateKeyPairSync('rsa', { modulusLength: 2048 });
const encKey = generateKeyPairSync('rsa', { modulusLength: 2048 });
const attacker = generateKeyPairSync('rsa', { modulusLength: 2048 });
const attackerEc = generateKeyPairSync('ec', { namedCurve: 'P-256' });
const hmacSecret = randomBytes(32);
const rsaPem = rsa.publicKey.export({ type: 'spki', format: 'pem' }) as string;
const rsaJwkText = JSON.stringify(publicJwk(rsa.publicKey, { kid: 'rsa1' }));

const peer = makeLeaf('self');
const peerHex = createHash('sha256').update(peer.der).digest('hex');
const peerThumb = createHash('sha256').update(peer.der).digest('base64url');

const claims = (patch: Record<string, unknown> = {}, iss = ISS): Record<string, unknown> => {
  const c: Record<string, unknown> = { iss, sub: 'user-1', aud: 'api', exp: NOW_S + 300, iat: NOW_S - 10, scope: 'read write', client_id: 'app', ...patch };
  for (const [k, v] of Object.entries(c)) if (v === undefined) delete c[k];
  return c;
};
const privateFor: Record<string, KeyObject> = {
  rsa1: rsa.privateKey, ec1: p256.privateKey, ec384: p384.privateKey, ed1: ed.privateKey,
};
/** A token of the main provider signed with the real key for `kid`. */
const good = (alg: TestAlg, kid: string, patch: Record<string, unknown> = {}, header: Record<string, unknown> = {}) =>
  signJwt(alg, privateFor[kid]!, claims(patch), { kid, ...header });

let dir: string;
let clock: ManualClock;
let auth: TokenAuthenticator;
const seen: string[] = [];
const observer: AuthObserver = {
  tokenValidated: (p, r) => void seen.push(`${p}:${r}`),
  keyFetch: () => {},
  keySetAge: () => {},
};
const opaqueSeen: string[] = [];
const opaque: OpaqueTokenVerifier = {
  provider: 'introspection',
  verify: (token) => {
    opaqueSeen.push(token);
    return { kind: 'invalid', reason: 'inactive', provider: 'introspection', detail: 'test double' };
  },
};
const svidAuthority = JwtAuthority.generate(TrustDomain.parse('example.org'));

function providers(): JwtProviderOptions[] {
  return [
    { name: 'main', issuer: ISS, audiences: ['api', 'other-api'], keysFile: join(dir, 'main.json') },
    { name: 'hmac', issuer: HMAC_ISS, audiences: ['api'], keysFile: join(dir, 'hmac.json'), algorithms: ['HS256', 'RS256'] },
    { name: 'typed', issuer: TYPED_ISS, audiences: ['api'], keysFile: join(dir, 'main.json'), requireTyp: 'at+jwt' },
    {
      name: 'cookie',
      issuer: COOKIE_ISS,
      audiences: ['api'],
      keysFile: join(dir, 'main.json'),
      tokenLocations: [{ header: 'authorization', prefix: 'Bearer ' }, { cookie: 'session' }],
    },
    { name: 'spiffe', audiences: ['api'], workloadApi: true },
  ];
}

before(async () => {
  dir = mkdtempSync(join(tmpdir(), 'auth-unit-'));
  writeFileSync(
    join(dir, 'main.json'),
    jwks(
      publicJwk(rsa.publicKey, { kid: 'rsa1', use: 'sig' }),
      publicJwk(p256.publicKey, { kid: 'ec1' }),
      publicJwk(p384.publicKey, { kid: 'ec384' }),
      publicJwk(ed.publicKey, { kid: 'ed1' }),
      publicJwk(weak.publicKey, { kid: 'weak' }),
      publicJwk(rs512Only.publicKey, { kid: 'rs512only', alg: 'RS512' }),
      publicJwk(encKey.publicKey, { kid: 'enc1', use: 'enc' }),
    ),
  );
  writeFileSync(join(dir, 'hmac.json'), jwks(publicJwk(rsa.publicKey, { kid: 'rsa1' }), octJwk(hmacSecret, { kid: 'hs1' })));
  clock = new ManualClock(NOW);
  auth = new TokenAuthenticator(
    { providers: providers() },
    { clock, observer, opaque, jwtBundles: JwtBundleSet.of([svidAuthority.bundle()]), random: () => 0.5 },
  );
  auth.start();
  const r = await auth.ready(5_000);
  assert.equal(r.ready, true, JSON.stringify(r));
});

after(async () => {
  await auth?.close();
  if (dir !== undefined) rmSync(dir, { recursive: true, force: true });
});

const bearer = (token: string): string[] => ['Authorization', `Bearer ${token}`];

async function check(headers: string[], peerCert: string | undefined = undefined): Promise<TokenOutcome> {
  return await auth.authenticate(headers, peerCert);
}

type Row = {
  name: string;
  headers: () => string[];
  peer?: string;
  want: TokenOutcome['kind'];
  reason?: string;
};

const invalid = (name: string, token: () => string, reason: string, peerCert?: string): Row => ({
  name,
  headers: () => bearer(token()),
  want: 'invalid',
  reason,
  ...(peerCert === undefined ? {} : { peer: peerCert }),
});

const rows: Row[] = [
  // RFC 8725 §3.1: unsigned tokens never pass.
  invalid('alg none, empty signature', () => craftJwt({ alg: 'none', kid: 'rsa1' }, claims()), 'bad_algorithm'),
  invalid('alg none with a signature attached', () => {
    const t = good('RS256', 'rsa1');
    const [, p, s] = t.split('.');
    return `${b64url({ alg: 'none', kid: 'rsa1' })}.${p}.${s}`;
  }, 'bad_algorithm'),
  invalid('alg "None" spelled differently', () => craftJwt({ alg: 'None', kid: 'rsa1' }, claims()), 'bad_algorithm'),
  // RFC 8725 §2.1: RS→HS confusion, the RSA public key used as HMAC secret.
  invalid('HS256 with the RSA public key (PEM) as secret, HS not allowed', () => signJwt('HS256', rsaPem, claims(), { kid: 'rsa1' }), 'bad_algorithm'),
  invalid('HS256 with the RSA public key (PEM) as secret, HS allowed', () => signJwt('HS256', rsaPem, claims({}, HMAC_ISS), { kid: 'rsa1' }), 'bad_algorithm'),
  invalid('HS256 with the RSA public key (JWK) as secret, HS allowed', () => signJwt('HS256', rsaJwkText, claims({}, HMAC_ISS), { kid: 'rsa1' }), 'bad_algorithm'),
  invalid('HS256 with the RSA public key (PEM), no kid', () => signJwt('HS256', rsaPem, claims({}, HMAC_ISS)), 'bad_signature'),
  // RFC 8725 §3.10: kid is a lookup key, nothing else.
  invalid('kid with ../', () => signJwt('RS256', rsa.privateKey, claims(), { kid: '../../../../etc/passwd' }), 'unknown_key'),
  invalid('kid that is a URL', () => signJwt('RS256', rsa.privateKey, claims(), { kid: 'https://attacker.example/jwks.json' }), 'unknown_key'),
  invalid('kid with NUL after a real kid', () => signJwt('RS256', rsa.privateKey, claims(), { kid: 'rsa1\u0000' }), 'unknown_key'),
  invalid('kid over 256 characters', () => signJwt('RS256', rsa.privateKey, claims(), { kid: 'k'.repeat(257) }), 'malformed'),
  invalid('kid not a string', () => signJwt('RS256', rsa.privateKey, claims(), { kid: 7 }), 'malformed'),
  // Keys named or carried by the token are never used.
  invalid('jku naming the attacker key set', () => signJwt('RS256', attacker.privateKey, claims(), { kid: 'attacker', jku: 'http://127.0.0.1:9/jwks.json' }), 'unknown_key'),
  invalid('x5u naming the attacker certificate', () => signJwt('RS256', attacker.privateKey, claims(), { kid: 'attacker', x5u: 'http://127.0.0.1:9/cert.pem' }), 'unknown_key'),
  invalid('jwk embedding the attacker key, no kid', () => signJwt('RS256', attacker.privateKey, claims(), { jwk: publicJwk(attacker.publicKey) }), 'bad_signature'),
  invalid('jwk embedding the attacker key under a real kid', () => signJwt('RS256', attacker.privateKey, claims(), { kid: 'rsa1', jwk: publicJwk(attacker.publicKey, { kid: 'rsa1' }) }), 'bad_signature'),
  invalid('x5c carrying the attacker certificate', () => {
    const leaf = makeLeaf('self', 'spiffe://example.org/attacker', {}, attackerEc);
    return signJwt('ES256', attackerEc.privateKey, claims(), { x5c: [leaf.der.toString('base64')] });
  }, 'bad_signature'),
  // Registered claims (RFC 7519 §4.1).
  invalid('expired beyond the skew', () => good('RS256', 'rsa1', { exp: NOW_S - 61 }), 'expired'),
  invalid('nbf in the future beyond the skew', () => good('RS256', 'rsa1', { nbf: NOW_S + 61 }), 'not_yet_valid'),
  invalid('iat in the future beyond the skew', () => good('RS256', 'rsa1', { iat: NOW_S + 61 }), 'not_yet_valid'),
  invalid('wrong iss', () => good('RS256', 'rsa1', { iss: 'https://issuer.example/' }), 'unknown_issuer'),
  invalid('no iss', () => good('RS256', 'rsa1', { iss: undefined }), 'unknown_issuer'),
  invalid('wrong aud', () => good('RS256', 'rsa1', { aud: 'someone-else' }), 'wrong_audience'),
  invalid('aud list without an accepted audience', () => good('RS256', 'rsa1', { aud: ['x', 'y'] }), 'wrong_audience'),
  invalid('no aud', () => good('RS256', 'rsa1', { aud: undefined }), 'missing_claim'),
  invalid('no exp', () => good('RS256', 'rsa1', { exp: undefined }), 'missing_claim'),
  invalid('exp is a string', () => good('RS256', 'rsa1', { exp: String(NOW_S + 300) }), 'malformed'),
  invalid('sub is not a string', () => good('RS256', 'rsa1', { sub: 42 }), 'malformed'),
  // Signatures.
  invalid('stripped signature', () => good('RS256', 'rsa1').replace(/\.[^.]*$/, '.'), 'bad_signature'),
  invalid('signature from another key with the same kid', () => signJwt('RS256', attacker.privateKey, claims(), { kid: 'rsa1' }), 'bad_signature'),
  invalid('payload changed after signing', () => {
    const [h, , s] = good('RS256', 'rsa1').split('.');
    return `${h}.${b64url(claims({ sub: 'admin' }))}.${s}`;
  }, 'bad_signature'),
  // Compact form (RFC 7515 §7.1).
  invalid('padded base64url payload', () => {
    const [h, p] = good('RS256', 'rsa1').split('.');
    const padded = `${p}${'='.repeat((4 - (p!.length % 4)) % 4 || 4)}`;
    return `${h}.${padded}.${signature('RS256', rsa.privateKey, `${h}.${padded}`).toString('base64url')}`;
  }, 'malformed'),
  invalid('standard base64 (+/) in the signature', () => good('RS256', 'rsa1').replace(/\.[^.]*$/, '.ab+/cd'), 'malformed'),
  invalid('extra segment', () => `${good('RS256', 'rsa1')}.e30`, 'inactive'),
  invalid('payload is not JSON', () => `${b64url({ alg: 'RS256', kid: 'rsa1' })}.${b64url('not json')}.c2ln`, 'malformed'),
  invalid('payload is a JSON array', () => `${b64url({ alg: 'RS256', kid: 'rsa1' })}.${b64url([1])}.c2ln`, 'malformed'),
  invalid('header without alg', () => craftJwt({ kid: 'rsa1' }, claims(), 'c2ln'), 'malformed'),
  invalid('crit listing an extension', () => good('RS256', 'rsa1', {}, { crit: ['exp'] }), 'malformed'),
  invalid('crit that is not a list', () => good('RS256', 'rsa1', {}, { crit: 'exp' }), 'malformed'),
  // Key family must match the algorithm.
  invalid('EC key on an RS alg', () => signJwt('RS256', rsa.privateKey, claims(), { kid: 'ec1' }), 'bad_algorithm'),
  invalid('P-256 key on ES384', () => signJwt('ES384', p384.privateKey, claims(), { kid: 'ec1' }), 'bad_algorithm'),
  invalid('RSA key on EdDSA', () => signJwt('EdDSA', ed.privateKey, claims(), { kid: 'rsa1' }), 'bad_algorithm'),
  invalid('weak RSA (1024) key is never loaded', () => signJwt('RS256', weak.privateKey, claims(), { kid: 'weak' }), 'unknown_key'),
  invalid('JWK restricted to RS512 used for RS256', () => signJwt('RS256', rs512Only.privateKey, claims(), { kid: 'rs512only' }), 'bad_algorithm'),
  invalid('JWK with use "enc" is not a signing key', () => signJwt('RS256', encKey.privateKey, claims(), { kid: 'enc1' }), 'unknown_key'),
  invalid('ES512 is not supported', () => signJwt('ES512', generateKeyPairSync('ec', { namedCurve: 'P-521' }).privateKey, claims(), { kid: 'ec1' }), 'bad_algorithm'),
  // RFC 9068 §4: explicit typing where required.
  invalid('typ required, missing', () => good('RS256', 'rsa1', { iss: TYPED_ISS }), 'bad_type'),
  invalid('typ required, JWT given', () => good('RS256', 'rsa1', { iss: TYPED_ISS }, { typ: 'JWT' }), 'bad_type'),
  // Extraction (RFC 6750 §2).
  {
    name: 'two Authorization headers',
    headers: () => [...bearer(good('RS256', 'rsa1')), 'authorization', `Bearer ${good('RS256', 'rsa1')}`],
    want: 'bad_request',
    reason: 'multiple_tokens',
  },
  {
    name: 'Authorization with another scheme plus Authorization Bearer',
    headers: () => ['authorization', 'Basic dXNlcjpwYXNz', ...bearer(good('RS256', 'rsa1'))],
    want: 'bad_request',
    reason: 'multiple_tokens',
  },
  {
    name: 'token in a header and in a cookie',
    headers: () => [...bearer(good('RS256', 'rsa1', { iss: COOKIE_ISS })), 'cookie', `a=b; session=${good('RS256', 'rsa1', { iss: COOKIE_ISS })}`],
    want: 'bad_request',
    reason: 'multiple_tokens',
  },
  {
    name: 'the same cookie twice',
    headers: () => ['cookie', `session=${good('RS256', 'rsa1', { iss: COOKIE_ISS })}`, 'Cookie', `session=${good('RS256', 'rsa1', { iss: COOKIE_ISS })}`],
    want: 'bad_request',
    reason: 'multiple_tokens',
  },
  { name: 'oversized token', headers: () => bearer(good('RS256', 'rsa1', { pad: 'x'.repeat(8192) })), want: 'bad_request', reason: 'token_too_large' },
  { name: 'Bearer with no token', headers: () => ['authorization', 'Bearer'], want: 'invalid', reason: 'malformed' },
  // RFC 8705 §3.1: certificate-bound tokens.
  invalid('cnf thumbprint of another certificate', () => good('RS256', 'rsa1', { cnf: { 'x5t#S256': createHash('sha256').update('other').digest('base64url') } }), 'cert_mismatch', peerHex),
  invalid('cnf without a peer certificate', () => good('RS256', 'rsa1', { cnf: { 'x5t#S256': peerThumb } }), 'cert_mismatch'),
  invalid('cnf with only a DPoP jkt', () => good('RS256', 'rsa1', { cnf: { jkt: peerThumb } }), 'cert_mismatch', peerHex),
  invalid('cnf thumbprint not base64url SHA-256', () => good('RS256', 'rsa1', { cnf: { 'x5t#S256': 'abc' } }), 'malformed', peerHex),
  // Routing.
  invalid('unknown issuer', () => signJwt('RS256', rsa.privateKey, claims({}, 'https://nobody.example'), { kid: 'rsa1' }), 'unknown_issuer'),
  invalid('JWT-SVID from an untrusted trust domain', () => JwtAuthority.generate(TrustDomain.parse('evil.org')).signRaw({ sub: 'spiffe://evil.org/x', aud: ['api'], exp: NOW_S + 60 }), 'unknown_issuer'),
  invalid('JWT-SVID for another audience', () => svidAuthority.signRaw({ sub: 'spiffe://example.org/x', aud: ['nope'], exp: NOW_S + 60 }), 'wrong_audience'),
  invalid('JWT-SVID expired', () => svidAuthority.signRaw({ sub: 'spiffe://example.org/x', aud: ['api'], exp: NOW_S - 120 }), 'expired'),
  invalid('iss-less token whose sub is not a SPIFFE ID', () => signJwt('RS256', rsa.privateKey, claims({ iss: undefined, sub: 'user' }), { kid: 'rsa1' }), 'unknown_issuer'),
];

for (const row of rows) {
  test(`TokenAuthenticator attack table: ${row.name}`, async () => {
    const out = await check(row.headers(), row.peer);
    assert.equal(out.kind, row.want, JSON.stringify(out));
    if (row.reason !== undefined) assert.equal((out as { reason: string }).reason, row.reason, JSON.stringify(out));
  });
}

// The companion rows: the same shapes, done right, pass, so each refusal above is down to its one defect.
const validRows: { name: string; headers: () => string[]; peer?: string }[] = [
  ...(['RS256', 'RS384', 'RS512', 'PS256', 'PS384', 'PS512'] as const).map((alg) => ({ name: alg, headers: () => bearer(good(alg, 'rsa1')) })),
  { name: 'ES256', headers: () => bearer(good('ES256', 'ec1')) },
  { name: 'ES384', headers: () => bearer(good('ES384', 'ec384')) },
  { name: 'EdDSA', headers: () => bearer(good('EdDSA', 'ed1')) },
  { name: 'no kid, one RSA key fits', headers: () => bearer(signJwt('RS256', rsa.privateKey, claims())) },
  { name: 'HS256 with the configured oct secret', headers: () => bearer(signJwt('HS256', hmacSecret, claims({}, HMAC_ISS), { kid: 'hs1' })) },
  { name: 'expired within the skew', headers: () => bearer(good('RS256', 'rsa1', { exp: NOW_S - 59 })) },
  { name: 'nbf and iat within the skew', headers: () => bearer(good('RS256', 'rsa1', { nbf: NOW_S + 59, iat: NOW_S + 59 })) },
  { name: 'aud list with one accepted audience', headers: () => bearer(good('RS256', 'rsa1', { aud: ['x', 'other-api'] })) },
  { name: 'empty crit', headers: () => bearer(good('RS256', 'rsa1', {}, { crit: [] })) },
  { name: 'typ at+jwt', headers: () => bearer(good('RS256', 'rsa1', { iss: TYPED_ISS }, { typ: 'at+jwt' })) },
  { name: 'typ application/AT+JWT', headers: () => bearer(good('RS256', 'rsa1', { iss: TYPED_ISS }, { typ: 'application/AT+JWT' })) },
  { name: 'scheme in another case', headers: () => ['AUTHORIZATION', `bEaReR ${good('RS256', 'rsa1')}`] },
  { name: 'token in the cookie', headers: () => ['cookie', `a=b; session=${good('RS256', 'rsa1', { iss: COOKIE_ISS })}; c=d`] },
  { name: 'cnf matching the peer', headers: () => bearer(good('RS256', 'rsa1', { cnf: { 'x5t#S256': peerThumb } })), peer: peerHex },
  { name: 'cnf matching the peer (upper-case hex)', headers: () => bearer(good('RS256', 'rsa1', { cnf: { 'x5t#S256': peerThumb }, jti: 'upper' })), peer: peerHex.toUpperCase() },
  { name: 'JWT-SVID without iss', headers: () => bearer(svidAuthority.signRaw({ sub: 'spiffe://example.org/client', aud: ['api'], exp: NOW_S + 60 })) },
];
for (const row of validRows) {
  test(`TokenAuthenticator attack table: valid: ${row.name}`, async () => {
    const out = await check(row.headers(), row.peer);
    assert.equal(out.kind, 'valid', JSON.stringify(out));
  });
}

test('TokenAuthenticator behaviour: fills the verified token from the claims', async () => {
  const token = good('RS256', 'rsa1', { cnf: { 'x5t#S256': peerThumb }, jti: 'fields' });
  const out = await check(bearer(token), peerHex);
  assert.equal(out.kind, 'valid');
  if (out.kind !== 'valid') return;
  const v = out.token;
  assert.deepEqual(
    { provider: v.provider, kind: v.kind, issuer: v.issuer, subject: v.subject, clientId: v.clientId, scopes: v.scopes, audiences: v.audiences, expiresAtMs: v.expiresAtMs, certThumbprint: v.certThumbprint, jwt: v.jwt },
    { provider: 'main', kind: 'jwt', issuer: ISS, subject: 'user-1', clientId: 'app', scopes: ['read', 'write'], audiences: ['api'], expiresAtMs: (NOW_S + 300) * 1000, certThumbprint: peerThumb, jwt: token },
  );
  assert.ok(Object.isFrozen(v.claims) && Object.isFrozen(v.claims['cnf']));
});

test('TokenAuthenticator behaviour: a JWT-SVID keeps its trust domain as issuer', async () => {
  const out = await check(bearer(svidAuthority.signRaw({ sub: 'spiffe://example.org/client', aud: ['api'], exp: NOW_S + 60, jti: 'svid' })));
  assert.equal(out.kind, 'valid');
  if (out.kind === 'valid') assert.deepEqual([out.token.provider, out.token.issuer, out.token.subject], ['spiffe', 'spiffe://example.org', 'spiffe://example.org/client']);
});

test('TokenAuthenticator behaviour: answers a repeated token synchronously from the cache, with the same outcome object', async () => {
  const token = good('ES256', 'ec1', { jti: 'cached' });
  const first = await check(bearer(token));
  const second = auth.authenticate(bearer(token), undefined);
  assert.ok(!(second instanceof Promise));
  assert.equal(second, first);
});

test('TokenAuthenticator behaviour: checks the certificate binding on every request, cache hits included', async () => {
  const token = good('RS256', 'rsa1', { cnf: { 'x5t#S256': peerThumb }, jti: 'bound' });
  assert.equal((await check(bearer(token), peerHex)).kind, 'valid');
  const again = auth.authenticate(bearer(token), 'ab'.repeat(32));
  assert.ok(!(again instanceof Promise));
  assert.equal(again.kind === 'invalid' && again.reason, 'cert_mismatch');
});

test('TokenAuthenticator behaviour: rechecks a cached token against the clock', async () => {
  const token = good('RS256', 'rsa1', { exp: NOW_S + 10, jti: 'short' });
  assert.equal((await check(bearer(token))).kind, 'valid');
  clock.advance(71_000);
  try {
    const out = await check(bearer(token));
    assert.equal(out.kind === 'invalid' && out.reason, 'expired');
  } finally {
    clock.advance(-71_000);
  }
});

test('TokenAuthenticator behaviour: a cached token is not accepted from a location its provider does not read', async () => {
  const token = good('RS256', 'rsa1', { iss: COOKIE_ISS, jti: 'loc' });
  assert.equal((await check(['cookie', `session=${token}`])).kind, 'valid');
  const viaHeader = await check(['x-other', 'y', ...bearer(token)]);
  assert.equal(viaHeader.kind, 'valid', 'the cookie provider also reads the bearer header');
  const main = good('RS256', 'rsa1', { jti: 'main-loc' });
  assert.equal((await check(bearer(main))).kind, 'valid');
  const out = await check(['cookie', `session=${main}`]);
  assert.equal(out.kind === 'invalid' && out.reason, 'unknown_issuer');
});

test('TokenAuthenticator behaviour: hands tokens that are not JWS-shaped to the opaque verifier, JWS-shaped ones never', async () => {
  opaqueSeen.length = 0;
  const out = await check(bearer('2YotnFZFEjr1zCsicMWpAA'));
  assert.equal(out.kind === 'invalid' && out.reason, 'inactive');
  await check(bearer(good('RS256', 'rsa1', { aud: 'nobody' })));
  assert.deepEqual(opaqueSeen, ['2YotnFZFEjr1zCsicMWpAA']);
});

test('TokenAuthenticator behaviour: returns none without a token and leaves other Authorization schemes alone', async () => {
  assert.deepEqual(await check(['host', 'x']), { kind: 'none' });
  assert.deepEqual(await check(['authorization', 'Basic dXNlcjpwYXNz']), { kind: 'none' });
});

test('TokenAuthenticator behaviour: reports each outcome to the observer with a bounded label', async () => {
  seen.length = 0;
  await check(bearer(good('RS256', 'rsa1', { jti: 'observed' })));
  await check(bearer(good('RS256', 'rsa1', { exp: NOW_S - 600 })));
  await check(bearer(craftJwt({ alg: 'RS256' }, claims({}, 'https://nobody.example'), 'c2ln')));
  assert.deepEqual(seen, ['main:valid', 'main:expired', ':unknown_issuer']);
});

test('TokenAuthenticator behaviour: never puts the token into an outcome', async () => {
  const token = good('RS256', 'rsa1', { aud: 'nobody' });
  const out = await check(bearer(token));
  assert.ok(!JSON.stringify(out).includes(token.split('.')[2]!));
});

test('TokenAuthenticator behaviour: withoutCredentials strips the bearer header and the token cookie only', () => {
  const out = auth.withoutCredentials(['Host', 'a', 'Authorization', 'Bearer x.y.z', 'authorization', 'Basic abc', 'Cookie', 'a=1; session=x.y.z; b=2', 'cookie', 'session=t']);
  assert.deepEqual(out, ['Host', 'a', 'authorization', 'Basic abc', 'Cookie', 'a=1; b=2']);
});

test('TokenAuthenticator without a cache: verifies every time when tokenCacheEntries is 0', async () => {
  const d = mkdtempSync(join(tmpdir(), 'auth-nocache-'));
  try {
    writeFileSync(join(d, 'k.json'), jwks(publicJwk(rsa.publicKey, { kid: 'rsa1' })));
    const a = new TokenAuthenticator({ providers: [{ name: 'p', issuer: ISS, audiences: ['api'], keysFile: join(d, 'k.json') }], tokenCacheEntries: 0 }, { clock: new ManualClock(NOW) });
    a.start();
    await a.ready(5_000);
    const token = good('RS256', 'rsa1');
    const one = a.authenticate(bearer(token), undefined);
    const two = a.authenticate(bearer(token), undefined);
    assert.ok(!(one instanceof Promise) && !(two instanceof Promise));
    assert.notEqual(one, two);
    assert.equal(two.kind, 'valid');
    await a.close();
  } finally {
    rmSync(d, { recursive: true, force: true });
  }
});


test('TokenAuthenticator logging: warns once per skipped key, without key material, and never logs tokens', async () => {
  const d = mkdtempSync(join(tmpdir(), 'auth-log-'));
  const lines: string[] = [];
  const record = (level: string) => (obj: Record<string, unknown>, msg?: string) => void lines.push(`${level} ${msg ?? ''} ${JSON.stringify(obj)}`);
  const logger = { debug: record('debug'), info: record('info'), warn: record('warn'), error: record('error'), child: () => logger };
  try {
    const secret = octJwk(randomBytes(16), { kid: 'short' });
    writeFileSync(join(d, 'k.json'), jwks(publicJwk(rsa.publicKey, { kid: 'rsa1' }), publicJwk(weak.publicKey, { kid: 'weak' }), secret));
    const c = new ManualClock(NOW);
    const a = new TokenAuthenticator({ providers: [{ name: 'p', issuer: ISS, audiences: ['api'], keysFile: join(d, 'k.json') }] }, { clock: c, logger });
    a.start();
    await a.ready(5_000);
    // Touch the file so the next load parses it again, then force that load with an unknown kid.
    writeFileSync(join(d, 'k.json'), jwks(publicJwk(rsa.publicKey, { kid: 'rsa1' }), publicJwk(weak.publicKey, { kid: 'weak' }), secret, publicJwk(p256.publicKey, { kid: 'ec1' })));
    c.advance(30_000);
    const t = signJwt('RS256', rsa.privateKey, claims(), { kid: 'nope' });
    await a.authenticate(bearer(t), undefined);
    await a.close();
    const warns = lines.filter((l) => l.startsWith('warn key skipped'));
    assert.equal(warns.length, 2, lines.join('\n'));
    const all = lines.join('\n');
    assert.ok(!all.includes(String(secret['k'])) && !all.includes(t.split('.')[2]!));
    assert.ok(lines.some((l) => l.startsWith('info key set changed')), all);
  } finally {
    rmSync(d, { recursive: true, force: true });
  }
});
