import type { Server } from 'node:net';
import type { TLSSocket } from 'node:tls';
import { describeError, formatAddress, type Clock, type Logger } from '../core/index.ts';
import { HttpFront, TunnelSet, closeHttpListener, drainHttpListener, listenOn, stopListening, type ConnInfo, type HttpListenerParts, type ListenerUpstreams, type ProxyListener, type UpstreamPool } from '../forward/index.ts';
import { callerIdentity } from '../headers/index.ts';
import type { PeerIdentity } from '../tls/index.ts';
import type { InboundOptions } from './inbound-options.ts';
import type { InboundRouter } from './inbound-router.ts';
import { createMtlsListener } from './mtls-listener.ts';
import { OpaqueInbound, inboundAlpn } from './opaque-detect.ts';
import { OriginalPortApps } from './original-port-apps.ts';
import { acceptTunnel } from './tcp-inbound.ts';

/**
 * The inbound's listener and its lifecycle: an mTLS socket for peer
 * sidecars (h2 and http/1.1 by ALPN) whose verified connections go to the
 * HttpFront, which routes each request with the InboundRouter. With
 * `originalPort` (transparent inbound), a connection's original port picks
 * its app or makes it a raw tunnel (OriginalPortApps), and opaque streams
 * from peer outbounds are joined to the app (OpaqueInbound).
 */
export class InboundListener implements ProxyListener {
  readonly #o: InboundOptions;
  readonly #router: InboundRouter;
  readonly #logger: Logger;
  readonly #tunnels: TunnelSet;
  readonly #originalPorts: OriginalPortApps | undefined;
  readonly #opaque: OpaqueInbound | undefined;
  readonly #front: HttpFront;
  readonly #server: Server;
  /** onPeer bound once, for the mTLS listener and the opaque detector. */
  readonly #onPeer = (socket: TLSSocket, peer: PeerIdentity): void => this.#acceptPeer(socket, peer);

