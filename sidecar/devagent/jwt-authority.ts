import { createPrivateKey, createPublicKey, randomBytes, type JsonWebKey, type KeyObject } from 'node:crypto';
import { Buffer } from 'node:buffer';
import { SidecarError } from '../core/index.ts';
import { SpiffeId, type TrustDomain } from '../spiffe/index.ts';
import { JwtBundle } from '../bundle/index.ts';
import { signJws, type JwtSvidAlgorithm } from '../svid/index.ts';
import { generateKeySync, keyTypeOf } from './cert-builder.ts';

/** Key types a JWT authority can use, named as in SPIRE's `jwt_key_type`. */
export type JwtKeyType = 'ec-p256' | 'ec-p384' | 'rsa-2048';

/** Stable codes of {@link JwtAuthorityError}. */
export type JwtAuthorityErrorCode =
  /** {@link JwtAuthority.sign} was asked for claims SPIRE would never mint. */
  | 'jwtauthority.bad_claims'
  /** {@link JwtAuthority.fromState} was given a key or key ID it cannot use. */
  | 'jwtauthority.bad_state';

/** Raised when {@link JwtAuthority.sign} is asked for claims SPIRE would never mint, or a saved state is unusable. */
export class JwtAuthorityError extends SidecarError {
  declare readonly code: JwtAuthorityErrorCode;

  constructor(message: string, code: JwtAuthorityErrorCode = 'jwtauthority.bad_claims', options?: { cause?: unknown }) {
    super(code, message, options);
  }
}

/**
 * What a JWT authority needs to come back after a restart, from
 * {@link JwtAuthority.exportState}. Holds the private key: keep it private.
 */
export interface JwtAuthorityState {
  readonly kid: string;
  /** PKCS#8 DER of the signing key. */
  readonly privateKeyPkcs8Der: Buffer;
}

/**
 * The claims the dev agent puts in a JWT-SVID, the ones SPIRE sets
 * (BuildWorkloadJWTSVIDClaims in SPIRE pkg/server/credtemplate/builder.go),
 * plus any extra ones.
 */
export interface JwtSvidClaims {
  sub: string;
  aud: readonly string[];
  exp: number;
  iat: number;
  [k: string]: unknown;
}

// SPIRE picks the JWS alg from the key type (JoseAlgFromPublicKey in SPIRE
// pkg/common/cryptoutil/keys.go).
const ALG_BY_KEY_TYPE: Readonly<Record<JwtKeyType, JwtSvidAlgorithm>> = {
  'ec-p256': 'ES256',
  'ec-p384': 'ES384',
  'rsa-2048': 'RS256',
};

function b64urlJson(v: unknown): string {
  return Buffer.from(JSON.stringify(v), 'utf8').toString('base64url');
}

/**
 * An in-memory JWT signing authority for one trust domain: the dev agent's
 * stand-in for SPIRE's JWT key. Mints tokens shaped like SPIRE's (header
 * `{alg, kid, typ: 'JWT'}`) and publishes its key as a plain JWKS.
 * The private key leaves this object only through
 * {@link JwtAuthority.exportState}, for the dev agent's state directory.
 */
export class JwtAuthority {
  /** The trust domain whose JWT-SVIDs this authority signs. */
  readonly trustDomain: TrustDomain;
  /** The key ID put in every token header and in the JWKS. */
  readonly kid: string;
  /** The key type, as SPIRE names it. */
  readonly keyType: JwtKeyType;
  /** The JWS algorithm the key signs with. */
  readonly alg: JwtSvidAlgorithm;
  readonly #privateKey: KeyObject;
  readonly #publicKey: KeyObject;

  private constructor(trustDomain: TrustDomain, keyType: JwtKeyType, kid: string, keys: { privateKey: KeyObject; publicKey: KeyObject }) {
    this.trustDomain = trustDomain;
    this.keyType = keyType;
    this.alg = ALG_BY_KEY_TYPE[keyType];
    this.kid = kid;
    this.#privateKey = keys.privateKey;
    this.#publicKey = keys.publicKey;
    Object.freeze(this);
  }

  /** Generates a fresh key (default ec-p256, SPIRE's default) with a random key ID. */
  static generate(td: TrustDomain, keyType: JwtKeyType = 'ec-p256'): JwtAuthority {
    // Types are not checked at run time: only the key types with an algorithm above make JWT authorities.
    if (!Object.hasOwn(ALG_BY_KEY_TYPE, keyType)) throw new TypeError(`jwtauthority: unknown key type ${String(keyType)}`);
    const keys = generateKeySync(keyType);
    // SPIRE's key IDs are random strings; 24 random bytes give 32 base64url characters.
    return new JwtAuthority(td, keyType, randomBytes(24).toString('base64url'), keys);
  }

