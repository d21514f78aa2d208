import { isIP, type LookupFunction, type Socket } from 'node:net';
import type { Address } from '../core/index.ts';
import { quoteUntrusted, type IdMatcher } from '../spiffe/index.ts';
import type { OriginalDestination } from '../transparent/index.ts';
import type { CidrSet } from './cidr-set.ts';
import type { ClassificationObserver } from './classification-observer.ts';
import { isForbiddenDestination } from './dial-guard.ts';
import { OUTBOUND_ANSWERS, type OutboundAnswer, type OutboundAnswerReason } from './outbound-answer.ts';
import type { EgressRuleOptions } from './egress-policy.ts';
import { parseAuthority, type RouteTable } from './route-table.ts';
import type { OutboundTokenOptions } from './token-mode.ts';

/**
 * The networks transparent mode treats as the mesh by default: the private
 * ranges of RFC 1918 §3 and the IPv6 unique local addresses of RFC 4193,
 * where cluster pod and service networks live unless an operator chose
 * public space (docs/decisions/014-outbound-classification.md).
 */
export const DEFAULT_MESH_CIDRS: readonly string[] = Object.freeze(['10.0.0.0/8', '172.16.0.0/12', '192.168.0.0/16', 'fc00::/7']);

/** How long the outbound waits for an app's first bytes by default before taking the connection as opaque TCP. */
export const DEFAULT_DETECT_TIMEOUT_MS = 1_000;

/**
 * Transparent mode of the outbound proxy (docs/config.md,
 * "outbound.transparent"): with the pod's iptables redirect every
 * connection of the app arrives here, and a request for a host no upstream
 * routes is sent over mTLS to that host's own name and port.
 */
export interface TransparentOptions {
  /** What a server dialled by its Host name must present, unless a route pins it. */
  readonly server: IdMatcher;
  /** Host ports that may be dialled by name; undefined means any. */
  readonly ports?: readonly number[] | undefined;
  /** What the sidecars speak inside mTLS to such servers (HTTP/2 requests keep HTTP/2 either way). Default http1. */
  readonly protocol?: 'http1' | 'h2' | undefined;
  /**
   * Resolves the names dialled; default {@link guardedLookup}() (the system
   * resolver, refusing loopback, link-local, multicast and unspecified
   * addresses). Tests on loopback pass their own.
   */
  readonly lookup?: LookupFunction | undefined;
  /** Destinations (host:port) kept with open connection pools; the least recently used beyond it are closed. Default 256. */
  readonly maxDestinations?: number | undefined;
  /** Whether WebSockets may be opened to hosts dialled by name (a pinned route decides for its host). Default false. */
  readonly webSocket?: boolean | undefined;
  /** The app's credentials towards hosts dialled by name (a pinned route decides for its host). Default `none`: removed. */
  readonly token?: OutboundTokenOptions | undefined;
  /**
   * A redirected connection's original destination (sidecar/transparent's
   * `originalDestination`). With it every redirected connection is
   * classified (HTTP, TLS, opaque TCP; mesh or egress); without it every
   * connection is handled as HTTP by Host.
   */
  readonly originalDestination?: ((socket: Socket) => OriginalDestination | undefined) | undefined;
  /** The mesh: destinations that must be reached over mTLS. Default {@link DEFAULT_MESH_CIDRS}. */
  readonly meshCidrs?: readonly string[] | undefined;
  /** Original ports taken as opaque TCP without reading a byte. Default sidecar/transparent's DEFAULT_OPAQUE_PORTS. */
  readonly opaquePorts?: readonly number[] | undefined;
  /** The longest wait for the app's first bytes. Default {@link DEFAULT_DETECT_TIMEOUT_MS}. */
  readonly detectTimeoutMs?: number | undefined;
  /** The egress allow-list for destinations outside the mesh; none (deny all) when absent. */
  readonly egress?: readonly EgressRuleOptions[] | undefined;
  /** Counts classifications and egress decisions; nothing when absent. */
  readonly observer?: ClassificationObserver | undefined;
}

/** What the route table holds per configured upstream. */
export interface RouteTarget {
  /** The peer's inbound listener; null means "dial the request's own host and port" (transparent pins). */
  readonly address: Address | null;
}