  constructor(o: InboundOptions, router: InboundRouter, logger: Logger, clock: Clock) {
    this.#o = o;
    this.#router = router;
    this.#logger = logger;
    this.#tunnels = new TunnelSet(clock);
    this.#originalPorts = o.originalPort === undefined ? undefined : this.#createOriginalPorts(o.originalPort);
    this.#opaque = o.originalPort === undefined ? undefined : this.#createOpaque(o.originalPort, clock);
    this.#front = new HttpFront({
      direction: 'inbound',
      stripRequestHeaders: o.stripRequestHeaders,
      limits: o.limits,
      metrics: o.metrics,
      logger,
      accessLog: o.accessLog ?? false,
      clock,
      route: (ex) => router.route(ex),
      tracer: o.tracer,
      audit: o.audit,
    });
    this.#server = createMtlsListener({
      credentials: o.credentials,
      svidSource: o.svidSource,
      bundleSource: o.bundleSource,
      alpn: inboundAlpn(o.originalPort !== undefined),
      limits: o.limits,
      metrics: o.metrics,
      logger,
      clock,
      onPeer: this.#onPeer,
    });
  }

  async start(): Promise<{ port: number }> {
    const o = this.#o;
    const r = await listenOn(this.#server, o.listen);
    const appPorts = o.appPorts?.length ? { app_ports: o.appPorts.map((a) => `${a.port}=${formatAddress(a.app)}/${a.appProtocol}`) } : {};
    const listen = formatAddress({ host: o.listen.host, port: r.port });
    this.#logger.info({ listen, app: formatAddress(o.app), app_protocol: o.appProtocol, ...appPorts }, 'inbound listening');
    return r;
  }

  stopAccepting(): Promise<void> {
    return stopListening(this.#server);
  }

  drain(deadlineMs: number): Promise<{ abandoned: number }> {
    return drainHttpListener(this.#parts(), this.#appPools, deadlineMs);
  }

  activeRequests(): number {
    return this.#front.activeRequests() + this.#tunnels.size;
  }

  close(): void {
    closeHttpListener(this.#parts(), this.#appPools);
  }

  #parts(): HttpListenerParts {
    return { server: this.#server, front: this.#front, tunnels: this.#tunnels };
  }

  /** Every app pool as one, for drain and close. */
  readonly #appPools: ListenerUpstreams = {
    close: async () => {
      await Promise.all(this.#apps().map((a) => a.close()));
    },
    destroy: () => {
      for (const a of this.#apps()) a.destroy();
    },
  };

  /** Every app pool: those chosen by Host and those made for original ports. */
  #apps(): UpstreamPool[] {
    return [...this.#router.upstreams(), ...(this.#originalPorts?.upstreams() ?? [])];
  }

  /** A verified peer: an opaque stream, a tunnel or refusal by original port, or HTTP to the front. */
  #acceptPeer(socket: TLSSocket, peer: PeerIdentity): void {
    if (this.#opaque?.claims(socket)) return this.#opaque.accept(socket, peer, this.#onPeer);
    const byOriginal = this.#originalPorts?.route(socket);
    if (byOriginal?.kind === 'refuse') {
      this.#logger.warn({ peer_id: peer.id.toString(), original_port: byOriginal.port, reason: byOriginal.reason }, 'redirected connection refused');
      socket.destroy();
      return;
    }
    if (byOriginal?.kind === 'opaque') return acceptTunnel(socket, peer, byOriginal.end);
    const conn = this.#connInfo(socket, peer);
    if (conn === undefined) return;
    if (byOriginal?.kind === 'http') this.#router.bindConnection(conn, byOriginal.upstream);
    socket.setNoDelay(true);
    const metrics = this.#o.metrics;
    metrics.connectionOpened('inbound');
    socket.once('close', () => metrics.connectionClosed('inbound'));
    if (socket.alpnProtocol === 'h2') this.#front.acceptH2(socket, conn);
    else this.#front.acceptH1(socket, conn);
  }

  /** The connection's caller identity; undefined (the socket closed) when it cannot be built. */
  #connInfo(socket: TLSSocket, peer: PeerIdentity): ConnInfo | undefined {
    try {
      const r = callerIdentity({ id: peer.id, leafSha256Hex: peer.leafSha256Hex }, this.#o.localId());
      if (!r.ok) throw r.error;
      return { peer: peer.id, peerId: peer.id.toString(), caller: r.identity, peerCertSha256Hex: peer.leafSha256Hex, peerAddress: socket.remoteAddress };
    } catch (err) {
      this.#logger.error({ peer_id: peer.id.toString(), err: describeError(err) }, 'cannot build caller identity; closing connection');
      socket.destroy();
      return undefined;
    }
  }

  /** Transparent inbound: the app of each connection, by its original port. */
  #createOriginalPorts(originalPort: NonNullable<InboundOptions['originalPort']>): OriginalPortApps {
    const o = this.#o;
    const router = this.#router;
    return new OriginalPortApps({
      originalPort,
      app: o.app,
      appProtocol: o.appProtocol,
      appPorts: router.byPort,
      defaultUpstream: router.defaultUpstream,
      opaquePorts: o.opaquePorts ?? [],
      reservedPorts: o.reservedPorts ?? [],
      upstreamFor: (address, protocol) => router.upstreamFor(address, protocol),
      authorizeCaller: (peerId, peerAddress) => router.decideConnection(peerId, peerAddress, 'opaque port'),
      connectTimeoutMs: o.limits.connectTimeoutMs,
      tunnels: this.#tunnels,
      metrics: o.metrics,
      logger: this.#logger,
    });
  }

  /** Opaque TCP streams from peer outbounds (ALPN spiffe-sidecar-opaque/1; docs/decisions/014-outbound-classification.md). */
  #createOpaque(originalPort: NonNullable<InboundOptions['originalPort']>, clock: Clock): OpaqueInbound {
    const o = this.#o;
    const router = this.#router;
    return new OpaqueInbound({
      originalPort,
      appHost: o.app.host,
      opaquePorts: o.opaquePorts ?? [],
      reservedPorts: o.reservedPorts ?? [],
      authorizeCaller: (peerId, peerAddress) => router.decideConnection(peerId, peerAddress, 'opaque stream'),
      connectTimeoutMs: o.limits.connectTimeoutMs,
      firstBytesTimeoutMs: o.limits.headersTimeoutMs,
      tunnels: this.#tunnels,
      metrics: o.metrics,
      logger: this.#logger,
      clock,
    });
  }
}
