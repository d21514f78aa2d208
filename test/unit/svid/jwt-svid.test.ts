import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Buffer } from 'node:buffer';
import { constants, createHmac, generateKeyPairSync, sign, type KeyObject } from 'node:crypto';
import { inspect } from 'node:util';
import { ManualClock } from '../../../sidecar/core/index.ts';
import { TrustDomain } from '../../../sidecar/spiffe/index.ts';
import { JwtBundle, JwtBundleSet } from '../../../sidecar/bundle/index.ts';
import type { JwtBundleSource } from '../../../sidecar/bundle/index.ts';
import {
  JwtSvidError,
  parseAndValidateJwtSvid,
  parseJwtSvidInsecure,
  signJws,
  type JwtSvidAlgorithm,
  type JwtSvidErrorCode,
} from '../../../sidecar/svid/index.ts';
import { JwtAuthority } from '../../../sidecar/devagent/index.ts';

const td = TrustDomain.parse('example.org');
const otherTd = TrustDomain.parse('other.org');
const authority = JwtAuthority.generate(td);
const otherAuthority = JwtAuthority.generate(otherTd);
/** A second example.org key that is not in the bundle. */
const rogue = JwtAuthority.generate(td);
const bundles = JwtBundleSet.of([authority.bundle(), otherAuthority.bundle()]);

const T0 = 1_700_000_000; // seconds
const NOW = T0 * 1000; // ms
const SUB = 'spiffe://example.org/client';
const base = (): Record<string, unknown> => ({ sub: SUB, aud: ['svc'], exp: T0 + 300, iat: T0 });
const claims = (patch: Record<string, unknown>): Record<string, unknown> => {
  const c = { ...base(), ...patch };
  for (const [k, v] of Object.entries(c)) if (v === undefined) delete c[k];
  return c;
};

const b64 = (v: unknown): string => Buffer.from(typeof v === 'string' ? v : JSON.stringify(v)).toString('base64url');
/** Builds a compact JWS from raw parts; `signer` gets the signing input. */
function craft(header: unknown, payload: unknown, signer: (input: string) => Buffer = () => Buffer.from('sig')): string {
  const input = `${b64(header)}.${b64(payload)}`;
  return `${input}.${signer(input).toString('base64url')}`;
}
const ok = authority.signRaw(base());

/** A key pair registered under `kid` in a bundle for example.org, for algorithms the JwtAuthority does not cover. */
function keyed(kid: string, key: KeyObject): JwtBundleSource {
  return JwtBundleSet.of([JwtBundle.fromKeys(td, [[kid, key]])]);
}
const rsa = generateKeyPairSync('rsa', { modulusLength: 2048 });
const p256 = generateKeyPairSync('ec', { namedCurve: 'P-256' });
const p384 = generateKeyPairSync('ec', { namedCurve: 'P-384' });
const p521 = generateKeyPairSync('ec', { namedCurve: 'P-521' });
const keyFor: Record<JwtSvidAlgorithm, { privateKey: KeyObject; publicKey: KeyObject }> = {
  RS256: rsa, RS384: rsa, RS512: rsa, PS256: rsa, PS384: rsa, PS512: rsa, ES256: p256, ES384: p384, ES512: p521,
};
const allKeys = JwtBundleSet.of([
  JwtBundle.fromKeys(td, [
    ['rsa', rsa.publicKey],
    ['p256', p256.publicKey],
    ['p384', p384.publicKey],
    ['p521', p521.publicKey],
  ]),
]);
const kidFor = (alg: JwtSvidAlgorithm): string => (alg[0] === 'E' ? { ES256: 'p256', ES384: 'p384', ES512: 'p521' }[alg as 'ES256'] : 'rsa');

type Row = {
  name: string;
  token: () => string;
  code?: JwtSvidErrorCode;
  /** Also expected from parseJwtSvidInsecure; default: same as `code` unless the rule is about signatures. */
  insecureCode?: JwtSvidErrorCode | 'ok';
  audience?: string[];
  now?: number;
  leeway?: number;
  bundles?: JwtBundleSource;
  /** Extra check on the error message. */
  message?: RegExp;
};

const signatureCodes = new Set<JwtSvidErrorCode>(['jwtsvid.missing_kid', 'jwtsvid.no_bundle', 'jwtsvid.unknown_kid', 'jwtsvid.bad_signature']);

