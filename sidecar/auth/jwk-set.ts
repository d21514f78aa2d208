import { Buffer } from 'node:buffer';
import { createPublicKey, createSecretKey, type JsonWebKey, type KeyObject } from 'node:crypto';
import { quoteUntrusted } from '../spiffe/index.ts';
import { isJwsAlgorithm, keyMismatch, MIN_RSA_BITS, type JwsAlgorithm } from './jws-algorithm.ts';
import { KeySetError } from './key-set-error.ts';

/** A JWKS document larger than this is refused before parsing. */
export const MAX_KEY_SET_BYTES = 256 * 1024;

/** Longest `kid` accepted, in a key set or a token header. */
export const MAX_KID_LENGTH = 256;

/** One public key (or, from a key file, one secret) usable for JWS verification. */
export interface VerificationKey {
  readonly kid: string | undefined;
  readonly key: KeyObject;
  /** The JWK's `alg`: when set, the key verifies that algorithm only (RFC 7517 §4.4). */
  readonly alg: JwsAlgorithm | undefined;
}

/** What {@link JwkSet.parse} returns: the set and why each skipped key was skipped. */
export interface JwkSetParseResult {
  readonly set: JwkSet;
  /** One line per key left out; never contains key material. */
  readonly skipped: readonly string[];
}

/** Options of {@link JwkSet.parse}. */
export interface JwkSetParseOptions {
  /** Accept `kty: "oct"` secrets; only for key files, never for sets fetched over the network. */
  readonly allowSymmetric: boolean;
  /** Names the source in error messages (a URL without query, or a file path). */
  readonly source: string;
}

const utf8 = new TextDecoder('utf-8', { fatal: true });
const PRIVATE_MEMBERS = ['d', 'p', 'q', 'dp', 'dq', 'qi', 'oth'];
const EC_CURVES = new Set(['P-256', 'P-384']);
const NO_KEYS: readonly VerificationKey[] = Object.freeze([]);

/**
 * An immutable JWK Set (RFC 7517 §5) reduced to the keys this sidecar may
 * verify with, indexed by `kid`. `kid` is only ever a map key: it is never
 * a file name, URL or query (RFC 8725 §3.10).
 */
export class JwkSet {
  /** Number of usable keys. */
  readonly size: number;
  /** The distinct key IDs, in document order. */
  readonly keyIds: readonly string[];
  readonly #all: readonly VerificationKey[];
  readonly #byKid: ReadonlyMap<string, readonly VerificationKey[]>;

  private constructor(keys: readonly VerificationKey[]) {
    const byKid = new Map<string, VerificationKey[]>();
    for (const k of keys) {
      if (k.kid === undefined) continue;
      const list = byKid.get(k.kid);
      if (list === undefined) byKid.set(k.kid, [k]);
      else list.push(k);
    }
    this.#all = Object.freeze([...keys]);
    this.#byKid = byKid;
    this.size = keys.length;
    this.keyIds = Object.freeze([...byKid.keys()]);
    Object.freeze(this);
  }

  /** Builds a set from already imported keys (tests and the key file loader). */
  static of(keys: readonly VerificationKey[]): JwkSet {
    return new JwkSet(keys);
  }

  /**
   * Parses a JWKS document. The document must be JSON of the form
   * `{"keys":[...]}` and at most {@link MAX_KEY_SET_BYTES}; otherwise throws
   * KeySetError 'auth.bad_key_set'. Individual keys that are unusable are
   * skipped and reported in `skipped`; when the list is not empty but none
   * of its keys is usable the whole document is refused, so a broken
   * rotation does not replace a working set.
   */
  static parse(doc: Uint8Array | string, opts: JwkSetParseOptions): JwkSetParseResult {
    const size = typeof doc === 'string' ? Buffer.byteLength(doc) : doc.byteLength;
    if (size > MAX_KEY_SET_BYTES) throw bad(opts, `is ${size} bytes, more than ${MAX_KEY_SET_BYTES}`);
    let value: unknown;
    try {
      value = JSON.parse(typeof doc === 'string' ? doc : utf8.decode(doc));
    } catch (cause) {
      throw bad(opts, 'is not UTF-8 JSON', cause);
    }
    if (!isObject(value) || !Array.isArray(value['keys'])) throw bad(opts, 'is not a JSON object with a "keys" array');
    const entries = value['keys'] as unknown[];
    const keys: VerificationKey[] = [];
    const skipped: string[] = [];
    entries.forEach((entry, i) => {
      const r = importJwk(entry, opts.allowSymmetric);
      if (typeof r === 'string') skipped.push(`key ${i}${kidNote(entry)}: ${r}`);
      else if (r !== null) keys.push(r);
    });
    if (entries.length > 0 && keys.length === 0) {
      throw bad(opts, `has no usable key among ${entries.length}${skipped.length > 0 ? ` (${skipped.slice(0, 3).join('; ')})` : ''}`);
    }
    return { set: new JwkSet(keys), skipped: Object.freeze(skipped) };
  }

