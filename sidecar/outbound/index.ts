/**
 * outbound: the app-facing side of the sidecar. A plaintext loopback
 * listener (HTTP/1.1 and h2c, or raw TCP tunnels) that routes only to
 * configured upstreams and originates SPIFFE mTLS to the peer sidecar with
 * our current SVID, verifying the server's ID against what the route expects.
 *
 * Must not forward to destinations nobody configured (no open proxy, no
 * absolute-form targets, no CONNECT) and must not let the app choose or
 * forge identity headers.
 */
export { createOutbound } from './outbound-proxy.ts';
export type { OutboundOptions, OutboundUpstreamOptions } from './outbound-proxy.ts';
export { createTcpOutbound } from './tcp-outbound.ts';
export type { TcpOutboundOptions } from './tcp-outbound.ts';
export { RouteTable, parseAuthority } from './route-table.ts';
export type { Authority, RouteEntry } from './route-table.ts';