const rows: Row[] = [
  // --- accepted ---
  { name: 'SPIRE-shaped ES256 token', token: () => ok },
  { name: 'typ JOSE', token: () => authority.signRaw(base(), { typ: 'JOSE' }) },
  { name: 'typ absent', token: () => authority.signRaw(base(), { typ: undefined }) },
  { name: 'aud as a single string', token: () => authority.signRaw(claims({ aud: 'svc' })) },
  { name: 'aud array holding the expected value among others', token: () => authority.signRaw(claims({ aud: ['a', 'svc', 'b'] })) },
  { name: 'any one of several expected audiences', token: () => ok, audience: ['nope', 'svc'] },
  { name: 'extra registered and private claims', token: () => authority.signRaw(claims({ jti: 'x', iss: 'https://i', 'x-team': { a: [1] } })) },
  { name: 'iat absent', token: () => authority.signRaw(claims({ iat: undefined })) },
  { name: 'sub is a trust domain ID', token: () => authority.signRaw(claims({ sub: 'spiffe://example.org' })) },

  // --- §5.1 compact serialization only ---
  { name: 'two segments', token: () => ok.split('.').slice(0, 2).join('.'), code: 'jwtsvid.malformed' },
  { name: 'four segments', token: () => ok + '.x', code: 'jwtsvid.malformed' },
  {
    name: 'JWS JSON serialization',
    token: () => JSON.stringify({ payload: ok.split('.')[1], protected: ok.split('.')[0], signature: ok.split('.')[2] }),
    code: 'jwtsvid.malformed',
  },
  { name: 'empty header segment', token: () => '.' + ok.split('.').slice(1).join('.'), code: 'jwtsvid.malformed' },
  { name: 'empty payload segment', token: () => { const [h, , s] = ok.split('.'); return `${h}..${s}`; }, code: 'jwtsvid.malformed' },
  { name: 'empty signature segment', token: () => ok.split('.').slice(0, 2).join('.') + '.', code: 'jwtsvid.malformed' },
  { name: 'standard base64 alphabet', token: () => craft({ alg: 'ES256', kid: authority.kid }, base(), () => Buffer.from([0xfb, 0xff])).replace(/-/g, '+').replace(/_/g, '/'), code: 'jwtsvid.malformed' },
  { name: 'base64 padding', token: () => ok + '=', code: 'jwtsvid.malformed' },
  { name: 'whitespace', token: () => ' ' + ok, code: 'jwtsvid.malformed' },
  {
    name: 'non-canonical base64url (trailing bits set)',
    token: () => {
      const [h, p, s] = ok.split('.') as [string, string, string];
      // 64 signature bytes take 86 characters; the last one has 4 unused bits, which must be zero.
      const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_';
      const last = alphabet.indexOf(s.at(-1)!);
      assert.equal(last % 16, 0);
      return `${h}.${p}.${s.slice(0, -1)}${alphabet[last | 1]}`;
    },
    code: 'jwtsvid.malformed',
  },
  { name: 'header not JSON', token: () => `${b64('{alg')}.${b64(base())}.c2ln`, code: 'jwtsvid.malformed' },
  { name: 'header a JSON array', token: () => craft(['ES256'], base()), code: 'jwtsvid.malformed' },
  {
    name: 'header not UTF-8 (bad byte inside a string)',
    token: () => {
      const h = Buffer.concat([Buffer.from('{"alg":"ES256","typ":"JWT","kid":"k'), Buffer.from([0xff]), Buffer.from('"}')]);
      return `${h.toString('base64url')}.${b64(base())}.c2ln`;
    },
    code: 'jwtsvid.malformed',
  },
  { name: 'payload not an object', token: () => craft({ alg: 'ES256', kid: authority.kid }, 'just text'), code: 'jwtsvid.malformed' },
  { name: 'token over 64 KiB', token: () => authority.signRaw(claims({ pad: 'x'.repeat(64 * 1024) })), code: 'jwtsvid.malformed' },
  { name: 'kid not a string', token: () => authority.signRaw(base(), { kid: 7 }), code: 'jwtsvid.malformed', insecureCode: 'jwtsvid.malformed' },

  // --- §5.1 algorithm allow-list ---
  {
    name: 'HS256 keyed with the public key PEM (alg confusion)',
    token: () =>
      craft({ alg: 'HS256', kid: authority.kid, typ: 'JWT' }, base(), (input) =>
        createHmac('sha256', authority.bundle().findKey(authority.kid)!.export({ type: 'spki', format: 'pem' })).update(input).digest(),
      ),
    code: 'jwtsvid.alg_not_allowed',
  },
  {
    name: 'HS256 keyed with the JWKS JSON (alg confusion)',
    token: () => craft({ alg: 'HS256', kid: authority.kid }, base(), (input) => createHmac('sha256', authority.jwks()).update(input).digest()),
    code: 'jwtsvid.alg_not_allowed',
  },
  { name: 'HS384', token: () => craft({ alg: 'HS384', kid: authority.kid }, base()), code: 'jwtsvid.alg_not_allowed' },
  { name: 'HS512', token: () => craft({ alg: 'HS512', kid: authority.kid }, base()), code: 'jwtsvid.alg_not_allowed' },
  { name: 'alg none with empty signature', token: () => `${b64({ alg: 'none' })}.${b64(base())}.`, code: 'jwtsvid.alg_not_allowed' },
  { name: 'alg none with a signature', token: () => craft({ alg: 'none', kid: authority.kid }, base()), code: 'jwtsvid.alg_not_allowed' },
  { name: 'alg None (case variant)', token: () => craft({ alg: 'None', kid: authority.kid }, base()), code: 'jwtsvid.alg_not_allowed' },
  { name: 'alg EdDSA', token: () => craft({ alg: 'EdDSA', kid: authority.kid }, base()), code: 'jwtsvid.alg_not_allowed' },
  { name: 'alg lowercase es256', token: () => authority.signRaw(base(), { alg: 'es256' }), code: 'jwtsvid.alg_not_allowed' },
  { name: 'alg missing', token: () => authority.signRaw(base(), { alg: undefined }), code: 'jwtsvid.alg_not_allowed' },
  { name: 'alg not a string', token: () => authority.signRaw(base(), { alg: ['ES256'] }), code: 'jwtsvid.alg_not_allowed' },

  // --- §5.1 typ ---
  { name: 'typ lowercase jwt', token: () => authority.signRaw(base(), { typ: 'jwt' }), code: 'jwtsvid.bad_typ' },
  { name: 'typ at+jwt', token: () => authority.signRaw(base(), { typ: 'at+jwt' }), code: 'jwtsvid.bad_typ' },
  { name: 'typ not a string', token: () => authority.signRaw(base(), { typ: 1 }), code: 'jwtsvid.bad_typ' },

  // --- §5.1 no other header parameters ---
  { name: 'embedded jwk (attacker-supplied key)', token: () => rogue.signRaw(base(), { jwk: rogue.publicJwk() }), code: 'jwtsvid.unknown_header' },
  { name: 'jku', token: () => authority.signRaw(base(), { jku: 'https://evil/jwks' }), code: 'jwtsvid.unknown_header' },
  { name: 'x5c', token: () => authority.signRaw(base(), { x5c: ['AAAA'] }), code: 'jwtsvid.unknown_header' },
  { name: 'x5u', token: () => authority.signRaw(base(), { x5u: 'https://evil/cert' }), code: 'jwtsvid.unknown_header' },
  { name: 'crit', token: () => authority.signRaw(base(), { crit: ['exp'], exp: 1 }), code: 'jwtsvid.unknown_header' },
  { name: 'cty', token: () => authority.signRaw(base(), { cty: 'JWT' }), code: 'jwtsvid.unknown_header' },
  { name: 'b64 (RFC 7797)', token: () => authority.signRaw(base(), { b64: false }), code: 'jwtsvid.unknown_header' },

  // --- §5.1/5.2 claims: sub ---
  { name: 'sub missing', token: () => authority.signRaw(claims({ sub: undefined })), code: 'jwtsvid.missing_sub' },
  { name: 'sub empty', token: () => authority.signRaw(claims({ sub: '' })), code: 'jwtsvid.missing_sub' },
  { name: 'sub not a SPIFFE ID', token: () => authority.signRaw(claims({ sub: 'client@example.org' })), code: 'jwtsvid.bad_sub' },
  { name: 'sub with uppercase trust domain', token: () => authority.signRaw(claims({ sub: 'spiffe://Example.org/client' })), code: 'jwtsvid.bad_sub' },
  { name: 'sub with a query', token: () => authority.signRaw(claims({ sub: 'spiffe://example.org/client?x' })), code: 'jwtsvid.bad_sub' },
  { name: 'sub not a string', token: () => authority.signRaw(claims({ sub: ['spiffe://example.org/client'] })), code: 'jwtsvid.bad_sub' },

  // --- exp ---
  { name: 'exp missing', token: () => authority.signRaw(claims({ exp: undefined })), code: 'jwtsvid.missing_exp' },
  { name: 'exp a string', token: () => authority.signRaw(claims({ exp: String(T0 + 300) })), code: 'jwtsvid.malformed' },
  { name: 'exp negative', token: () => authority.signRaw(claims({ exp: -1 })), code: 'jwtsvid.malformed' },
  { name: 'exp beyond what a Date holds', token: () => authority.signRaw(claims({ exp: 1e300 })), code: 'jwtsvid.malformed' },
  { name: 'nbf a string', token: () => authority.signRaw(claims({ nbf: 'soon' })), code: 'jwtsvid.malformed' },
  { name: 'iat null', token: () => authority.signRaw(claims({ iat: null })), code: 'jwtsvid.malformed' },

  // --- aud ---
  { name: 'aud missing', token: () => authority.signRaw(claims({ aud: undefined })), code: 'jwtsvid.missing_aud' },
  { name: 'aud null', token: () => authority.signRaw(claims({ aud: null })), code: 'jwtsvid.missing_aud' },
  { name: 'aud empty array', token: () => authority.signRaw(claims({ aud: [] })), code: 'jwtsvid.missing_aud' },
  { name: 'aud empty string', token: () => authority.signRaw(claims({ aud: '' })), code: 'jwtsvid.missing_aud' },
  { name: 'aud of empty strings only', token: () => authority.signRaw(claims({ aud: ['', ''] })), code: 'jwtsvid.missing_aud' },
  { name: 'aud a number', token: () => authority.signRaw(claims({ aud: 5 })), code: 'jwtsvid.malformed' },
  { name: 'aud array with a non-string', token: () => authority.signRaw(claims({ aud: ['svc', 5] })), code: 'jwtsvid.malformed' },
  { name: 'aud for another service (array)', token: () => authority.signRaw(claims({ aud: ['other'] })), code: 'jwtsvid.audience_mismatch' },
  { name: 'aud for another service (string)', token: () => authority.signRaw(claims({ aud: 'other' })), code: 'jwtsvid.audience_mismatch' },
  { name: 'aud differs only in case', token: () => authority.signRaw(claims({ aud: ['SVC'] })), code: 'jwtsvid.audience_mismatch' },
  {
    name: 'aud with many values: message stays short',
    token: () => authority.signRaw(claims({ aud: Array.from({ length: 200 }, (_, i) => `aud-${i}-${'x'.repeat(100)}`) })),
    code: 'jwtsvid.audience_mismatch',
    message: /^.{0,1000}$/s,
  },
  { name: 'aud is a prefix of the expected value', token: () => authority.signRaw(claims({ aud: ['sv'] })), code: 'jwtsvid.audience_mismatch' },

  // --- kid, bundle and key (§5.2 step 4) ---
  { name: 'kid missing', token: () => authority.signRaw(base(), { kid: undefined }), code: 'jwtsvid.missing_kid', insecureCode: 'ok' },
  { name: 'kid empty', token: () => authority.signRaw(base(), { kid: '' }), code: 'jwtsvid.missing_kid', insecureCode: 'ok' },
  {
    name: 'sub in a trust domain with no bundle',
    token: () => JwtAuthority.generate(TrustDomain.parse('absent.org')).signRaw(claims({ sub: 'spiffe://absent.org/x' })),
    code: 'jwtsvid.no_bundle',
  },
  {
    name: 'token signed by example.org for an other.org subject (bundle of sub decides)',
    token: () => authority.signRaw(claims({ sub: 'spiffe://other.org/x' })),
    code: 'jwtsvid.unknown_kid',
  },
  {
    name: 'token signed by other.org for an example.org subject',
    token: () => otherAuthority.signRaw(claims({ sub: SUB })),
    code: 'jwtsvid.unknown_kid',
  },
  { name: 'unknown kid', token: () => authority.signRaw(base(), { kid: 'nope' }), code: 'jwtsvid.unknown_kid' },
  { name: 'kid "__proto__" does not reach object internals', token: () => authority.signRaw(base(), { kid: '__proto__' }), code: 'jwtsvid.unknown_kid' },

  // --- signature ---
  { name: 'different key with the same kid', token: () => rogue.signRaw(base(), { kid: authority.kid }), code: 'jwtsvid.bad_signature' },
  {
    name: 'payload changed after signing',
    token: () => {
      const [h, , s] = ok.split('.');
      return `${h}.${b64(claims({ sub: 'spiffe://example.org/admin' }))}.${s}`;
    },
    code: 'jwtsvid.bad_signature',
  },
  {
    name: 'header changed after signing (typ JWT to JOSE)',
    token: () => {
      const [, p, s] = ok.split('.');
      return `${b64({ alg: 'ES256', kid: authority.kid, typ: 'JOSE' })}.${p}.${s}`;
    },
    code: 'jwtsvid.bad_signature',
  },
  {
    name: 'truncated signature',
    token: () => {
      const [h, p, sig] = ok.split('.') as [string, string, string];
      return `${h}.${p}.${Buffer.from(sig, 'base64url').subarray(0, 63).toString('base64url')}`;
    },
    code: 'jwtsvid.bad_signature',
  },
  {
    name: 'DER-encoded ECDSA signature (JWS needs raw R||S)',
    token: () => craft({ alg: 'ES256', kid: 'p256' }, base(), (input) => sign('sha256', Buffer.from(input), p256.privateKey)),
    bundles: allKeys,
    code: 'jwtsvid.bad_signature',
  },
  {
    name: 'ES256 header over a P-384 key (curve must match alg)',
    token: () =>
      craft({ alg: 'ES256', kid: 'p384' }, base(), (input) =>
        sign('sha256', Buffer.from(input), { key: p384.privateKey, dsaEncoding: 'ieee-p1363' }),
      ),
    bundles: allKeys,
    code: 'jwtsvid.bad_signature',
  },
  {
    name: 'RS256 header over an EC key',
    token: () => craft({ alg: 'RS256', kid: 'p256' }, base(), (input) => sign('sha256', Buffer.from(input), p256.privateKey)),
    bundles: allKeys,
    code: 'jwtsvid.bad_signature',
  },
  {
    name: 'ES256 header over an RSA key',
    token: () => craft({ alg: 'ES256', kid: 'rsa' }, base(), (input) => sign('sha256', Buffer.from(input), rsa.privateKey)),
    bundles: allKeys,
    code: 'jwtsvid.bad_signature',
  },
  {
    name: 'PS256 with a salt shorter than the hash (RFC 7518 §3.5)',
    token: () =>
      craft({ alg: 'PS256', kid: 'rsa' }, base(), (input) =>
        sign('sha256', Buffer.from(input), { key: rsa.privateKey, padding: constants.RSA_PKCS1_PSS_PADDING, saltLength: 20 }),
      ),
    bundles: allKeys,
    code: 'jwtsvid.bad_signature',
  },
  {
    name: 'PKCS#1 v1.5 signature under a PS256 header',
    token: () => craft({ alg: 'PS256', kid: 'rsa' }, base(), (input) => sign('sha256', Buffer.from(input), rsa.privateKey)),
    bundles: allKeys,
    code: 'jwtsvid.bad_signature',
  },

  // --- time (§5.2 step 5), 60 s leeway by default ---
  { name: 'exp + leeway - 1 ms: still valid', token: () => ok, now: (T0 + 300 + 60) * 1000 - 1 },
  { name: 'exp + leeway: expired', token: () => ok, now: (T0 + 300 + 60) * 1000, code: 'jwtsvid.expired' },
  { name: 'leeway 0: expired at exp', token: () => ok, now: (T0 + 300) * 1000, leeway: 0, code: 'jwtsvid.expired' },
  { name: 'leeway 0: valid 1 ms before exp', token: () => ok, now: (T0 + 300) * 1000 - 1, leeway: 0 },
  { name: 'leeway 120: valid 100 s after exp', token: () => ok, now: (T0 + 400) * 1000, leeway: 120 },
  { name: 'nbf = now + leeway: valid', token: () => authority.signRaw(claims({ nbf: T0 + 60 })) },
  { name: 'nbf = now + leeway + 1 s: not yet valid', token: () => authority.signRaw(claims({ nbf: T0 + 61 })), code: 'jwtsvid.not_yet_valid' },
  { name: 'nbf with leeway 0', token: () => authority.signRaw(claims({ nbf: T0 + 1 })), leeway: 0, code: 'jwtsvid.not_yet_valid' },
  { name: 'iat = now + leeway: valid', token: () => authority.signRaw(claims({ iat: T0 + 60 })) },
  { name: 'iat = now + leeway + 1 s: issued in the future', token: () => authority.signRaw(claims({ iat: T0 + 61 })), code: 'jwtsvid.issued_in_future' },
  { name: 'iat in the future with leeway 0', token: () => authority.signRaw(claims({ iat: T0 + 1 })), leeway: 0, code: 'jwtsvid.issued_in_future' },

  // --- precedence ---
  { name: 'alg before unknown header', token: () => craft({ alg: 'none', jku: 'x' }, base()), code: 'jwtsvid.alg_not_allowed' },
  { name: 'typ before unknown header', token: () => authority.signRaw(base(), { typ: 'x', jku: 'x' }), code: 'jwtsvid.bad_typ' },
  { name: 'sub before exp', token: () => authority.signRaw(claims({ sub: undefined, exp: undefined })), code: 'jwtsvid.missing_sub' },
  { name: 'exp before aud', token: () => authority.signRaw(claims({ exp: undefined, aud: undefined })), code: 'jwtsvid.missing_exp' },
  { name: 'audience before kid', token: () => authority.signRaw(claims({ aud: ['x'] }), { kid: undefined }), code: 'jwtsvid.audience_mismatch' },
  { name: 'signature before expiry', token: () => rogue.signRaw(base(), { kid: authority.kid }), now: (T0 + 9999) * 1000, code: 'jwtsvid.bad_signature', insecureCode: 'jwtsvid.expired' },
  { name: 'expiry before nbf', token: () => authority.signRaw(claims({ nbf: T0 + 9999 })), now: (T0 + 9999) * 1000, code: 'jwtsvid.expired' },
];

