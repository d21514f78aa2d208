import { createPublicKey, type JsonWebKey, type KeyObject } from 'node:crypto';
import { SidecarError } from '../core/index.ts';
import { quoteUntrusted, type TrustDomain } from '../spiffe/index.ts';

/** Every reason a JWT bundle (JWK Set) can be rejected. */
export type JwtBundleErrorCode =
  | 'jwtbundle.malformed'
  | 'jwtbundle.missing_kid'
  | 'jwtbundle.bad_key'
  | 'jwtbundle.duplicate_kid';

/** Raised when a JWT bundle document or key is unusable. */
export class JwtBundleError extends SidecarError {
  declare readonly code: JwtBundleErrorCode;

  constructor(code: JwtBundleErrorCode, message: string, options?: { cause?: unknown }) {
    super(code, message, options);
  }
}

/** OpenSSL names of P-256, P-384 and P-521, the curves of ES256/ES384/ES512. */
const ALLOWED_CURVES = new Set(['prime256v1', 'secp384r1', 'secp521r1']);

/** RSA keys shorter than this are refused (NIST SP 800-131A; SPIRE issues 2048 and 4096). */
export const MIN_RSA_MODULUS_BITS = 2048;

/** JWK members that only a private or symmetric key has; a bundle must never carry them. */
const SECRET_MEMBERS = ['d', 'p', 'q', 'dp', 'dq', 'qi', 'oth', 'k'];

const utf8 = new TextDecoder('utf-8', { fatal: true });

/**
 * The JWT authorities (public keys by key ID) of one trust domain, used to
 * verify JWT-SVIDs whose `sub` is in that trust domain (JWT-SVID.md §4).
 * Immutable.
 */
export class JwtBundle {
  /** The trust domain these keys vouch for. */
  readonly trustDomain: TrustDomain;
  /** Key IDs in document order. */
  readonly keyIds: readonly string[];
  /** Number of keys. */
  readonly size: number;
  readonly #keys: ReadonlyMap<string, KeyObject>;

  private constructor(trustDomain: TrustDomain, keys: Map<string, KeyObject>) {
    this.trustDomain = trustDomain;
    this.#keys = keys;
    this.keyIds = Object.freeze([...keys.keys()]);
    this.size = keys.size;
    Object.freeze(this);
  }

  /**
   * Parses a JWK Set: the plain JWKS SPIRE's Workload API sends (no `use`;
   * SPIRE pkg/common/bundleutil/marshal.go) or a SPIFFE bundle
   * (SPIFFE_Trust_Domain_and_Bundle.md §4). Keys whose `use` is present and is not
   * 'jwt-svid' are skipped (X.509 and WIT authorities), and so are keys of a
   * type no JWT-SVID algorithm uses (kty other than EC/RSA). Every kept key needs
   * a `kid`, must be an EC P-256/P-384/P-521 or RSA (≥ 2048-bit) public key,
   * and key IDs must be unique. Throws JwtBundleError.
   */
  static parse(td: TrustDomain, jwks: Uint8Array | string): JwtBundle {
    const where = `jwtbundle: trust domain ${quoteUntrusted(td.name)}`;
    const doc = parseDocument(jwks, where);
    const keys = new Map<string, KeyObject>();
    doc.forEach((entry, i) => {
      if (!isPlainObject(entry)) throw new JwtBundleError('jwtbundle.bad_key', `${where}: key ${i} is not a JSON object`);
      // SPIFFE bundles mix key kinds; only 'jwt-svid' keys may verify JWT-SVIDs
      // (Trust Domain and Bundle spec §4.2). SPIRE's plain JWKS has no `use`.
      if (Object.hasOwn(entry, 'use') && entry['use'] !== 'jwt-svid') return;
      // A key type no JWT-SVID algorithm uses (oct, OKP, future types) is
      // ignored, not fatal (Trust Domain and Bundle spec §4: unknown kty →
      // ignore the key). SPIRE's plain JWKS may carry such keys (e.g. WIT
      // authorities without `use`); failing would drop the whole bundle.
      const kty = entry['kty'];
      if (typeof kty === 'string' && kty !== 'EC' && kty !== 'RSA') return;
      const kid = entry['kid'];
      if (typeof kid !== 'string' || kid.length === 0) {
        throw new JwtBundleError('jwtbundle.missing_kid', `${where}: key ${i} has no "kid"`);
      }
      if (keys.has(kid)) {
        // Two keys under one kid would make the verifying key depend on order.
        throw new JwtBundleError('jwtbundle.duplicate_kid', `${where}: key ID ${quoteUntrusted(kid)} appears twice`);
      }
      keys.set(kid, importJwk(entry, `${where}: key ${quoteUntrusted(kid)}`));
    });
    return new JwtBundle(td, keys);
  }

