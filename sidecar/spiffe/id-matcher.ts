import { SpiffeId } from './spiffe-id.ts';
import { TrustDomain } from './trust-domain.ts';

/**
 * Decides whether a peer's SPIFFE ID is acceptable. Authorizers in `tls`
 * and `policy` are built from these (go-spiffe's MatchAny/MatchID/...).
 */
export interface IdMatcher {
  /** True when `id` is accepted. Must be pure and cheap: it runs on every handshake or request. */
  matches(id: SpiffeId): boolean;
  /** What is accepted, in words, for error bodies and logs (e.g. `any ID in trust domain example.org`). */
  readonly description: string;
}

function matcher(description: string, matches: (id: SpiffeId) => boolean): IdMatcher {
  return Object.freeze({ description, matches });
}

function toId(id: SpiffeId | string): SpiffeId {
  return typeof id === 'string' ? SpiffeId.parse(id) : id;
}

/** Accepts every valid SPIFFE ID, whatever its trust domain. */
export function matchAny(): IdMatcher {
  return matcher('any SPIFFE ID', () => true);
}

/** Accepts exactly `id`. A string is parsed first and throws SpiffeIdError if invalid. */
export function matchId(id: SpiffeId | string): IdMatcher {
  const want = toId(id).toString();
  return matcher(want, (got) => got.toString() === want);
}

/** Accepts any of `ids`; with none given it accepts nothing. Strings are parsed first. */
export function matchOneOf(...ids: (SpiffeId | string)[]): IdMatcher {
  const want = [...new Set(ids.map((id) => toId(id).toString()))];
  const set = new Set(want);
  return matcher(`one of [${want.join(', ')}]`, (got) => set.has(got.toString()));
}

/** Accepts every ID in trust domain `td` (a name or a full ID, as TrustDomain.parse takes). */
export function matchMemberOf(td: TrustDomain | string): IdMatcher {
  const want = typeof td === 'string' ? TrustDomain.parse(td) : td;
  return matcher(`any ID in trust domain ${want.name}`, (got) => got.memberOf(want));
}

/** Accepts the IDs `fn` returns true for; `description` says which, in words. */
export function matchPredicate(fn: (id: SpiffeId) => boolean, description: string): IdMatcher {
  return matcher(description, (id) => fn(id) === true);
}
