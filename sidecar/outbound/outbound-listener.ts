import net, { type LookupFunction, type Server, type Socket } from 'node:net';
import { formatAddress, type Clock, type Logger } from '../core/index.ts';
import { HttpFront, LOCAL_APP_CONN, TunnelSet, closeHttpListener, drainHttpListener, listenOn, sniffProtocol, stopListening, type ConnInfo, type ProxyListener } from '../forward/index.ts';
import type { SecureContextStore } from '../tls/index.ts';
import { DEFAULT_OPAQUE_PORTS, type OriginalDestination } from '../transparent/index.ts';
import { noopClassificationObserver } from './classification-observer.ts';
import { EgressDialer } from './egress-dialer.ts';
import { OpaqueDialers } from './opaque-dialers.ts';
import type { OutboundOptions } from './outbound-options.ts';
import { REDIRECTED_MESH_CONN, type OutboundRouter } from './outbound-router.ts';
import { RedirectedConnections } from './redirected-connections.ts';
import { DEFAULT_DETECT_TIMEOUT_MS, type TransparentOptions } from './transparent-route.ts';

/** What the listener is made with besides the options: the parts the wiring builds. */
export interface OutboundListenerParts {
  readonly router: OutboundRouter;
  readonly logger: Logger;
  readonly clock: Clock;
  /** The shared store when there is no credentials home. */
  readonly store: SecureContextStore | undefined;
  /** The dial guard's resolver; set in transparent mode. */
  readonly transparentLookup: LookupFunction | undefined;
  readonly maxDialled: number;
}

/**
 * The outbound's listener and its lifecycle: a plaintext socket for the
 * local app whose HTTP connections (HTTP/1.1 or h2c, sniffed) go to the
 * HttpFront, which routes each request with the OutboundRouter. With the
 * original destination known, every redirected connection is classified
 * first (RedirectedConnections) and opaque ones become tunnels.
 */
export class OutboundListener implements ProxyListener {
  readonly #o: OutboundOptions;
  readonly #router: OutboundRouter;
  readonly #logger: Logger;
  readonly #front: HttpFront;
  readonly #tunnels: TunnelSet;
  readonly #redirected: RedirectedConnections | undefined;
  readonly #server: Server;

  constructor(o: OutboundOptions, parts: OutboundListenerParts) {
    this.#o = o;
    this.#router = parts.router;
    this.#logger = parts.logger;
    this.#tunnels = new TunnelSet(parts.clock);
    const t = o.transparent;
    this.#redirected = t?.originalDestination === undefined ? undefined : this.#classifier(t, t.originalDestination, parts);
    const router = parts.router;
    this.#front = new HttpFront({
      direction: 'outbound',
      limits: o.limits,
      metrics: o.metrics,
      logger: parts.logger,
      accessLog: o.accessLog ?? false,
      clock: parts.clock,
      route: (ex) => router.route(ex),
      tracer: o.tracer,
      audit: o.audit,
    });
    this.#server = this.#createServer();
  }

  async start(): Promise<{ port: number }> {
    const o = this.#o;
    const r = await listenOn(this.#server, o.listen);
    const classify = this.#redirected !== undefined ? { mesh_cidrs: this.#router.mesh!.cidrs, classify: true } : {};
    const listen = formatAddress({ host: o.listen.host, port: r.port });
    this.#logger.info({ listen, upstreams: this.#router.routeNames, transparent: o.transparent !== undefined, ...classify }, 'outbound listening');
    return r;
  }

  stopAccepting(): Promise<void> {
    return stopListening(this.#server);
  }

  drain(deadlineMs: number): Promise<{ abandoned: number }> {
    return drainHttpListener({ server: this.#server, front: this.#front, tunnels: this.#tunnels }, this.#router, deadlineMs);
  }

  activeRequests(): number {
    return this.#front.activeRequests() + this.#tunnels.size;
  }

  close(): void {
    closeHttpListener({ server: this.#server, front: this.#front, tunnels: this.#tunnels }, this.#router);
  }

  #createServer(): Server {
    const max = this.#o.limits.maxConnections;
    const server = net.createServer({ noDelay: true });
    server.maxConnections = max;
    server.on('drop', () => this.#logger.warn({ max_connections: max }, 'connection refused: listener at maxConnections'));
    server.on('connection', (socket) => {
      socket.on('error', noop);
      if (this.#redirected !== undefined) this.#redirected.accept(socket);
      else this.#acceptExplicit(socket);
    });
    return server;
  }

  /** Hands an HTTP connection (paused, its first bytes pushed back) to the front. */
  #acceptHttp(socket: Socket, h2: boolean, conn: ConnInfo): void {
    if (h2) {
      this.#front.acceptH2(socket, conn);
    } else {
      this.#front.acceptH1(socket, conn);
      // The sniffer paused the socket; node:http reads the pushed-back bytes once it flows.
      socket.resume();
    }
  }

  /** A connection the app made to this listener itself: HTTP by Host, as without interception. */
  #acceptExplicit(socket: Socket): void {
    sniffProtocol(socket, this.#o.limits.headersTimeoutMs, (protocol) => this.#acceptHttp(socket, protocol === 'h2', LOCAL_APP_CONN));
  }

  /** Classification of redirected connections (docs/decisions/014-outbound-classification.md). */
  #classifier(t: TransparentOptions, originalDestination: (socket: Socket) => OriginalDestination | undefined, parts: OutboundListenerParts): RedirectedConnections {
    const o = this.#o;
    const router = parts.router;
    const lookup = parts.transparentLookup!;
    const opaque = new OpaqueDialers({
      routes: router.routes,
      server: t.server,
      max: parts.maxDialled,
      svidSource: o.svidSource,
      bundleSource: o.bundleSource,
      credentials: o.credentials,
      store: parts.store,
      connectTimeoutMs: o.limits.connectTimeoutMs,
      metrics: o.metrics,
      clock: parts.clock,
    });
    return new RedirectedConnections({
      originalDestination,
      mesh: router.mesh!,
      opaquePorts: new Set(t.opaquePorts ?? DEFAULT_OPAQUE_PORTS),
      detectTimeoutMs: t.detectTimeoutMs ?? DEFAULT_DETECT_TIMEOUT_MS,
      egress: router.egress,
      explicit: (socket) => this.#acceptExplicit(socket),
      http: (socket, h2, egress) => this.#acceptHttp(socket, h2, egress === undefined ? REDIRECTED_MESH_CONN : router.egressConn(egress)),
      meshDialer: (dst) => opaque.get(dst),
      egressDialer: (host, port) => new EgressDialer({ host, port }, o.limits.connectTimeoutMs, lookup),
      tunnels: this.#tunnels,
      observer: t.observer ?? noopClassificationObserver,
      logger: parts.logger,
      clock: parts.clock,
    });
  }
}

function noop(): void {}
