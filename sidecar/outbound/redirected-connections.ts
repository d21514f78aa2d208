import type { Socket } from 'node:net';
import { describeError, formatAddress, type Clock, type Logger } from '../core/index.ts';
import { joinTunnel, type Dialer, type TunnelSet } from '../forward/index.ts';
import { classifyFirstBytes, readFirstBytes, startsLikeH2Preface, type FirstBytesEnd, type OriginalDestination } from '../transparent/index.ts';
import type { CidrSet } from './cidr-set.ts';
import type { ClassificationObserver } from './classification-observer.ts';
import { MAX_FIRST_RECORD_BYTES, clientHelloServerName, firstRecordComplete, type ClientHelloServerName } from './client-hello.ts';
import { planConnection, type Detection, type StreamProtocol, type Zone } from './connection-plan.ts';
import { isForbiddenDestination } from './dial-guard.ts';
import type { EgressPolicy } from './egress-policy.ts';

/** Options of {@link RedirectedConnections}. */
export interface RedirectedConnectionsOptions {
  /** The connection's destination before the redirect; undefined when it was not redirected. */
  readonly originalDestination: (socket: Socket) => OriginalDestination | undefined;
  readonly mesh: CidrSet;
  readonly opaquePorts: ReadonlySet<number>;
  /** The longest wait for the app's first bytes before the connection counts as opaque TCP. */
  readonly detectTimeoutMs: number;
  readonly egress: EgressPolicy;
  /** Today's handling of a connection that was not redirected (HTTP by Host). */
  readonly explicit: (socket: Socket) => void;
  /** Hands an HTTP connection to the HTTP front; `dst` is set for one headed outside the mesh. */
  readonly http: (socket: Socket, h2: boolean, egress: OriginalDestination | undefined) => void;
  /** The mTLS dialer (ALPN opaque TCP) for a mesh destination, pins applied. */
  readonly meshDialer: (dst: OriginalDestination) => Dialer;
  /** The plain TCP dialer for an allowed egress destination. */
  readonly egressDialer: (host: string, port: number) => Dialer;
  readonly tunnels: TunnelSet;
  readonly observer: ClassificationObserver;
  readonly logger: Logger;
  readonly clock: Clock;
}

/** What the first bytes say, with the ClientHello read for TLS. */
interface Sniffed {
  readonly protocol: StreamProtocol;
  readonly h2: boolean;
}

const HTTP1: Sniffed = Object.freeze({ protocol: 'http', h2: false });
const HTTP2: Sniffed = Object.freeze({ protocol: 'http', h2: true });
const TLS: Sniffed = Object.freeze({ protocol: 'tls', h2: false });
const TCP: Sniffed = Object.freeze({ protocol: 'tcp', h2: false });

/**
 * Decides from the first bytes, reading a TLS stream on to the end of its
 * first record so the ClientHello (and its SNI) is whole.
 */
function sniff(bytes: Buffer): Sniffed | undefined {
  switch (classifyFirstBytes(bytes)) {
    case undefined:
      return undefined;
    case 'http':
      return startsLikeH2Preface(bytes) ? HTTP2 : HTTP1;
    case 'tls':
      return firstRecordComplete(bytes) ? TLS : undefined;
    case 'opaque':
      return TCP;
  }
}

/**
 * The classification of every connection that iptables redirected to the
 * outbound listener (docs/decisions/014-outbound-classification.md):
 *
 * 1. Not redirected: today's explicit handling.
 * 2. An original destination the guard forbids (loopback, link-local,
 *    multicast, unspecified): closed.
 * 3. The original port is opaque: TCP at once, no byte read.
 * 4. Otherwise the first bytes decide within `detectTimeoutMs`: an HTTP
 *    request line or the h2 preface, a TLS ClientHello, anything else; no
 *    byte in time (a server-first protocol) means opaque TCP.
 * 5. {@link planConnection} then decides by zone (meshCidrs) and, outside
 *    the mesh, by the egress allow-list.
 *
 * Nothing the app sent is forwarded before the destination is decided and
 * (in the mesh) the server's SVID verified.
 */
export class RedirectedConnections {
  readonly #o: RedirectedConnectionsOptions;
  readonly #maxSniffBytes: number;

  constructor(o: RedirectedConnectionsOptions) {
    this.#o = o;
    this.#maxSniffBytes = MAX_FIRST_RECORD_BYTES;
  }

