import { PeerIdMatcher, type PeerIdPattern } from './peer-id-pattern.ts';
import { ClaimMatcher, type ClaimCondition } from './claim-condition.ts';
import { IpBlockSet } from './ip-block-set.ts';
import { MATCH, NEEDS_PRINCIPAL, NO_MATCH, type MatchOutcome } from './match-outcome.ts';
import { PrincipalMatcher } from './principal-matcher.ts';
import type { RequestView } from './request-view.ts';

/**
 * One `from` entry in document form (canonical spellings). Version 1
 * entries have exactly one SPIFFE key; version 2 entries have at most one
 * SPIFFE key and any of the others, and match when every key they have does.
 */
export interface FromEntry {
  readonly id?: string;
  readonly idPrefix?: string;
  readonly trustDomain?: string;
  /** End users as `<iss>/<sub>`, `<prefix>/*` or `*`; see PrincipalMatcher. */
  readonly principals?: readonly string[];
  /** OAuth clients (`client_id`, else `azp`), exact. */
  readonly clients?: readonly string[];
  /** Claim conditions, all of which must hold. */
  readonly claims?: readonly ClaimCondition[];
  /** CIDR blocks of the direct peer's address. */
  readonly ipBlocks?: readonly string[];
  /** CIDR blocks of the original client's address (see RemoteAddress). */
  readonly remoteIpBlocks?: readonly string[];
}

/** The keys of a {@link FromEntry} that look at the end user's token. */
export const PRINCIPAL_KEYS = ['principals', 'clients', 'claims'] as const;

/** True when the entry has only a SPIFFE key, so PeerIdMatcher's set lookups can take it. */
export function isCallerEntry(e: FromEntry): e is PeerIdPattern {
  return (
    e.principals === undefined &&
    e.clients === undefined &&
    e.claims === undefined &&
    e.ipBlocks === undefined &&
    e.remoteIpBlocks === undefined
  );
}

/**
 * A compiled version 2 `from` entry. SPIFFE and address conditions are
 * checked first; end-user conditions last, so that with no principal the
 * entry reports NEEDS_PRINCIPAL only when everything else matched.
 */
export class FromEntryMatcher {
  readonly #peer: PeerIdMatcher | null;
  readonly #ipBlocks: IpBlockSet | null;
  readonly #remoteIpBlocks: IpBlockSet | null;
  readonly #principals: PrincipalMatcher | null;
  readonly #clients: ReadonlySet<string> | null;
  readonly #claims: readonly ClaimMatcher[];
  /** True when a condition reads the end user's token. */
  readonly usesPrincipal: boolean;

  constructor(e: FromEntry) {
    const peer: PeerIdPattern | undefined =
      e.id !== undefined ? { id: e.id } : e.idPrefix !== undefined ? { idPrefix: e.idPrefix } : e.trustDomain !== undefined ? { trustDomain: e.trustDomain } : undefined;
    this.#peer = peer === undefined ? null : new PeerIdMatcher([peer]);
    this.#ipBlocks = e.ipBlocks === undefined ? null : new IpBlockSet(e.ipBlocks);
    this.#remoteIpBlocks = e.remoteIpBlocks === undefined ? null : new IpBlockSet(e.remoteIpBlocks);
    this.#principals = e.principals === undefined ? null : new PrincipalMatcher(e.principals);
    this.#clients = e.clients === undefined ? null : new Set(e.clients);
    this.#claims = (e.claims ?? []).map((c) => new ClaimMatcher(c));
    this.usesPrincipal = this.#principals !== null || this.#clients !== null || this.#claims.length > 0;
  }

  /** How the entry relates to the request. Sets `view.callerListed` when it has a SPIFFE condition and that accepts the peer. */
  match(view: RequestView): MatchOutcome {
    if (this.#peer !== null) {
      if (!this.#peer.matchesParts(view.id, view.trustDomain)) return NO_MATCH;
      // Only a SPIFFE condition names the caller: an entry without one does not "list" every peer.
      view.callerListed = true;
    }
    if (this.#ipBlocks !== null && !this.#ipBlocks.contains(view.peerFamily(), view.peerBytes)) return NO_MATCH;
    if (this.#remoteIpBlocks !== null && !this.#remoteIpBlocks.contains(view.remoteFamily(), view.remoteBytes)) return NO_MATCH;
    if (!this.usesPrincipal) return MATCH;
    const p = view.principal;
    if (p === undefined) return NEEDS_PRINCIPAL;
    if (this.#principals !== null && !this.#principals.matches(p)) return NO_MATCH;
    if (this.#clients !== null && (p.clientId === '' || !this.#clients.has(p.clientId))) return NO_MATCH;
    const claims = this.#claims;
    for (let i = 0; i < claims.length; i++) if (!claims[i]!.matches(p)) return NO_MATCH;
    return MATCH;
  }
}
