/**
 * inbound: the mTLS side of the sidecar. Accepts peer sidecars' mTLS
 * (SVID verified by sidecar/tls against own and federated bundles),
 * has each request or tunnel decided by the enforcement stage (token,
 * policy, identity headers), and forwards to the local app: by the port
 * the caller addressed, or in transparent mode by the connection's
 * original destination port (opaque ports as raw TCP).
 *
 * Must not originate connections to other workloads (that is outbound),
 * read identity from request headers, or hold policy state of its own: the
 * current policy comes from the caller on every request.
 */
export { createInbound } from './inbound-proxy.ts';
export type { InboundOptions, InboundAppPortOptions } from './inbound-options.ts';
export { AppSelector, authorityPort } from './app-ports.ts';
export { createTcpInbound } from './tcp-inbound.ts';
export type { TcpInboundOptions } from './tcp-inbound.ts';
export { createMtlsListener } from './mtls-listener.ts';
export type { MtlsListenerOptions } from './mtls-listener.ts';