/** Where one outbound request goes, or why it goes nowhere. */
export type OutboundRoute<T extends RouteTarget> =
  /** A configured upstream with its own address. */
  | { readonly kind: 'upstream'; readonly route: T }
  /** Transparent: dial the Host's name and port; `pin` is the upstream that fixed the identity, if any. */
  | { readonly kind: 'dial'; readonly host: string; readonly port: number; readonly pin: T | undefined }
  /** Answered by the sidecar itself: `answer` is the row of the outbound map, `message` its body for this request. */
  | { readonly kind: 'refuse'; readonly status: number; readonly reason: OutboundAnswerReason; readonly message: string; readonly answer: OutboundAnswer };

/** The HTTP default port: `Host: backend` means port 80 (RFC 9110 §4.2.1). */
export const DEFAULT_HTTP_PORT = 80;

const DNS_LABEL = /^[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?$/;

function isDnsName(host: string): boolean {
  const name = host.endsWith('.') ? host.slice(0, -1) : host;
  return name.length > 0 && name.length <= 253 && name.split('.').every((l) => DNS_LABEL.test(l));
}

/** A refusal: status and reason are the outbound map's (outbound-answer.ts), `message` names this request's host. */
function refuse(answer: OutboundAnswer, message: string): { kind: 'refuse'; status: number; reason: OutboundAnswerReason; message: string; answer: OutboundAnswer } {
  return { kind: 'refuse', status: answer.status, reason: answer.reason, message, answer };
}

/**
 * Decides where a request for `authority` (Host / :authority) goes. Pure.
 *
 * 1. A configured upstream wins; one without an address (a transparent
 *    pin) dials the request's own host with the upstream's identity.
 * 2. Without transparent mode nothing else is routed (404): the outbound
 *    listener must not become an open proxy.
 * 3. In transparent mode a DNS name is dialled at its Host port (80 when
 *    absent) if `ports` allows it. An IP literal, in any spelling the URL
 *    Standard reads as an address (`0x7f000001`, `10.5`), is dialled only
 *    inside `mesh` (the configured mesh networks, when the original
 *    destination is known), where the server must then present the
 *    transparent expectation (our own trust domain by default), exactly
 *    as an opaque TCP connection to that address would. Any other address
 *    is refused (403): it names no workload, so no server identity can be
 *    derived from it (SPIFFE X509-SVID §5: authorization of the server is
 *    the client's job, and it needs an expectation to check against).
 */
export function routeOutbound<T extends RouteTarget>(
  authority: string,
  routes: RouteTable<T>,
  transparent: TransparentOptions | undefined,
  mesh?: CidrSet | undefined,
): OutboundRoute<T> {
  const configured = routes.lookup(authority);
  if (configured !== undefined && configured.address !== null) return { kind: 'upstream', route: configured };
  const shown = authority === '' ? 'no Host header' : `host ${quoteUntrusted(authority, 100)}`;
  if (transparent === undefined) return refuse(OUTBOUND_ANSWERS.unknown_host, `${shown}: ${OUTBOUND_ANSWERS.unknown_host.body}`);
  const a = parseAuthority(authority);
  if (a === undefined) {
    return authority === ''
      ? refuse(OUTBOUND_ANSWERS.no_host, OUTBOUND_ANSWERS.no_host.body)
      : refuse(OUTBOUND_ANSWERS.bad_host, `${shown}: ${OUTBOUND_ANSWERS.bad_host.body}`);
  }
  // parseAuthority made every IP spelling canonical (core/address.ts), so
  // `2130706433` or `10.5` are refused here like 127.0.0.1 and 10.0.0.5.
  if (configured === undefined && isIP(a.host) !== 0 && !(mesh?.has(a.host) === true && !isForbiddenDestination(a.host))) {
    return refuse(
      OUTBOUND_ANSWERS.ip_literal,
      `${shown}: ${OUTBOUND_ANSWERS.ip_literal.body} (the host is ${a.host}); call the service by name or configure an upstream for this address`,
    );
  }
  if (configured === undefined && isIP(a.host) === 0 && !isDnsName(a.host)) return refuse(OUTBOUND_ANSWERS.bad_host, `${shown}: not a DNS name`);
  const port = a.port ?? DEFAULT_HTTP_PORT;
  if (transparent.ports !== undefined && !transparent.ports.includes(port)) {
    return refuse(OUTBOUND_ANSWERS.port_not_allowed, `${shown}: port ${port} is not forwarded by this sidecar (outbound.transparent.ports)`);
  }
  return { kind: 'dial', host: a.host, port, pin: configured };
}
