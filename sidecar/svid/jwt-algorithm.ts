import { Buffer } from 'node:buffer';
import { constants, sign, verify, type KeyObject } from 'node:crypto';

/** The JWS algorithms JWT-SVID.md §3 allows; everything else (HS*, none, EdDSA) is refused. */
export type JwtSvidAlgorithm =
  | 'RS256'
  | 'RS384'
  | 'RS512'
  | 'ES256'
  | 'ES384'
  | 'ES512'
  | 'PS256'
  | 'PS384'
  | 'PS512';

type AlgSpec =
  | { readonly kind: 'rsa' | 'pss'; readonly hash: string }
  | { readonly kind: 'ec'; readonly hash: string; readonly curve: string };

// ES* pairs each hash with one curve (RFC 7518 §3.4). OpenSSL would happily
// verify SHA-256 over a P-384 key, so the curve is checked by keyMismatch.
const ALGS: Readonly<Record<JwtSvidAlgorithm, AlgSpec>> = {
  RS256: { kind: 'rsa', hash: 'sha256' },
  RS384: { kind: 'rsa', hash: 'sha384' },
  RS512: { kind: 'rsa', hash: 'sha512' },
  PS256: { kind: 'pss', hash: 'sha256' },
  PS384: { kind: 'pss', hash: 'sha384' },
  PS512: { kind: 'pss', hash: 'sha512' },
  ES256: { kind: 'ec', hash: 'sha256', curve: 'prime256v1' },
  ES384: { kind: 'ec', hash: 'sha384', curve: 'secp384r1' },
  ES512: { kind: 'ec', hash: 'sha512', curve: 'secp521r1' },
};

/** The allowed algorithms: RS*, PS* and ES* with SHA-256/384/512. */
export const JWT_SVID_ALGORITHMS: readonly JwtSvidAlgorithm[] = Object.freeze(Object.keys(ALGS) as JwtSvidAlgorithm[]);

/** True when `alg` is one of {@link JWT_SVID_ALGORITHMS}. */
export function isJwtSvidAlgorithm(alg: unknown): alg is JwtSvidAlgorithm {
  return typeof alg === 'string' && Object.hasOwn(ALGS, alg);
}

/**
 * Why `key` cannot be used with `alg`, or undefined when it can. Tying the
 * key type (and EC curve) to the header's alg stops algorithm-confusion
 * tricks such as an ES512 header over a P-256 key.
 */
export function keyMismatch(alg: JwtSvidAlgorithm, key: KeyObject): string | undefined {
  const spec = ALGS[alg];
  if (spec.kind === 'ec') {
    const curve = key.asymmetricKeyDetails?.namedCurve;
    if (key.asymmetricKeyType !== 'ec' || curve !== spec.curve) {
      return `${alg} needs an EC ${spec.curve} key, got ${key.asymmetricKeyType ?? 'unknown'} ${curve ?? ''}`.trimEnd();
    }
    return undefined;
  }
  // Without this, OpenSSL verifies an ECDSA signature under an RS256 header
  // (it ignores the RSA padding option for EC keys).
  if (key.asymmetricKeyType !== 'rsa') return `${alg} needs an RSA key, got ${key.asymmetricKeyType ?? 'unknown'}`;
  return undefined;
}

function options(spec: AlgSpec, key: KeyObject) {
  if (spec.kind === 'ec') return { key, dsaEncoding: 'ieee-p1363' as const };
  // RFC 7518 §3.5: PSS with MGF1 on the same hash and a salt as long as the hash.
  if (spec.kind === 'pss') return { key, padding: constants.RSA_PKCS1_PSS_PADDING, saltLength: constants.RSA_PSS_SALTLEN_DIGEST };
  return { key, padding: constants.RSA_PKCS1_PADDING };
}

/**
 * Verifies a JWS signature over `signingInput` (the ASCII `header.payload`).
 * Returns false for a wrong signature and for a key that does not fit `alg`.
 * ES* signatures are the raw R||S form (RFC 7518 §3.4); OpenSSL refuses any
 * other length.
 */
export function verifyJws(alg: JwtSvidAlgorithm, key: KeyObject, signingInput: string, signature: Uint8Array): boolean {
  const spec = ALGS[alg];
  if (keyMismatch(alg, key) !== undefined) return false;
  return verify(spec.hash, Buffer.from(signingInput, 'ascii'), options(spec, key), signature);
}

/** Signs `signingInput` with `alg` (used by the dev agent's JWT authority). Throws if the key does not fit. */
export function signJws(alg: JwtSvidAlgorithm, privateKey: KeyObject, signingInput: string): Buffer {
  const mismatch = keyMismatch(alg, privateKey);
  if (mismatch !== undefined || privateKey.type !== 'private') {
    throw new TypeError(`jwtsvid: cannot sign ${alg}: ${mismatch ?? 'not a private key'}`);
  }
  return sign(ALGS[alg].hash, Buffer.from(signingInput, 'ascii'), options(ALGS[alg], privateKey));
}
