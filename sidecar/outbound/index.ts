/**
 * outbound: the app-facing side of the sidecar. A plaintext loopback
 * listener (HTTP/1.1 and h2c, or raw TCP tunnels) that routes to configured
 * upstreams (and, in transparent mode, to the host a request names) and
 * originates SPIFFE mTLS to the peer sidecar with our current SVID,
 * verifying the server's ID against what the route expects. Per upstream
 * the app's credentials are removed (the default), forwarded, replaced by
 * our JWT-SVID, or exchanged for a token made for that upstream (RFC 8693).
 * In transparent mode with the original destination known, every
 * redirected connection is classified (HTTP, TLS, opaque TCP; inside the
 * mesh or egress) and an egress allow-list gates destinations outside the
 * mesh (docs/decisions/014-outbound-classification.md).
 *
 * Must not forward to destinations nobody configured or named (no open
 * proxy: no absolute-form targets, no CONNECT, no IP-literal hosts outside
 * the mesh without a route, nothing outside the mesh the egress allow-list
 * does not name, never into the mesh without a verified SVID) and must not let the app choose
 * or forge identity headers, and must never send the app's token where the
 * upstream's token mode does not say `forward` (a failed exchange is an
 * answer to the app, not a fall-back).
 */
export { createOutbound } from './outbound-proxy.ts';
export type { OutboundOptions, OutboundUpstreamOptions } from './outbound-options.ts';
export { createTcpOutbound } from './tcp-outbound.ts';
export type { TcpOutboundOptions } from './tcp-outbound.ts';
export { RouteTable, parseAuthority } from './route-table.ts';
export type { RouteEntry } from './route-table.ts';
export { routeOutbound, DEFAULT_HTTP_PORT, DEFAULT_MESH_CIDRS, DEFAULT_DETECT_TIMEOUT_MS } from './transparent-route.ts';
export { EgressPolicy, EGRESS_REASONS } from './egress-policy.ts';
export type { EgressRuleOptions, EgressReason, EgressDecision } from './egress-policy.ts';
export type { ClassificationObserver } from './classification-observer.ts';
export type { StreamProtocol, Detection, Zone } from './connection-plan.ts';
export type { OutboundRoute, RouteTarget, TransparentOptions } from './transparent-route.ts';
export { guardedLookup, isForbiddenDestination } from './dial-guard.ts';
export { matchOwnTrustDomain } from './own-trust-domain.ts';
export { OutboundTokenStep, OUTBOUND_TOKEN_MODES, TXN_TOKEN_HEADER } from './token-mode.ts';
export type { OutboundTokenMode, OutboundTokenOptions, OutboundTokenServices } from './token-mode.ts';
export { OutboundCredentials, MULTIPLE_TOKENS } from './outbound-credentials.ts';
export { OUTBOUND_ANSWERS, OUTBOUND_ANSWER_REASONS } from './outbound-answer.ts';
export type { OutboundAnswer, OutboundAnswerReason } from './outbound-answer.ts';
