/**
 * Builds JWS compact tokens in tests with node:crypto only: sign with any
 * algorithm the auth module knows, or craft raw parts (bad base64url, empty
 * or foreign signatures) to attack a verifier. Also JWK/JWKS helpers, and
 * reading the claims of a token that crossed the mesh.
 */
import assert from 'node:assert/strict';
import { Buffer } from 'node:buffer';
import { constants, createHmac, sign, type KeyObject } from 'node:crypto';

/** Algorithms {@link signJwt} can produce. */
export type TestAlg = 'RS256' | 'RS384' | 'RS512' | 'PS256' | 'PS384' | 'PS512' | 'ES256' | 'ES384' | 'ES512' | 'EdDSA' | 'HS256' | 'HS384' | 'HS512';

const HASH: Record<TestAlg, string | null> = {
  RS256: 'sha256', RS384: 'sha384', RS512: 'sha512',
  PS256: 'sha256', PS384: 'sha384', PS512: 'sha512',
  ES256: 'sha256', ES384: 'sha384', ES512: 'sha512',
  EdDSA: null,
  HS256: 'sha256', HS384: 'sha384', HS512: 'sha512',
};

/** base64url of a string (as is) or of a value's JSON. */
export function b64url(v: unknown): string {
  return Buffer.from(typeof v === 'string' ? v : JSON.stringify(v)).toString('base64url');
}

/** The raw signature of `input` with `alg`: `key` is a private KeyObject, or the HMAC secret for HS*. */
export function signature(alg: TestAlg, key: KeyObject | Buffer | string, input: string): Buffer {
  const data = Buffer.from(input, 'latin1');
  const hash = HASH[alg];
  if (alg.startsWith('HS')) return createHmac(hash!, key as Buffer | string | KeyObject).update(data).digest();
  const k = key as KeyObject;
  if (alg.startsWith('PS')) return sign(hash, data, { key: k, padding: constants.RSA_PKCS1_PSS_PADDING, saltLength: constants.RSA_PSS_SALTLEN_DIGEST });
  if (alg.startsWith('ES')) return sign(hash, data, { key: k, dsaEncoding: 'ieee-p1363' });
  if (alg === 'EdDSA') return sign(null, data, k);
  return sign(hash, data, { key: k, padding: constants.RSA_PKCS1_PADDING });
}

/** Signs a JWT: `header` is merged over `{ alg }` (a member set to undefined is dropped). */
export function signJwt(alg: TestAlg, key: KeyObject | Buffer | string, payload: Record<string, unknown>, header: Record<string, unknown> = {}): string {
  const h = dropUndefined({ alg, ...header });
  const input = `${b64url(h)}.${b64url(payload)}`;
  return `${input}.${signature(alg, key, input).toString('base64url')}`;
}

/** A token from raw parts; `sig` is bytes or an already encoded segment. */
export function craftJwt(header: unknown, payload: unknown, sig: Buffer | string = ''): string {
  return `${b64url(header)}.${b64url(payload)}.${typeof sig === 'string' ? sig : sig.toString('base64url')}`;
}

/** The public JWK of a key pair's public key, with extra members (kid, use, alg...). */
export function publicJwk(publicKey: KeyObject, extra: Record<string, unknown> = {}): Record<string, unknown> {
  return dropUndefined({ ...publicKey.export({ format: 'jwk' }), ...extra });
}

/** An `oct` JWK for an HMAC secret. */
export function octJwk(secret: Buffer, extra: Record<string, unknown> = {}): Record<string, unknown> {
  return { kty: 'oct', k: secret.toString('base64url'), ...extra };
}

/** A JWKS document. */
export function jwks(...keys: Record<string, unknown>[]): string {
  return JSON.stringify({ keys });
}

function dropUndefined(o: Record<string, unknown>): Record<string, unknown> {
  for (const [k, v] of Object.entries(o)) if (v === undefined) delete o[k];
  return o;
}

/**
 * The payload of a JWT, given as the token or as the `Authorization` value
 * carrying it (`Bearer <jwt>`). Verifies nothing: the test reads what arrived.
 */
export function claimsOf(tokenOrAuthorization: unknown): Record<string, unknown> {
  const part = String(tokenOrAuthorization ?? '').replace(/^Bearer /, '').split('.')[1];
  assert.ok(part !== undefined, 'not a JWT');
  return JSON.parse(Buffer.from(part, 'base64url').toString('utf8')) as Record<string, unknown>;
}
