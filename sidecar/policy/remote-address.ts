import { PeerIdMatcher, type PeerIdPattern } from './peer-id-pattern.ts';

/** The top-level `remoteAddress` settings of a version 2 policy, in document form. */
export interface RemoteAddressDocument {
  /** SPIFFE IDs (`spiffe://td/edge`) or ID prefixes (`spiffe://td/ns/edge/*`) of callers whose forwarding headers are believed. */
  readonly trustedCallers: readonly string[];
  /** Which forwarded entry, counted from the right, is the client: see {@link RemoteAddress}. */
  readonly trustedHops: number;
}

/** Largest `trustedHops` accepted; longer trusted proxy chains are not plausible. */
export const MAX_TRUSTED_HOPS = 10;

/**
 * Where the original client's address comes from, compiled. Forwarding
 * headers are written by whoever sends the request, so they are believed
 * only from a direct caller listed in `trustedCallers` (an edge proxy), and
 * then only as far as `trustedHops` reaches: each trusted proxy appends the
 * address it received the request from, so with N trusted hops the client
 * is the N-th entry from the right, and entries further left are whatever
 * the client chose to send (RFC 7239 §8.1). `trustedHops: 0` uses the edge's
 * own connection address. When the caller is not trusted, or the list is
 * shorter than N, there is no remote address and `remoteIpBlocks` never match.
 */
export class RemoteAddress {
  readonly #callers: PeerIdMatcher;
  readonly trustedHops: number;

  constructor(doc: RemoteAddressDocument) {
    this.#callers = new PeerIdMatcher(
      doc.trustedCallers.map((c): PeerIdPattern => (c.endsWith('/*') ? { idPrefix: c } : { id: c })),
    );
    this.trustedHops = doc.trustedHops;
  }

  /** True when the direct caller (ID string and trust domain name) may tell us the client's address. */
  trusts(id: string, trustDomain: string): boolean {
    return this.#callers.matchesParts(id, trustDomain);
  }
}