  /**
   * Brings back an authority saved with {@link JwtAuthority.exportState}.
   * Throws JwtAuthorityError 'jwtauthority.bad_state' when the key is not a
   * PKCS#8 private key of `keyType` or the key ID is not a short printable string.
   */
  static fromState(td: TrustDomain, state: JwtAuthorityState, keyType: JwtKeyType = 'ec-p256'): JwtAuthority {
    const bad = (what: string, cause?: unknown): JwtAuthorityError =>
      new JwtAuthorityError(`jwtauthority: saved state of ${td.name}: ${what}`, 'jwtauthority.bad_state', cause === undefined ? undefined : { cause });
    // The kid goes into every token header and the JWKS; anything odd there is a damaged file.
    if (typeof state.kid !== 'string' || !/^[\x21-\x7e]{1,128}$/.test(state.kid)) throw bad('the key ID is not 1 to 128 printable ASCII characters');
    let privateKey: KeyObject;
    try {
      privateKey = createPrivateKey({ key: state.privateKeyPkcs8Der, format: 'der', type: 'pkcs8' });
    } catch (err) {
      throw bad('the signing key is not a PKCS#8 private key', err);
    }
    const actual = keyTypeOf(privateKey);
    if (actual !== keyType) throw bad(`the signing key is ${actual ?? 'of an unsupported type'}, but the key type is ${keyType}`);
    return new JwtAuthority(td, keyType, state.kid, { privateKey, publicKey: createPublicKey(privateKey) });
  }

  /** The key ID and private key for {@link JwtAuthority.fromState}. The key is in the result: keep it private. */
  exportState(): JwtAuthorityState {
    return { kid: this.kid, privateKeyPkcs8Der: this.#privateKey.export({ type: 'pkcs8', format: 'der' }) };
  }

  /** The public key as a JWK with `kid` (no `use`, no private members), as SPIRE publishes it. */
  publicJwk(): JsonWebKey {
    return { ...this.#publicKey.export({ format: 'jwk' }), kid: this.kid };
  }

  /** The public key as a plain JWKS document, the way SPIRE's Workload API serves JWT bundles. */
  jwks(): string {
    return JSON.stringify({ keys: [this.publicJwk()] });
  }

  /** This authority's key as a JwtBundle for its trust domain. */
  bundle(): JwtBundle {
    return JwtBundle.fromKeys(this.trustDomain, [[this.kid, this.#publicKey]]);
  }

  /**
   * Signs a JWT-SVID. `sub` must be an ID in this trust domain and `aud`
   * must hold a non-empty string, as SPIRE requires. `header` is merged over
   * the default `{alg, kid, typ: 'JWT'}` (a member set to undefined is
   * dropped); it is for tests that need odd headers. The signature always
   * uses this authority's key and algorithm, whatever `header.alg` says.
   */
  sign(claims: JwtSvidClaims, header?: Record<string, unknown>): string {
    let sub: SpiffeId;
    try {
      sub = SpiffeId.parse(claims.sub);
    } catch {
      throw new JwtAuthorityError('jwtauthority: sub is not a SPIFFE ID');
    }
    if (!sub.memberOf(this.trustDomain)) {
      throw new JwtAuthorityError(`jwtauthority: sub ${sub} is not in trust domain ${this.trustDomain.name}`);
    }
    if (!Array.isArray(claims.aud) || !claims.aud.some((a) => typeof a === 'string' && a.length > 0)) {
      throw new JwtAuthorityError('jwtauthority: aud must hold at least one non-empty audience');
    }
    if (!Number.isFinite(claims.exp) || !Number.isFinite(claims.iat)) {
      throw new JwtAuthorityError('jwtauthority: exp and iat must be numbers');
    }
    return this.signRaw({ ...claims, aud: claims.aud.filter((a) => a.length > 0) }, header);
  }

  /**
   * Signs any payload without checking it. For tests that need tokens SPIRE
   * would never mint (no sub, no exp, ...). Same header rules as {@link JwtAuthority.sign}.
   */
  signRaw(payload: Record<string, unknown>, header?: Record<string, unknown>): string {
    const h = { alg: this.alg, kid: this.kid, typ: 'JWT', ...header };
    const signingInput = `${b64urlJson(h)}.${b64urlJson(payload)}`;
    return `${signingInput}.${signJws(this.alg, this.#privateKey, signingInput).toString('base64url')}`;
  }
}
