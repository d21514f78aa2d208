import type { SpiffeId } from '../spiffe/index.ts';

/**
 * The verified end user, as policy sees it. Structurally a subset of
 * `VerifiedToken` (sidecar/auth/verified-token.ts), so the enforcement
 * stage passes the token as is; policy never sees the token text.
 */
export interface PolicyPrincipal {
  /** `iss`. */
  readonly issuer: string;
  /** `sub`; '' when the token has none. */
  readonly subject: string;
  /** `client_id`, else `azp`; '' when absent. */
  readonly clientId: string;
  /** `scope` split on spaces (RFC 9068 §2.2.3). */
  readonly scopes: readonly string[];
  /** Every verified claim, deeply frozen. */
  readonly claims: Readonly<Record<string, unknown>>;
}

/** What `evaluate` looks at. Leave method, path and principal out for TCP connections. */
export interface PolicyRequest {
  /** The authenticated peer, from its X509-SVID. */
  readonly peerId: SpiffeId;
  /** The HTTP method as received (case-sensitive). */
  readonly method?: string | undefined;
  /** The raw request-target as received (`req.url` or `:path`); normalised by `evaluate`. */
  readonly path?: string | undefined;
  /** The end user of a verified token; absent when no token was presented. */
  readonly principal?: PolicyPrincipal | undefined;
  /** The direct peer's IP address as text (IPv4, IPv6, or IPv4-mapped IPv6 as Node reports it). */
  readonly peerAddress?: string | undefined;
  /**
   * Client addresses from `Forwarded` (RFC 7239 `for=`) or `X-Forwarded-For`,
   * in header order (leftmost = the original client as claimed). Only the
   * policy's `remoteAddress` settings decide how many of them to believe.
   */
  readonly forwardedFor?: readonly string[] | undefined;
}