function expectCode(fn: () => unknown, code: JwtSvidErrorCode, token: string, message?: RegExp): void {
  assert.throws(fn, (err: unknown) => {
    assert.ok(err instanceof JwtSvidError, `expected JwtSvidError ${code}, got ${String(err)}`);
    assert.equal(err.code, code, err.message);
    assert.match(err.message, /^jwtsvid: /);
    if (message) assert.match(err.message, message);
    const sig = token.split('.')[2];
    assert.ok(!err.message.includes(token), 'message must not contain the token');
    if (sig && sig.length > 8) assert.ok(!err.message.includes(sig), 'message must not contain the signature');
    return true;
  });
}

for (const row of rows) {
  test(`parseAndValidateJwtSvid: ${row.name}`, () => {
    const token = row.token();
    const run = (): unknown =>
      parseAndValidateJwtSvid(token, row.bundles ?? bundles, row.audience ?? ['svc'], {
        clock: new ManualClock(row.now ?? NOW),
        ...(row.leeway === undefined ? {} : { leewaySeconds: row.leeway }),
      });
    if (row.code) expectCode(run, row.code, token, row.message);
    else assert.equal((run() as { token: string }).token, token);
  });
}

test('parseAndValidateJwtSvid: verifies every allowed algorithm', () => {
  for (const alg of ['RS256', 'RS384', 'RS512', 'PS256', 'PS384', 'PS512', 'ES256', 'ES384', 'ES512'] as const) {
    const header = { alg, kid: kidFor(alg), typ: 'JWT' };
    const token = craft(header, base(), (input) => signJws(alg, keyFor[alg].privateKey, input));
    const svid = parseAndValidateJwtSvid(token, allKeys, ['svc'], { clock: new ManualClock(NOW) });
    assert.equal(svid.id.toString(), SUB, alg);
    // Flipping one bit of the signature must break it.
    const [h, p, s] = token.split('.') as [string, string, string];
    const bytes = Buffer.from(s, 'base64url');
    bytes[5] = bytes[5]! ^ 1;
    expectCode(
      () => parseAndValidateJwtSvid(`${h}.${p}.${bytes.toString('base64url')}`, allKeys, ['svc'], { clock: new ManualClock(NOW) }),
      'jwtsvid.bad_signature',
      token,
    );
  }
});