  /**
   * Builds a bundle from key objects, applying the same key rules as
   * {@link JwtBundle.parse}. For tests and the dev agent.
   */
  static fromKeys(td: TrustDomain, keys: Iterable<readonly [kid: string, key: KeyObject]>): JwtBundle {
    const where = `jwtbundle: trust domain ${quoteUntrusted(td.name)}`;
    const map = new Map<string, KeyObject>();
    for (const [kid, key] of keys) {
      if (typeof kid !== 'string' || kid.length === 0) throw new JwtBundleError('jwtbundle.missing_kid', `${where}: empty key ID`);
      if (map.has(kid)) throw new JwtBundleError('jwtbundle.duplicate_kid', `${where}: key ID ${quoteUntrusted(kid)} appears twice`);
      checkKey(key, `${where}: key ${quoteUntrusted(kid)}`);
      map.set(kid, key);
    }
    return new JwtBundle(td, map);
  }

  /** The public key with ID `kid`, or undefined. */
  findKey(kid: string): KeyObject | undefined {
    return this.#keys.get(kid);
  }

  /**
   * True when `o` is for the same trust domain and holds the same keys under
   * the same IDs, in any order. For "did the bundle change?" checks.
   */
  equals(o: JwtBundle): boolean {
    if (!this.trustDomain.equals(o.trustDomain) || this.size !== o.size) return false;
    for (const [kid, key] of this.#keys) {
      const other = o.findKey(kid);
      if (other === undefined || !key.equals(other)) return false;
    }
    return true;
  }

  /** The keys as a plain JWKS document (`{"keys":[...]}` with `kid`, no `use`), as SPIRE serves it. */
  toJwks(): string {
    const keys = [...this.#keys].map(([kid, key]) => ({ ...key.export({ format: 'jwk' }), kid }));
    return JSON.stringify({ keys });
  }
}

function parseDocument(jwks: Uint8Array | string, where: string): unknown[] {
  let doc: unknown;
  try {
    doc = JSON.parse(typeof jwks === 'string' ? jwks : utf8.decode(jwks));
  } catch (cause) {
    throw new JwtBundleError('jwtbundle.malformed', `${where}: not a JSON document`, { cause });
  }
  if (!isPlainObject(doc)) throw new JwtBundleError('jwtbundle.malformed', `${where}: not a JSON object`);
  const keys = doc['keys'];
  // The spec requires `keys`; an empty array is valid and means no token verifies.
  if (!Array.isArray(keys)) throw new JwtBundleError('jwtbundle.malformed', `${where}: "keys" must be an array`);
  return keys;
}

function importJwk(jwk: Record<string, unknown>, where: string): KeyObject {
  for (const m of SECRET_MEMBERS) {
    if (Object.hasOwn(jwk, m)) throw new JwtBundleError('jwtbundle.bad_key', `${where}: carries private key material ("${m}")`);
  }
  // Only the members that define the public key are handed to OpenSSL.
  let pub: JsonWebKey;
  const kty = jwk['kty'];
  if (kty === 'EC') {
    // The curve is checked on the imported key (checkKey), one rule for parse and fromKeys.
    pub = { kty, crv: stringMember(jwk, 'crv', where), x: stringMember(jwk, 'x', where), y: stringMember(jwk, 'y', where) };
  } else if (kty === 'RSA') {
    pub = { kty, n: stringMember(jwk, 'n', where), e: stringMember(jwk, 'e', where) };
  } else {
    throw new JwtBundleError('jwtbundle.bad_key', `${where}: unsupported key type ${quoteUntrusted(String(kty))} (want EC or RSA)`);
  }
  let key: KeyObject;
  try {
    key = createPublicKey({ key: pub, format: 'jwk' });
  } catch (cause) {
    throw new JwtBundleError('jwtbundle.bad_key', `${where}: invalid ${kty} key`, { cause });
  }
  checkKey(key, where);
  return key;
}

function stringMember(jwk: Record<string, unknown>, name: string, where: string): string {
  const v = jwk[name];
  if (typeof v !== 'string' || v.length === 0) throw new JwtBundleError('jwtbundle.bad_key', `${where}: missing "${name}"`);
  return v;
}

/** The key rules shared by parse and fromKeys: a public EC key on an allowed curve or a large enough RSA key. */
function checkKey(key: KeyObject, where: string): void {
  if (key.type !== 'public') throw new JwtBundleError('jwtbundle.bad_key', `${where}: not a public key`);
  const details = key.asymmetricKeyDetails ?? {};
  if (key.asymmetricKeyType === 'ec') {
    if (!ALLOWED_CURVES.has(details.namedCurve ?? '')) {
      throw new JwtBundleError('jwtbundle.bad_key', `${where}: unsupported EC curve ${details.namedCurve ?? 'unknown'}`);
    }
    return;
  }
  if (key.asymmetricKeyType === 'rsa') {
    if ((details.modulusLength ?? 0) < MIN_RSA_MODULUS_BITS) {
      throw new JwtBundleError(
        'jwtbundle.bad_key',
        `${where}: RSA key of ${details.modulusLength ?? 0} bits is below ${MIN_RSA_MODULUS_BITS}`,
      );
    }
    return;
  }
  throw new JwtBundleError('jwtbundle.bad_key', `${where}: unsupported key type ${key.asymmetricKeyType ?? 'unknown'}`);
}

function isPlainObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}
