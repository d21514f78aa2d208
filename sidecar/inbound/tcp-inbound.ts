import type { TLSSocket } from 'node:tls';
import { formatAddress, silentLogger, systemClock, type Address, type Clock, type Logger, type ProxyLimits } from '../core/index.ts';
import type { ProxyMetrics } from '../metrics/index.ts';
import type { Decision } from '../policy/index.ts';
import type { SpiffeId } from '../spiffe/index.ts';
import type { X509SvidSource } from '../svid/index.ts';
import type { Credentials, PeerIdentity, X509BundleSetProvider } from '../tls/index.ts';
import { TcpDialer, TunnelSet, joinTunnel, tunnelListener, type ProxyListener } from '../forward/index.ts';
import { createMtlsListener } from './mtls-listener.ts';

/** Options of {@link createTcpInbound}. */
export interface TcpInboundOptions {
  /** Where peer sidecars connect with mTLS. */
  readonly listen: Address;
  /** The local TCP service the tunnel ends at. */
  readonly target: Address;
  /** The process's credentials home; without it the two sources are re-read per connection. */
  readonly credentials?: Credentials | undefined;
  readonly svidSource?: X509SvidSource | undefined;
  readonly bundleSource?: X509BundleSetProvider | undefined;
  /** Decides per connection on the verified caller (e.g. `evaluate(policy, { peerId })`). */
  readonly authorizeCaller: (peerId: SpiffeId, peerAddress: string | undefined) => Decision;
  readonly metrics: ProxyMetrics;
  readonly limits: ProxyLimits;
  readonly logger?: Logger;
  readonly clock?: Clock;
}

/** What {@link acceptTunnel} needs: the connection check, where to go, and the bookkeeping. */
export interface TunnelEnd {
  readonly authorizeCaller: (peerId: SpiffeId, peerAddress: string | undefined) => Decision;
  readonly dialer: TcpDialer;
  readonly tunnels: TunnelSet;
  readonly metrics: ProxyMetrics;
  readonly logger: Logger;
}

/**
 * Ends one verified mTLS connection in a raw TCP tunnel: when
 * `authorizeCaller` allows the peer, its bytes are joined to a new
 * connection from `dialer` (joinTunnel); otherwise it is disconnected at
 * once, before any of its bytes reach the target. Used by TCP tunnels and
 * by the HTTP inbound for opaque ports.
 */
export function acceptTunnel(socket: TLSSocket, peer: PeerIdentity, t: TunnelEnd): void {
  const peerId = peer.id.toString();
  const d = t.authorizeCaller(peer.id, socket.remoteAddress);
  if (!d.allow) {
    t.metrics.authzDecision('deny', peerId);
    t.logger.info({ peer_id: peerId, decision: 'deny', reason: d.reason, detail: d.detail }, 'tunnel denied');
    socket.destroy();
    return;
  }
  t.metrics.authzDecision('allow', peerId);
  t.metrics.connectionOpened('inbound');
  socket.once('close', () => t.metrics.connectionClosed('inbound'));
  socket.pause();
  joinTunnel(socket, t.dialer, { tunnels: t.tunnels, logger: t.logger, fields: { peer_id: peerId, decision: 'allow' }, failure: 'tunnel target unreachable' });
}

/**
 * A raw mTLS tunnel, inbound: verified callers that `authorizeCaller`
 * allows are joined byte for byte to `target`; others are disconnected
 * right after the handshake, before any of their bytes reach the target.
 */
export function createTcpInbound(o: TcpInboundOptions): ProxyListener {
  const logger = (o.logger ?? silentLogger).child({ component: 'tcp-inbound', dst: formatAddress(o.target) });
  const clock = o.clock ?? systemClock;
  const tunnels = new TunnelSet(clock);
  const end: TunnelEnd = { authorizeCaller: o.authorizeCaller, dialer: new TcpDialer(o.target, o.limits.connectTimeoutMs), tunnels, metrics: o.metrics, logger };
  const onPeer = (socket: TLSSocket, peer: PeerIdentity): void => acceptTunnel(socket, peer, end);

  const server = createMtlsListener({ credentials: o.credentials, svidSource: o.svidSource, bundleSource: o.bundleSource, limits: o.limits, metrics: o.metrics, logger, clock, onPeer });

  return tunnelListener(server, tunnels, o.listen, logger, 'tcp inbound');
}