test('parseAndValidateJwtSvid: verifies tokens from ES384 and RS256 authorities', () => {
  for (const keyType of ['ec-p384', 'rsa-2048'] as const) {
    const a = JwtAuthority.generate(td, keyType);
    const svid = parseAndValidateJwtSvid(a.signRaw(base()), JwtBundleSet.of([a.bundle()]), ['svc'], { clock: new ManualClock(NOW) });
    assert.equal(svid.id.toString(), SUB);
  }
});

test('parseAndValidateJwtSvid: returns the parsed fields', () => {
  const token = authority.signRaw(claims({ aud: 'svc', jti: 'j1', extra: { nested: [1, 2] } }));
  const svid = parseAndValidateJwtSvid(token, bundles, ['svc'], { clock: new ManualClock(NOW), hint: 'internal' });
  assert.equal(svid.id.toString(), SUB);
  assert.equal(svid.token, token);
  assert.deepEqual(svid.audience, ['svc']);
  assert.equal(svid.expiresAt.getTime(), (T0 + 300) * 1000);
  assert.equal(svid.issuedAt?.getTime(), T0 * 1000);
  assert.equal(svid.claims['jti'], 'j1');
  assert.equal(svid.hint, 'internal');
  assert.ok(Object.isFrozen(svid));
  assert.ok(Object.isFrozen(svid.audience));
  assert.ok(Object.isFrozen((svid.claims['extra'] as { nested: number[] }).nested));
  const noIat = parseAndValidateJwtSvid(authority.signRaw(claims({ iat: undefined })), bundles, ['svc'], { clock: new ManualClock(NOW) });
  assert.equal(noIat.issuedAt, undefined);
  assert.equal(noIat.hint, '');
});

