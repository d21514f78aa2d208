/**
 * The peer's side of the transparent-outbound tests: an mTLS listener whose
 * opaque streams (ALPN spiffe-sidecar-opaque/1, sidecar/inbound/opaque-detect.ts)
 * go, after a connection check against `policy`, to the app on 127.0.0.1 at
 * the caller's original port. Other streams are closed.
 */
import type { Server, Socket } from 'node:net';
import type { TLSSocket } from 'node:tls';
import { systemClock, type Logger } from '../../sidecar/core/index.ts';
import { TunnelSet } from '../../sidecar/forward/index.ts';
import { createMtlsListener } from '../../sidecar/inbound/index.ts';
import { OpaqueInbound, inboundAlpn } from '../../sidecar/inbound/opaque-detect.ts';
import type { ProxyMetrics } from '../../sidecar/metrics/index.ts';
import { evaluate, type Policy } from '../../sidecar/policy/index.ts';
import { LIMITS, RecordingLogger, RecordingMetrics, type StaticSource } from './proxy-fixtures.ts';

/** Options of {@link opaqueListener}. */
export interface OpaqueListenerOptions {
  /** The peer's SVID and the bundles it verifies callers with. */
  readonly source: StaticSource;
  readonly policy: Policy;
  readonly originalPort: (socket: Socket) => number | undefined;
  readonly opaquePorts?: readonly number[];
  readonly reservedPorts?: readonly number[];
  /** Where the connection checks are counted. */
  readonly metrics?: ProxyMetrics;
  readonly logger?: Logger;
}

/** The listener (not yet listening) and how to stop its tunnels and close it. */
export function opaqueListener(o: OpaqueListenerOptions): { readonly server: Server; close(): void } {
  const logger = o.logger ?? new RecordingLogger();
  const tunnels = new TunnelSet(systemClock);
  const opaque = new OpaqueInbound({
    originalPort: o.originalPort,
    appHost: '127.0.0.1',
    opaquePorts: o.opaquePorts ?? [],
    reservedPorts: o.reservedPorts ?? [],
    authorizeCaller: (peerId, peerAddress) => evaluate(o.policy, { peerId, peerAddress }),
    connectTimeoutMs: 2000,
    firstBytesTimeoutMs: 2000,
    tunnels,
    metrics: o.metrics ?? new RecordingMetrics(),
    logger,
    clock: systemClock,
  });
  const server = createMtlsListener({
    svidSource: o.source,
    bundleSource: o.source,
    alpn: inboundAlpn(true),
    limits: LIMITS,
    metrics: new RecordingMetrics(),
    logger,
    clock: systemClock,
    onPeer: (s: TLSSocket, peer) => (opaque.claims(s) ? opaque.accept(s, peer, (h) => h.destroy()) : s.destroy()),
  });
  return {
    server,
    close: () => {
      tunnels.destroy();
      server.close();
    },
  };
}
