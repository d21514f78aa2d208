import type { Clock } from '../core/index.ts';
import { quoteUntrusted } from '../spiffe/index.ts';
import type { DecodedJws } from './jws-compact.ts';
import { checkJwsHeader, type CheckedHeader } from './jws-header.ts';
import { keyMismatch, verifyJwsSignature } from './jws-algorithm.ts';
import { checkJwtClaims, tokenBinding, verifiedToken, type ClaimFailure } from './jwt-claims.ts';
import type { JwkSet } from './jwk-set.ts';
import type { KeySetCache, KeySetStatus } from './key-set-cache.ts';
import type { ResolvedJwtProvider } from './jwt-provider-options.ts';
import type { TokenOutcome } from './verified-token.ts';
import { VerifiedEntry } from './verified-token-cache.ts';

/** What a provider's check of one token gives: a verified entry, or the refusal. */
export type VerifyResult = VerifiedEntry | TokenOutcome;

/** The verification side of one configured JWT provider, as the authenticator drives it. */
export interface JwtTokenProvider {
  readonly options: ResolvedJwtProvider;
  /** Verifies a decoded token. Synchronous whenever the needed keys are held. */
  verify(jws: DecodedJws, token: string, now: number): VerifyResult | Promise<VerifyResult>;
  /** True while the keys `entry` was verified with are still the provider's current ones. */
  isCurrent(entry: VerifiedEntry, now: number): boolean;
  start(): void;
  ready(timeoutMs: number): Promise<boolean>;
  status(): KeySetStatus;
  close(): Promise<void>;
}

/** Tokens without `kid` are tried against at most this many fitting keys, bounding the work a forged token can cause. */
export const MAX_KEYS_WITHOUT_KID = 4;

const NO_KEY = Symbol('no key');

/** Builds an `invalid` outcome for `provider`. */
export function refuse(provider: string, f: ClaimFailure): TokenOutcome {
  return { kind: 'invalid', reason: f.reason, provider, detail: f.detail };
}

/**
 * A provider whose keys come from a JWK Set (URL, discovery or file):
 * checks the header, picks keys by `kid` and algorithm family, verifies the
 * signature with node:crypto, then the claims (RFC 7519, RFC 9068 §4).
 */
export class JwtProvider implements JwtTokenProvider {
  readonly options: ResolvedJwtProvider;
  readonly #index: number;
  readonly #keys: KeySetCache;
  readonly #clock: Clock;
  readonly #unavailable: TokenOutcome;

  constructor(options: ResolvedJwtProvider, index: number, keys: KeySetCache, clock: Clock) {
    this.options = options;
    this.#index = index;
    this.#keys = keys;
    this.#clock = clock;
    this.#unavailable = Object.freeze({
      kind: 'unavailable',
      reason: 'keys_unavailable',
      provider: options.name,
      detail: 'the issuer\'s keys cannot be loaded',
    });
  }

  verify(jws: DecodedJws, token: string, now: number): VerifyResult | Promise<VerifyResult> {
    const header = checkJwsHeader(jws.header, this.options);
    if ('reason' in header) return refuse(this.options.name, header);
    if (jws.signature.length === 0) return refuse(this.options.name, { reason: 'bad_signature', detail: 'the signature is empty' });
    const set = this.#keys.current(now);
    if (set !== undefined) {
      const r = this.#verifyWith(set, jws, header, token, now);
      if (r !== NO_KEY) return r;
    }
    // Unknown kid (or no keys yet): the issuer may have rotated; look again.
    const refetch = this.#keys.refetchForUnknownKey(now);
    if (refetch === undefined) return this.#noKey(set !== undefined, header);
    return refetch.then(() => {
      const later = this.#clock.now();
      const fresh = this.#keys.current(later);
      if (fresh === undefined) return this.#unavailable;
      const r = this.#verifyWith(fresh, jws, header, token, later);
      return r !== NO_KEY ? r : this.#noKey(true, header);
    });
  }

  isCurrent(entry: VerifiedEntry, now: number): boolean {
    return this.#keys.current(now) === entry.keyRef;
  }

  start(): void {
    this.#keys.start();
  }

  ready(timeoutMs: number): Promise<boolean> {
    return this.#keys.ready(timeoutMs);
  }

  status(): KeySetStatus {
    return this.#keys.status();
  }

  close(): Promise<void> {
    return this.#keys.close();
  }

  /**
   * A kid the set lacks is `unknown_key` only when the last load succeeded;
   * when the issuer is unreachable we cannot tell, so fail closed with
   * `keys_unavailable` (the caller answers 503, not 401).
   */
  #noKey(haveSet: boolean, header: CheckedHeader): TokenOutcome {
    if (!haveSet || this.#keys.lastLoadFailed) return this.#unavailable;
    const detail = header.kid === undefined ? `no key fits ${header.alg} for a token without kid` : `no key with kid ${quoteUntrusted(header.kid, 64)}`;
    return refuse(this.options.name, { reason: 'unknown_key', detail });
  }

  #verifyWith(set: JwkSet, jws: DecodedJws, header: CheckedHeader, token: string, now: number): VerifyResult | typeof NO_KEY {
    const candidates = header.kid === undefined ? set.all() : set.byKid(header.kid);
    let fitting = 0;
    let mismatch = '';
    for (const k of candidates) {
      // RFC 7517 §4.4: a key that names its algorithm is used for that one only.
      const why = k.alg !== undefined && k.alg !== header.alg ? `the key is for ${k.alg}` : keyMismatch(header.alg, k.key);
      if (why !== undefined) {
        mismatch = why;
        continue;
      }
      if (++fitting > MAX_KEYS_WITHOUT_KID) {
        return refuse(this.options.name, { reason: 'unknown_key', detail: `the token has no kid and more than ${MAX_KEYS_WITHOUT_KID} keys fit ${header.alg}` });
      }
      if (verifyJwsSignature(header.alg, k.key, jws.signingInput, jws.signature)) return this.#accept(jws, token, now, set);
    }
    if (fitting > 0) return refuse(this.options.name, { reason: 'bad_signature', detail: `the ${header.alg} signature does not verify` });
    if (candidates.length === 0 || header.kid === undefined) return NO_KEY;
    // The kid exists but its key is of another family: never try it (RS/HS confusion, RFC 8725 §2.1).
    return refuse(this.options.name, { reason: 'bad_algorithm', detail: `key ${quoteUntrusted(header.kid, 64)} cannot verify ${header.alg}: ${mismatch}` });
  }

  #accept(jws: DecodedJws, token: string, now: number, set: JwkSet): VerifyResult {
    const o = this.options;
    const claims = checkJwtClaims(jws.payload, { issuer: o.issuer!, audiences: o.audiences, clockSkewMs: o.clockSkewMs }, now);
    if ('reason' in claims) return refuse(o.name, claims);
    const binding = tokenBinding(jws.payload);
    if (typeof binding === 'object' && 'reason' in binding) return refuse(o.name, binding);
    const verified = verifiedToken(jws.payload, {
      provider: o.name,
      kind: 'jwt',
      issuer: o.issuer!,
      expiresAtMs: claims.expMs,
      audiences: claims.audiences,
      binding,
      jwt: token,
    });
    const outcome: TokenOutcome = Object.freeze({ kind: 'valid', token: verified });
    return new VerifiedEntry(outcome, this.#index, claims.expMs + o.clockSkewMs, binding, set, undefined);
  }
}