test('parseAndValidateJwtSvid: keeps the token out of JSON.stringify and util.inspect', () => {
  const svid = parseAndValidateJwtSvid(ok, bundles, ['svc'], { clock: new ManualClock(NOW) });
  const sig = ok.split('.')[2]!;
  for (const text of [
    JSON.stringify(svid),
    JSON.stringify({ nested: [svid] }),
    inspect(svid),
    inspect(svid, { showHidden: true, getters: true, depth: Infinity }),
    JSON.stringify({ ...svid }),
    inspect({ ...svid }, { showHidden: true, getters: true }),
    JSON.stringify(Object.values(svid)),
  ]) {
    assert.ok(!text.includes(sig), text);
  }
  assert.match(inspect(svid), /spiffe:\/\/example\.org\/client/);
  assert.match(JSON.stringify(svid), /\[redacted\]/);
});

test('parseAndValidateJwtSvid: throws TypeError for an empty expected-audience list (programming error)', () => {
  assert.throws(() => parseAndValidateJwtSvid(ok, bundles, [], { clock: new ManualClock(NOW) }), TypeError);
  assert.throws(() => parseJwtSvidInsecure(ok, [], { clock: new ManualClock(NOW) }), TypeError);
  assert.throws(() => parseAndValidateJwtSvid(ok, bundles, [''], { clock: new ManualClock(NOW) }), TypeError);
});

