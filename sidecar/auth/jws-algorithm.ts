import { Buffer } from 'node:buffer';
import { constants, createHmac, timingSafeEqual, verify, type KeyObject } from 'node:crypto';

/**
 * The JWS algorithms (RFC 7518 §3.1, RFC 8037 §3.1) a provider may allow.
 * `none` is not among them and never will be (RFC 8725 §3.1).
 */
export type JwsAlgorithm =
  | 'RS256'
  | 'RS384'
  | 'RS512'
  | 'PS256'
  | 'PS384'
  | 'PS512'
  | 'ES256'
  | 'ES384'
  | 'EdDSA'
  | 'HS256'
  | 'HS384'
  | 'HS512';

interface AlgSpec {
  readonly family: 'rsa' | 'pss' | 'ec' | 'eddsa' | 'hmac';
  /** Digest name for node:crypto; null for EdDSA (the curve fixes it). */
  readonly hash: string | null;
  /** EC: OpenSSL curve name. */
  readonly curve?: string;
  /** HMAC: smallest key in bytes (RFC 7518 §3.2: at least the hash output). */
  readonly minKeyBytes?: number;
}

// Each algorithm names exactly one key family (and, for ECDSA, one curve).
// Checking the key against this table before verifying is what defeats
// algorithm confusion: an RS256 public key can never serve as an HS256
// secret, nor a P-256 key verify an ES384 header (RFC 8725 §2.1, §3.1).
const SPECS: Readonly<Record<JwsAlgorithm, AlgSpec>> = {
  RS256: { family: 'rsa', hash: 'sha256' },
  RS384: { family: 'rsa', hash: 'sha384' },
  RS512: { family: 'rsa', hash: 'sha512' },
  PS256: { family: 'pss', hash: 'sha256' },
  PS384: { family: 'pss', hash: 'sha384' },
  PS512: { family: 'pss', hash: 'sha512' },
  ES256: { family: 'ec', hash: 'sha256', curve: 'prime256v1' },
  ES384: { family: 'ec', hash: 'sha384', curve: 'secp384r1' },
  EdDSA: { family: 'eddsa', hash: null },
  HS256: { family: 'hmac', hash: 'sha256', minKeyBytes: 32 },
  HS384: { family: 'hmac', hash: 'sha384', minKeyBytes: 48 },
  HS512: { family: 'hmac', hash: 'sha512', minKeyBytes: 64 },
};

/** RSA keys below this size are never used (RFC 7518 §3.3 requires 2048 bits or more). */
export const MIN_RSA_BITS = 2048;

/** Every algorithm a provider may list. */
export const SUPPORTED_JWS_ALGORITHMS: readonly JwsAlgorithm[] = Object.freeze(Object.keys(SPECS) as JwsAlgorithm[]);

/** The allow-list used when a provider names none: every asymmetric algorithm above. */
export const DEFAULT_JWS_ALGORITHMS: readonly JwsAlgorithm[] = Object.freeze(
  SUPPORTED_JWS_ALGORITHMS.filter((a) => SPECS[a].family !== 'hmac'),
);

/** True when `alg` is one of {@link SUPPORTED_JWS_ALGORITHMS}. */
export function isJwsAlgorithm(alg: unknown): alg is JwsAlgorithm {
  return typeof alg === 'string' && Object.hasOwn(SPECS, alg);
}

/** True for HS256/HS384/HS512, the algorithms that need a shared secret. */
export function isHmacAlgorithm(alg: JwsAlgorithm): boolean {
  return SPECS[alg].family === 'hmac';
}

/**
 * Why `key` cannot verify `alg`, or undefined when it can: RSA of at least
 * 2048 bits for RS and PS, P-256 for ES256, P-384 for ES384, Ed25519 for
 * EdDSA, a secret at least as long as the hash for HS.
 */
export function keyMismatch(alg: JwsAlgorithm, key: KeyObject): string | undefined {
  const spec = SPECS[alg];
  switch (spec.family) {
    case 'rsa':
    case 'pss': {
      if (key.type !== 'public' || key.asymmetricKeyType !== 'rsa') return `${alg} needs an RSA public key, got ${describeKey(key)}`;
      const bits = key.asymmetricKeyDetails?.modulusLength ?? 0;
      return bits < MIN_RSA_BITS ? `${alg} needs an RSA key of at least ${MIN_RSA_BITS} bits, got ${bits}` : undefined;
    }
    case 'ec':
      return key.type === 'public' && key.asymmetricKeyType === 'ec' && key.asymmetricKeyDetails?.namedCurve === spec.curve
        ? undefined
        : `${alg} needs an EC ${spec.curve} public key, got ${describeKey(key)}`;
    case 'eddsa':
      return key.type === 'public' && key.asymmetricKeyType === 'ed25519' ? undefined : `${alg} needs an Ed25519 public key, got ${describeKey(key)}`;
    case 'hmac':
      if (key.type !== 'secret') return `${alg} needs a symmetric (oct) key, got ${describeKey(key)}`;
      return (key.symmetricKeySize ?? 0) < spec.minKeyBytes!
        ? `${alg} needs a secret of at least ${spec.minKeyBytes} bytes, got ${key.symmetricKeySize ?? 0}`
        : undefined;
  }
}

/** A short, key-material-free description of a key for messages: "rsa 2048", "ec prime256v1", "secret". */
export function describeKey(key: KeyObject): string {
  if (key.type === 'secret') return 'secret';
  const d = key.asymmetricKeyDetails;
  const extra = d?.namedCurve ?? (d?.modulusLength !== undefined ? String(d.modulusLength) : '');
  return `${key.asymmetricKeyType ?? 'unknown'}${extra === '' ? '' : ' ' + extra}`.trim();
}

/**
 * Verifies a JWS signature over `signingInput` (ASCII `header.payload`).
 * Returns false for a wrong signature and for a key that does not fit `alg`.
 * ECDSA signatures are the fixed-length R||S form (RFC 7518 §3.4); HMAC tags
 * are compared in constant time.
 */
export function verifyJwsSignature(alg: JwsAlgorithm, key: KeyObject, signingInput: string, signature: Uint8Array): boolean {
  if (keyMismatch(alg, key) !== undefined) return false;
  const spec = SPECS[alg];
  const data = Buffer.from(signingInput, 'latin1');
  try {
    switch (spec.family) {
      case 'rsa':
        return verify(spec.hash, data, { key, padding: constants.RSA_PKCS1_PADDING }, signature);
      case 'pss':
        // RFC 7518 §3.5: MGF1 with the same hash, salt as long as the hash.
        return verify(spec.hash, data, { key, padding: constants.RSA_PKCS1_PSS_PADDING, saltLength: constants.RSA_PSS_SALTLEN_DIGEST }, signature);
      case 'ec':
        return verify(spec.hash, data, { key, dsaEncoding: 'ieee-p1363' }, signature);
      case 'eddsa':
        return verify(null, data, key, signature);
      case 'hmac': {
        const expected = createHmac(spec.hash!, key).update(data).digest();
        return expected.length === signature.length && timingSafeEqual(expected, signature);
      }
    }
  } catch {
    // OpenSSL throws on some malformed signatures (wrong length, bad encoding): that is a bad signature.
    return false;
  }
}
