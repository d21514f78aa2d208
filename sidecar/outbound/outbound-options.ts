import type { Address } from '../core/index.ts';
import type { JwtSvidTokens, TokenExchanger } from '../exchange/index.ts';
import type { ProxyListenerOptions } from '../forward/index.ts';
import type { IdMatcher } from '../spiffe/index.ts';
import type { X509SvidSource } from '../svid/index.ts';
import type { X509BundleSetProvider } from '../tls/index.ts';
import type { OutboundTokenOptions, OutboundTokenServices } from './token-mode.ts';
import type { TransparentOptions } from './transparent-route.ts';

/** One destination the app may call through the outbound listener. */
export interface OutboundUpstreamOptions {
  /** The host the app addresses (Host / :authority), e.g. `backend` or `backend:8080`. */
  readonly host: string;
  /** Only this port matches when set; default: taken from `host` if it has one, else any port. */
  readonly port?: number | null;
  /**
   * The peer sidecar's inbound listener. null (transparent mode only): dial
   * the request's own host and port; the upstream then only pins the server
   * identity and protocol for that host.
   */
  readonly address: Address | null;
  /** Which server SPIFFE IDs are acceptable; anything else is 502 with both IDs named. */
  readonly server: IdMatcher;
  /**
   * What the sidecars speak inside mTLS. 'http1': HTTP/1.1 requests use a
   * keep-alive pool and HTTP/2 requests (gRPC) keep HTTP/2; 'h2': every
   * request but upgrades goes over one multiplexed HTTP/2 session.
   */
  readonly protocol: 'http1' | 'h2';
  /**
   * Whether the app may open WebSockets to this host. Default false: an
   * upgraded connection is an uninspected byte tunnel for its whole life,
   * so it is opt-in per route (docs/security.md).
   */
  readonly webSocket?: boolean | undefined;
  /** What happens to the app's credentials on the way to this upstream (token-mode.ts); default `none`: removed. */
  readonly token?: OutboundTokenOptions | undefined;
}

/**
 * Options of createOutbound (outbound-proxy.ts). `listen` is the local
 * listener the app sends plain HTTP/1.1 or h2c to (keep it on loopback).
 * Without `credentials` (library use) one SecureContextStore is built from
 * the two sources, which the outbound therefore requires.
 */
export interface OutboundOptions extends ProxyListenerOptions {
  readonly upstreams: readonly OutboundUpstreamOptions[];
  /** Our SVID, presented to peers; read for every new connection. */
  readonly svidSource: X509SvidSource;
  /** Every trust domain whose servers we accept. */
  readonly bundleSource: X509BundleSetProvider;
  /**
   * Transparent mode (for pods whose traffic iptables redirects here): a
   * request for a host no upstream routes is dialled at that host's own
   * name and port. Off when absent: only configured upstreams are reachable.
   */
  readonly transparent?: TransparentOptions | undefined;
  /** RFC 8693 client for upstreams in `exchange` mode. */
  readonly exchanger?: TokenExchanger | undefined;
  /** This workload's JWT-SVIDs, for upstreams in `jwt-svid` mode. */
  readonly jwtSvids?: JwtSvidTokens | undefined;
  /** Further headers that carry tokens (besides `Authorization`), removed unless an upstream forwards credentials. */
  readonly credentialHeaders?: readonly string[] | undefined;
  /** Cookies that carry tokens, removed likewise. */
  readonly credentialCookies?: readonly string[] | undefined;
  /** The context handles the inbound side of this process issued; the exchange and txn modes resolve them (token-mode.ts). */
  readonly contextHandles?: OutboundTokenServices['contextHandles'];
}
