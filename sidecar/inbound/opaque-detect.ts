import type { Socket } from 'node:net';
import type { TLSSocket } from 'node:tls';
import { describeError, formatAddress, type Clock, type Logger } from '../core/index.ts';
import { TcpDialer, type TunnelSet } from '../forward/index.ts';
import type { ProxyMetrics } from '../metrics/index.ts';
import type { Decision } from '../policy/index.ts';
import type { SpiffeId } from '../spiffe/index.ts';
import type { PeerIdentity } from '../tls/index.ts';
import { DEFAULT_OPAQUE_PORTS, OPAQUE_TCP_ALPN, classifyFirstBytes, readFirstBytes, startsLikeH2Preface, type FirstBytesClass } from '../transparent/index.ts';
import { acceptTunnel, type TunnelEnd } from './tcp-inbound.ts';

/** Options of {@link OpaqueInbound}. */
export interface OpaqueInboundOptions {
  /** The port the caller originally dialled, or undefined when the connection was not redirected. */
  readonly originalPort: (socket: Socket) => number | undefined;
  /** The app's host; a stream goes to this host at its original port. */
  readonly appHost: string;
  /** `inbound.opaquePorts`: joined without reading a byte (besides sidecar/transparent's DEFAULT_OPAQUE_PORTS). */
  readonly opaquePorts: readonly number[];
  /** The sidecar's own listener ports: never dialled on a caller's behalf. */
  readonly reservedPorts: readonly number[];
  /** The connection check (the enforcement stage's decideConnection). */
  readonly authorizeCaller: (peerId: SpiffeId, peerAddress: string | undefined) => Decision;
  readonly connectTimeoutMs: number;
  /** The longest wait for the caller's first bytes on a port not known to be opaque (limits.headersTimeoutMs). */
  readonly firstBytesTimeoutMs: number;
  readonly tunnels: TunnelSet;
  readonly metrics: ProxyMetrics;
  readonly logger: Logger;
  readonly clock: Clock;
  /** Distinct ports with a tunnel end kept (default 256); further ports get a fresh one per connection. */
  readonly maxPorts?: number;
}

/** The ALPN protocols the inbound offers: the HTTP ones, and with transparent inbound the opaque TCP signal. */
export function inboundAlpn(transparent: boolean): string[] {
  return transparent ? ['h2', 'http/1.1', OPAQUE_TCP_ALPN] : ['h2', 'http/1.1'];
}

/** The longest run of leading bytes that may still turn out to be a request line (a method token). */
const MAX_UNDECIDED_BYTES = 4096;

/**
 * Opaque TCP streams on a transparent inbound: connections whose client
 * (a peer sidecar's outbound) negotiated ALPN `spiffe-sidecar-opaque/1`
 * (docs/decisions/014-outbound-classification.md). Each goes to the app
 * host at the port the caller originally dialled, as raw TCP after the
 * policy's connection check, where a rule with methods, paths or token
 * conditions never matches.
 *
 * The signal is the caller's claim, so it must not let a caller skip the
 * HTTP enforcement of an HTTP port (per-request policy, identity headers
 * set by this sidecar and never by the caller). Hence:
 * - ports in `opaquePorts` or sidecar/transparent's DEFAULT_OPAQUE_PORTS
 *   are joined at once (server-first protocols need that);
 * - on any other port the caller's first bytes decide: an HTTP request
 *   line is served as HTTP, exactly as if ALPN http/1.1 had been
 *   negotiated; other bytes (a PostgreSQL startup, a RESP array, a TLS
 *   ClientHello) make a tunnel; no byte within `firstBytesTimeoutMs`
 *   closes the connection (declare such server-first ports opaque);
 * - a connection that was not redirected, or to a sidecar port, is closed.
 */
export class OpaqueInbound {
  readonly #o: OpaqueInboundOptions;
  readonly #opaque: ReadonlySet<number>;
  readonly #reserved: ReadonlySet<number>;
  readonly #ends = new Map<number, TunnelEnd>();
  readonly #maxPorts: number;
  /** Streams handed back as HTTP: claims() is false for them, so the HTTP path can run. */
  readonly #http = new WeakSet<TLSSocket>();

  constructor(o: OpaqueInboundOptions) {
    this.#o = o;
    this.#opaque = new Set([...DEFAULT_OPAQUE_PORTS, ...o.opaquePorts]);
    this.#reserved = new Set(o.reservedPorts);
    this.#maxPorts = o.maxPorts ?? 256;
  }

  /** True for a verified connection that negotiated the opaque signal and is not being served as HTTP. */
  claims(socket: TLSSocket): boolean {
    return socket.alpnProtocol === OPAQUE_TCP_ALPN && !this.#http.has(socket);
  }

  /**
   * Takes over a claimed connection: a tunnel, `serveHttp` (the inbound's
   * HTTP path, called again with the socket paused and its first bytes
   * pushed back), or a close.
   */
  accept(socket: TLSSocket, peer: PeerIdentity, serveHttp: (socket: TLSSocket, peer: PeerIdentity) => void): void {
    const o = this.#o;
    const peerId = peer.id.toString();
    let port: number | undefined;
    try {
      port = o.originalPort(socket);
    } catch (err) {
      o.logger.warn({ peer_id: peerId, err: describeError(err) }, 'opaque stream refused: original destination unavailable');
      socket.destroy();
      return;
    }
    if (port === undefined || this.#reserved.has(port)) {
      o.logger.warn(
        { peer_id: peerId, ...(port !== undefined ? { original_port: port } : {}), reason: port === undefined ? 'not_redirected' : 'sidecar_port' },
        'opaque stream refused',
      );
      socket.destroy();
      return;
    }
    if (this.#opaque.has(port)) return acceptTunnel(socket, peer, this.#end(port));
    const target = port;
    socket.pause();
    readFirstBytes<FirstBytesClass>(socket, { timeoutMs: o.firstBytesTimeoutMs, maxBytes: MAX_UNDECIDED_BYTES, clock: o.clock }, classifyFirstBytes, (end, bytes) => {
      if (end.kind === 'closed') return;
      if (end.kind === 'decided' && end.value !== 'http') return acceptTunnel(socket, peer, this.#end(target));
      if (end.kind === 'decided' && !startsLikeH2Preface(bytes)) {
        this.#http.add(socket);
        serveHttp(socket, peer);
        socket.resume();
        return;
      }
      // No peer sidecar sends these as an opaque stream: silence (a server-first protocol on an undeclared port), an endless token, or HTTP/2.
      o.logger.info(
        { peer_id: peerId, original_port: target, reason: end.kind === 'decided' ? 'h2_preface' : end.kind },
        'opaque stream refused: declare server-first ports in inbound.opaquePorts',
      );
      socket.destroy();
    });
  }

  #end(port: number): TunnelEnd {
    const known = this.#ends.get(port);
    if (known !== undefined) return known;
    const o = this.#o;
    const address = { host: o.appHost, port };
    const end: TunnelEnd = {
      authorizeCaller: o.authorizeCaller,
      dialer: new TcpDialer(address, o.connectTimeoutMs),
      tunnels: o.tunnels,
      metrics: o.metrics,
      logger: o.logger.child({ dst: formatAddress(address), opaque: true }),
    };
    if (this.#ends.size < this.#maxPorts) this.#ends.set(port, end);
    return end;
  }
}
