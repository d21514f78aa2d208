import type { Clock } from '../core/index.ts';
import type { TrustDomain } from '../spiffe/index.ts';
import type { JwtBundleSource } from '../bundle/index.ts';
import { JwtSvidError, parseAndValidateJwtSvid, type JwtSvid, type JwtSvidErrorCode } from '../svid/index.ts';
import type { DecodedJws } from './jws-compact.ts';
import { checkJwsHeader } from './jws-header.ts';
import { tokenBinding, verifiedToken, type ClaimFailure } from './jwt-claims.ts';
import { refuse, type JwtTokenProvider, type VerifyResult } from './jwt-provider.ts';
import type { KeySetStatus } from './key-set-cache.ts';
import type { ResolvedJwtProvider } from './jwt-provider-options.ts';
import type { TokenInvalidReason, TokenOutcome } from './verified-token.ts';
import { VerifiedEntry } from './verified-token-cache.ts';

/** How each JWT-SVID rejection maps onto the end-user refusal reasons. */
const REASONS: Readonly<Record<JwtSvidErrorCode, TokenInvalidReason>> = {
  'jwtsvid.malformed': 'malformed',
  'jwtsvid.alg_not_allowed': 'bad_algorithm',
  'jwtsvid.bad_typ': 'bad_type',
  'jwtsvid.unknown_header': 'malformed',
  'jwtsvid.missing_kid': 'unknown_key',
  'jwtsvid.missing_sub': 'missing_claim',
  'jwtsvid.bad_sub': 'malformed',
  'jwtsvid.missing_exp': 'missing_claim',
  'jwtsvid.missing_aud': 'missing_claim',
  'jwtsvid.audience_mismatch': 'wrong_audience',
  'jwtsvid.expired': 'expired',
  'jwtsvid.not_yet_valid': 'not_yet_valid',
  'jwtsvid.issued_in_future': 'not_yet_valid',
  'jwtsvid.no_bundle': 'unknown_issuer',
  'jwtsvid.unknown_kid': 'unknown_key',
  'jwtsvid.bad_signature': 'bad_signature',
};

/**
 * A provider for JWT-SVIDs presented as bearer tokens, verified against the
 * JWT bundles the Workload API delivers. The JWT-SVID rules (JWT-SVID.md
 * §3-§4: header parameters, `sub` a SPIFFE ID, keys of the subject's own
 * trust domain) are the svid module's; this adds the provider's algorithm
 * allow-list, issuer and certificate binding. Never does I/O: the bundle
 * source is kept current by the Workload API client.
 */
export class WorkloadJwtProvider implements JwtTokenProvider {
  readonly options: ResolvedJwtProvider;
  readonly #index: number;
  readonly #bundles: JwtBundleSource;
  readonly #clock: Clock;

  constructor(options: ResolvedJwtProvider, index: number, bundles: JwtBundleSource, clock: Clock) {
    this.options = options;
    this.#index = index;
    this.#bundles = bundles;
    this.#clock = clock;
  }

  verify(jws: DecodedJws, token: string, _now: number): VerifyResult {
    const o = this.options;
    const header = checkJwsHeader(jws.header, o);
    if ('reason' in header) return refuse(o.name, header);
    const iss = jws.payload['iss'];
    if (iss !== undefined && iss !== o.issuer) return refuse(o.name, { reason: 'unknown_issuer', detail: 'iss is not the provider\'s issuer' });
    let svid: JwtSvid;
    try {
      svid = parseAndValidateJwtSvid(token, this.#bundles, o.audiences, { clock: this.#clock, leewaySeconds: o.clockSkewMs / 1000 });
    } catch (err) {
      if (!(err instanceof JwtSvidError)) throw err;
      return refuse(o.name, { reason: REASONS[err.code], detail: err.message.replace(/^jwtsvid: /, 'JWT-SVID: ') });
    }
    const binding = tokenBinding(jws.payload);
    if (typeof binding === 'object' && 'reason' in binding) return refuse(o.name, binding as ClaimFailure);
    const td = svid.id.trustDomain;
    const expiresAtMs = svid.expiresAt.getTime();
    const verified = verifiedToken(jws.payload, {
      provider: o.name,
      kind: 'jwt',
      issuer: typeof iss === 'string' ? iss : `spiffe://${td.name}`,
      expiresAtMs,
      audiences: svid.audience,
      binding,
      jwt: token,
    });
    const outcome: TokenOutcome = Object.freeze({ kind: 'valid', token: verified });
    const bundle = this.#bundles.getJwtBundleForTrustDomain(td);
    return new VerifiedEntry(outcome, this.#index, expiresAtMs + o.clockSkewMs, binding, bundle ?? outcome, td);
  }

  isCurrent(entry: VerifiedEntry, _now: number): boolean {
    return this.#bundles.getJwtBundleForTrustDomain(entry.scope as TrustDomain) === entry.keyRef;
  }

  start(): void {}

  ready(_timeoutMs: number): Promise<boolean> {
    return Promise.resolve(true);
  }

  status(): KeySetStatus {
    return Object.freeze({ provider: this.options.name, ready: true, keyCount: 0, fetchedAtMs: undefined, expiresAtMs: undefined, lastError: undefined });
  }

  async close(): Promise<void> {}
}