test('parseAndValidateJwtSvid: throws TypeError for a bad leeway', () => {
  assert.throws(() => parseAndValidateJwtSvid(ok, bundles, ['svc'], { leewaySeconds: -1 }), TypeError);
  assert.throws(() => parseAndValidateJwtSvid(ok, bundles, ['svc'], { leewaySeconds: Number.NaN }), TypeError);
});

test('parseAndValidateJwtSvid: uses the system clock by default', () => {
  const now = Math.floor(Date.now() / 1000);
  const fresh = authority.signRaw(claims({ iat: now, exp: now + 300 }));
  assert.equal(parseAndValidateJwtSvid(fresh, bundles, ['svc']).id.toString(), SUB);
  expectCode(() => parseAndValidateJwtSvid(ok, bundles, ['svc']), 'jwtsvid.expired', ok);
});

for (const row of rows) {
  const code = row.insecureCode ?? (row.code && signatureCodes.has(row.code) ? 'ok' : row.code);
  test(`parseJwtSvidInsecure: ${row.name} -> ${code ?? 'ok'}`, () => {
    const token = row.token();
    const run = (): unknown =>
      parseJwtSvidInsecure(token, row.audience ?? ['svc'], {
        clock: new ManualClock(row.now ?? NOW),
        ...(row.leeway === undefined ? {} : { leewaySeconds: row.leeway }),
      });
    if (code && code !== 'ok') expectCode(run, code, token);
    else assert.equal((run() as { token: string }).token, token);
  });
}

test('parseJwtSvidInsecure: attaches the hint', () => {
  assert.equal(parseJwtSvidInsecure(ok, ['svc'], { clock: new ManualClock(NOW), hint: 'h' }).hint, 'h');
});