  /** The keys published under `kid`, any type; empty when none. */
  byKid(kid: string): readonly VerificationKey[] {
    return this.#byKid.get(kid) ?? NO_KEYS;
  }

  /** Every key, for tokens without `kid`. */
  all(): readonly VerificationKey[] {
    return this.#all;
  }
}

function bad(opts: JwkSetParseOptions, why: string, cause?: unknown): KeySetError {
  return new KeySetError('auth.bad_key_set', `auth: key set from ${opts.source} ${why}`, cause === undefined ? {} : { cause });
}

function kidNote(entry: unknown): string {
  return isObject(entry) && typeof entry['kid'] === 'string' ? ` (kid ${quoteUntrusted(entry['kid'], 64)})` : '';
}

/**
 * One JWK to a verification key; a string says why it is unusable, null
 * means the key is simply not a signature key (`use`/`key_ops` say so).
 */
function importJwk(entry: unknown, allowSymmetric: boolean): VerificationKey | string | null {
  if (!isObject(entry)) return 'not a JSON object';
  // RFC 7517 §4.2/§4.3: a key meant for encryption must not verify signatures.
  if (Object.hasOwn(entry, 'use') && entry['use'] !== 'sig') return null;
  const ops = entry['key_ops'];
  if (ops !== undefined && (!Array.isArray(ops) || !ops.includes('verify'))) return null;
  const kid = entry['kid'];
  if (kid !== undefined && (typeof kid !== 'string' || kid.length > MAX_KID_LENGTH)) return `"kid" is not a string of at most ${MAX_KID_LENGTH} characters`;
  const alg = entry['alg'];
  if (alg !== undefined && !isJwsAlgorithm(alg)) return `"alg" ${quoteUntrusted(String(alg), 32)} is not a supported signature algorithm`;
  const key = importKey(entry, allowSymmetric);
  if (typeof key === 'string') return key;
  if (alg !== undefined) {
    const mismatch = keyMismatch(alg, key);
    if (mismatch !== undefined) return `declares "alg" ${alg} but ${mismatch}`;
  }
  return Object.freeze({ kid, key, alg });
}

function importKey(jwk: Record<string, unknown>, allowSymmetric: boolean): KeyObject | string {
  const kty = jwk['kty'];
  if (kty === 'oct') return importSecret(jwk, allowSymmetric);
  for (const m of PRIVATE_MEMBERS) if (Object.hasOwn(jwk, m)) return `carries private key material ("${m}")`;
  let pub: JsonWebKey;
  if (kty === 'RSA') {
    pub = { kty, n: str(jwk, 'n'), e: str(jwk, 'e') };
  } else if (kty === 'EC') {
    if (!EC_CURVES.has(str(jwk, 'crv'))) return `EC curve ${quoteUntrusted(str(jwk, 'crv'), 16)} is not P-256 or P-384`;
    pub = { kty, crv: str(jwk, 'crv'), x: str(jwk, 'x'), y: str(jwk, 'y') };
  } else if (kty === 'OKP') {
    if (jwk['crv'] !== 'Ed25519') return `OKP curve ${quoteUntrusted(str(jwk, 'crv'), 16)} is not Ed25519`;
    pub = { kty, crv: 'Ed25519', x: str(jwk, 'x') };
  } else {
    return `key type ${quoteUntrusted(String(kty), 16)} is not RSA, EC, OKP or oct`;
  }
  let key: KeyObject;
  try {
    // Only the public members reach OpenSSL; x5c and friends are ignored.
    key = createPublicKey({ key: pub, format: 'jwk' });
  } catch {
    return `is not a valid ${kty} public key`;
  }
  const bits = key.asymmetricKeyDetails?.modulusLength ?? 0;
  if (key.asymmetricKeyType === 'rsa' && bits < MIN_RSA_BITS) return `RSA key of ${bits} bits is below ${MIN_RSA_BITS}`;
  return key;
}

function importSecret(jwk: Record<string, unknown>, allowSymmetric: boolean): KeyObject | string {
  // A secret published over the network is a secret no longer, and accepting
  // one would let whoever controls the endpoint mint HS* tokens.
  if (!allowSymmetric) return 'symmetric (oct) keys are only accepted from a key file';
  const k = str(jwk, 'k');
  const bytes = Buffer.from(k, 'base64url');
  if (k.length === 0 || bytes.toString('base64url') !== k) return '"k" is not unpadded base64url';
  // RFC 7518 §3.2: at least as long as the smallest HMAC output we accept.
  if (bytes.length < 32) return `secret of ${bytes.length} bytes is shorter than 32`;
  return createSecretKey(bytes);
}

function str(jwk: Record<string, unknown>, name: string): string {
  const v = jwk[name];
  return typeof v === 'string' ? v : '';
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}