  /** Takes over one accepted connection. */
  accept(socket: Socket): void {
    const o = this.#o;
    let dst: OriginalDestination | undefined;
    try {
      dst = o.originalDestination(socket);
    } catch (err) {
      // Today's handling is the narrower one: HTTP by Host over mTLS only.
      o.logger.warn({ err: describeError(err) }, 'original destination unavailable; handling the connection as not redirected');
      return o.explicit(socket);
    }
    if (dst === undefined) return o.explicit(socket);
    const zone: Zone = o.mesh.has(dst.address) ? 'mesh' : 'egress';
    if (isForbiddenDestination(dst.address)) {
      this.#egressDecided('deny', 'forbidden_address', 'tcp', formatAddress({ host: dst.address, port: dst.port }), undefined);
      socket.destroy();
      return;
    }
    if (o.opaquePorts.has(dst.port)) {
      socket.pause();
      return this.#dispatch(socket, dst, zone, TCP, 'port', EMPTY);
    }
    const target = dst;
    readFirstBytes(socket, { timeoutMs: o.detectTimeoutMs, maxBytes: this.#maxSniffBytes, clock: o.clock }, sniff, (end: FirstBytesEnd<Sniffed>, bytes: Buffer) => {
      switch (end.kind) {
        case 'closed':
          return;
        case 'decided':
          return this.#dispatch(socket, target, zone, end.value, 'bytes', bytes);
        case 'full':
          // A TLS record cannot be longer, so a full buffer is a run of token characters without a space: not HTTP.
          return this.#dispatch(socket, target, zone, classifyFirstBytes(bytes) === 'tls' ? TLS : TCP, 'bytes', bytes);
        case 'timeout':
          // A partial ClientHello stays TLS (its SNI is unknown); silence is a server-first protocol.
          return this.#dispatch(socket, target, zone, classifyFirstBytes(bytes) === 'tls' ? TLS : TCP, bytes.length === 0 ? 'timeout' : 'bytes', bytes);
      }
    });
  }

  #dispatch(socket: Socket, dst: OriginalDestination, zone: Zone, s: Sniffed, detection: Detection, bytes: Buffer): void {
    const o = this.#o;
    o.observer.classified(s.protocol, zone, detection);
    // Only the egress allow-list reads the SNI; inside the mesh the app's TLS is tunnelled whatever it names.
    const sni: ClientHelloServerName | undefined = s.protocol === 'tls' && zone === 'egress' ? clientHelloServerName(bytes) : undefined;
    const plan = planConnection(s.protocol, zone, dst.address, dst.port, sni, o.egress);
    const shown = formatAddress({ host: dst.address, port: dst.port });
    switch (plan.kind) {
      case 'http':
        return o.http(socket, s.h2, undefined);
      case 'http-egress':
        return o.http(socket, s.h2, dst);
      case 'mesh-tunnel':
        return this.#tunnel(socket, o.meshDialer(dst), shown, s.protocol);
      case 'egress-tunnel':
        this.#egressDecided('allow', plan.decision.reason, s.protocol, shown, sni);
        return this.#tunnel(socket, o.egressDialer(plan.host, dst.port), shown, s.protocol);
      case 'refuse':
        this.#egressDecided('deny', plan.decision.reason, s.protocol, shown, sni);
        socket.destroy();
        return;
    }
  }

  #egressDecided(decision: 'allow' | 'deny', reason: Parameters<ClassificationObserver['egressDecided']>[1], protocol: StreamProtocol, dst: string, sni: ClientHelloServerName | undefined): void {
    this.#o.observer.egressDecided(decision, reason, protocol);
    this.#o.logger.info(
      { decision, reason, protocol, dst, ...(sni?.kind === 'sni' ? { sni: sni.name } : {}) },
      decision === 'allow' ? 'egress allowed' : 'egress denied',
    );
  }

  /** Joins the app's connection (paused, its first bytes pushed back) to a new connection from `dialer`. */
  #tunnel(socket: Socket, dialer: Dialer, dst: string, protocol: StreamProtocol): void {
    joinTunnel(socket, dialer, { tunnels: this.#o.tunnels, logger: this.#o.logger, fields: { dst, protocol }, failure: 'tunnel to destination failed' });
  }
}

const EMPTY = Buffer.alloc(0);
