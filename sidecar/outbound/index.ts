/**
 * outbound: the app-facing side of the sidecar. A plaintext loopback
 * listener (HTTP/1.1 and h2c, or raw TCP tunnels) that routes to configured
 * upstreams (and, in transparent mode, to the host a request names) and
 * originates SPIFFE mTLS to the peer sidecar with our current SVID,
 * verifying the server's ID against what the route expects. Per upstream
 * the app's credentials are removed (the default), forwarded, replaced by
 * our JWT-SVID, or exchanged for a token made for that upstream (RFC 8693).
 *
 * Must not forward to destinations nobody configured or named (no open
 * proxy: no absolute-form targets, no CONNECT, no IP-literal hosts without
 * a route, never without a verified SVID) and must not let the app choose
 * or forge identity headers, and must never send the app's token where the
 * upstream's token mode does not say `forward` (a failed exchange is an
 * answer to the app, not a fall-back).
 */
export { createOutbound } from './outbound-proxy.ts';
export type { OutboundOptions, OutboundUpstreamOptions } from './outbound-proxy.ts';
export { createTcpOutbound } from './tcp-outbound.ts';
export type { TcpOutboundOptions } from './tcp-outbound.ts';
export { RouteTable, parseAuthority, canonicalHost } from './route-table.ts';
export type { Authority, RouteEntry } from './route-table.ts';
export { routeOutbound, DEFAULT_HTTP_PORT } from './transparent-route.ts';
export type { OutboundRoute, RouteTarget, TransparentOptions } from './transparent-route.ts';
export { guardedLookup, isForbiddenDestination } from './dial-guard.ts';
export { matchOwnTrustDomain } from './own-trust-domain.ts';
export { OutboundTokenStep, OUTBOUND_TOKEN_MODES, TXN_TOKEN_HEADER } from './token-mode.ts';
export type { OutboundTokenMode, OutboundTokenOptions, OutboundTokenServices } from './token-mode.ts';
export { OutboundCredentials, MULTIPLE_TOKENS } from './outbound-credentials.ts';
export { OUTBOUND_ANSWERS, OUTBOUND_ANSWER_REASONS } from './outbound-answer.ts';
export type { OutboundAnswer, OutboundAnswerReason } from './outbound-answer.ts';
