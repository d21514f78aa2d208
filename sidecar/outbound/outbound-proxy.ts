import net, { type Socket } from 'node:net';
import { formatAddress, formatAuthority, silentLogger, systemClock, type Address, type Clock, type Logger, type ProxyLimits } from '../core/index.ts';
import type { IdentityHeaders } from '../headers/index.ts';
import type { ProxyMetrics } from '../metrics/index.ts';
import { quoteUntrusted, type IdMatcher } from '../spiffe/index.ts';
import type { X509SvidSource } from '../svid/index.ts';
import { SecureContextStore, type Credentials, type X509BundleSetProvider } from '../tls/index.ts';
import {
  H1Pool,
  H2Exchange,
  H2Upstream,
  HttpFront,
  LOCAL_APP_CONN,
  MtlsDialer,
  TunnelSet,
  listenOn,
  sniffProtocol,
  stopListening,
  type ConnInfo,
  type Exchange,
  type ProxyListener,
} from '../forward/index.ts';
import type { ExchangeTracer, RequestAuditSink } from '../forward/index.ts';
import type { LookupFunction } from 'node:net';
import { DEFAULT_OPAQUE_PORTS, type OriginalDestination } from '../transparent/index.ts';
import { CidrSet } from './cidr-set.ts';
import { noopClassificationObserver } from './classification-observer.ts';
import { guardedLookup } from './dial-guard.ts';
import { EgressDialer } from './egress-dialer.ts';
import { EgressHttp } from './egress-http.ts';
import { EgressPolicy } from './egress-policy.ts';
import { OpaqueDialers } from './opaque-dialers.ts';
import { RedirectedConnections } from './redirected-connections.ts';
import { RouteTable, parseAuthority } from './route-table.ts';
import { DEFAULT_DETECT_TIMEOUT_MS, DEFAULT_MESH_CIDRS, routeOutbound, type TransparentOptions } from './transparent-route.ts';
import type { JwtSvidTokens, TokenExchanger } from '../exchange/index.ts';
import { OUTBOUND_ANSWERS, type OutboundAnswer } from './outbound-answer.ts';
import { OutboundCredentials } from './outbound-credentials.ts';
import { OutboundTokenStep, type OutboundTokenOptions, type OutboundTokenServices } from './token-mode.ts';

/** One destination the app may call through the outbound listener. */
export interface OutboundUpstreamOptions {
  /** The host the app addresses (Host / :authority), e.g. `backend` or `backend:8080`. */
  readonly host: string;
  /** Only this port matches when set; default: taken from `host` if it has one, else any port. */
  readonly port?: number | null;
  /**
   * The peer sidecar's inbound listener. null (transparent mode only): dial
   * the request's own host and port; the upstream then only pins the server
   * identity and protocol for that host.
   */
  readonly address: Address | null;
  /** Which server SPIFFE IDs are acceptable; anything else is 502 with both IDs named. */
  readonly server: IdMatcher;
  /**
   * What the sidecars speak inside mTLS. 'http1': HTTP/1.1 requests use a
   * keep-alive pool and HTTP/2 requests (gRPC) keep HTTP/2; 'h2': every
   * request but upgrades goes over one multiplexed HTTP/2 session.
   */
  readonly protocol: 'http1' | 'h2';
  /**
   * Whether the app may open WebSockets to this host. Default false: an
   * upgraded connection is an uninspected byte tunnel for its whole life,
   * so it is opt-in per route (docs/security.md).
   */
  readonly webSocket?: boolean | undefined;
  /** What happens to the app's credentials on the way to this upstream (token-mode.ts); default `none`: removed. */
  readonly token?: OutboundTokenOptions | undefined;
}

/** Options of {@link createOutbound}. */
export interface OutboundOptions {
  /** The local listener the app sends plain HTTP/1.1 or h2c to (keep it on loopback). */
  readonly listen: Address;
  readonly upstreams: readonly OutboundUpstreamOptions[];
  /** Our SVID, presented to peers; read for every new connection. */
  readonly svidSource: X509SvidSource;
  readonly bundleSource: X509BundleSetProvider;
  /**
   * The sidecar's credentials home (sidecar/tls/credentials.ts): every dialer
   * presents its SVID and retires on its change event. Without it (library
   * use) one store is built here from the two sources above.
   */
  readonly credentials?: Credentials | undefined;
  readonly headers: IdentityHeaders;
  readonly metrics: ProxyMetrics;
  readonly limits: ProxyLimits;
  readonly logger?: Logger;
  readonly accessLog?: boolean;
  /** A span per request (sidecar/tracing); absent or null when tracing is off. */
  readonly tracer?: ExchangeTracer | null | undefined;
  /** Where each decision's audit line goes (docs/audit-log.md); none when absent. */
  readonly audit?: RequestAuditSink | null | undefined;
  readonly clock?: Clock;
  /**
   * Transparent mode (for pods whose traffic iptables redirects here): a
   * request for a host no upstream routes is dialled at that host's own
   * name and port. Off when absent: only configured upstreams are reachable.
   */
  readonly transparent?: TransparentOptions | undefined;
  /** RFC 8693 client for upstreams in `exchange` mode. */
  readonly exchanger?: TokenExchanger | undefined;
  /** This workload's JWT-SVIDs, for upstreams in `jwt-svid` mode. */
  readonly jwtSvids?: JwtSvidTokens | undefined;
  /** Further headers that carry tokens (besides `Authorization`), removed unless an upstream forwards credentials. */
  readonly credentialHeaders?: readonly string[] | undefined;
  /** Cookies that carry tokens, removed likewise. */
  readonly credentialCookies?: readonly string[] | undefined;
  /** The context handles the inbound side of this process issued; the exchange and txn modes resolve them (token-mode.ts). */
  readonly contextHandles?: OutboundTokenServices['contextHandles'];
}

/** A configured upstream in the route table; `dest` is null for a transparent pin (no address). */
interface ConfiguredRoute {
  readonly address: Address | null;
  readonly server: IdMatcher;
  readonly protocol: 'http1' | 'h2';
  readonly webSocket: boolean;
  readonly dest: Destination | null;
  readonly token: OutboundTokenStep;
}

const DEFAULT_MAX_DESTINATIONS = 256;

/** The connections to one upstream (configured, or a host dialled by name). */
interface Destination {
  readonly name: string;
  readonly protocol: 'http1' | 'h2';
  readonly h1: H1Pool;
  readonly h2: H2Upstream;
}

/**
 * The connection info of the app's redirected HTTP connections to a mesh
 * address (transparent capture). Same values as LOCAL_APP_CONN; a separate
 * object so routing can tell that the kernel saw a mesh destination.
 */
const REDIRECTED_MESH_CONN: ConnInfo = Object.freeze({ peer: undefined, peerId: '', caller: undefined });

/**
 * The outbound HTTP proxy: a plaintext listener for the local app
 * (HTTP/1.1 and h2c with prior knowledge on the same port) that routes by
 * Host / :authority to configured upstreams only, strips identity headers
 * the app sent, and forwards over SPIFFE mTLS with the current SVID,
 * verifying the server against the upstream's IdMatcher.
 *
 * Unknown host → 404 naming it; absolute-form targets → 400 and CONNECT →
 * 405 (never an open proxy); identity mismatch → 502 naming both IDs; peer
 * unreachable → 503; timeout → 504.
 *
 * With `transparent`, a host no upstream routes is dialled by its own name
 * and port instead (see routeOutbound for what is refused), through a
 * bounded set of per-destination pools. With `transparent.originalDestination`
 * as well, every redirected connection is classified first
 * (RedirectedConnections): HTTP as above, opaque TCP and the app's TLS
 * into the mesh over mTLS, and destinations outside the mesh through the
 * egress allow-list (docs/decisions/014-outbound-classification.md).
 */
export function createOutbound(o: OutboundOptions): ProxyListener {
  const logger = (o.logger ?? silentLogger).child({ component: 'outbound' });
  const clock = o.clock ?? systemClock;
  const l = o.limits;
  // Without a credentials home, one store for every upstream: a rotation
  // rebuilds one context, and every pool sees the new generation at once.
  const credentials = o.credentials;
  const store = credentials === undefined ? new SecureContextStore({ svidSource: o.svidSource, bundleSource: o.bundleSource }) : undefined;
  const transparent = o.transparent;
  // Names dialled in transparent mode go through the guard; configured
  // addresses are the operator's choice and use the system resolver.
  const transparentLookup: LookupFunction | undefined = transparent ? (transparent.lookup ?? guardedLookup()) : undefined;
  const destination = (name: string, address: Address, server: IdMatcher, protocol: 'http1' | 'h2', lookup: LookupFunction | undefined): Destination => {
    const dial = (alpn: 'h2' | 'http/1.1'): MtlsDialer =>
      new MtlsDialer({
        address,
        server,
        svidSource: o.svidSource,
        bundleSource: o.bundleSource,
        credentials,
        store,
        alpn,
        connectTimeoutMs: l.connectTimeoutMs,
        metrics: o.metrics,
        clock,
        lookup,
      });
    return {
      name,
      protocol,
      h1: new H1Pool({
        dialer: dial('http/1.1'),
        dst: name,
        maxConnections: l.maxConnections,
        idleTimeoutMs: l.idleTimeoutMs,
        requestTimeoutMs: l.requestTimeoutMs,
        maxHeaderBytes: l.maxHeaderBytes,
      }),
      h2: new H2Upstream({ dialer: dial('h2'), scheme: 'https', dst: name, maxHeaderBytes: l.maxHeaderBytes, logger }),
    };
  };

  const tokenServices = {
    credentials: new OutboundCredentials(o.credentialHeaders, o.credentialCookies),
    exchanger: o.exchanger,
    jwtSvids: o.jwtSvids,
    contextHandles: o.contextHandles,
  };
  const transparentToken = transparent ? new OutboundTokenStep('transparent', transparent.token, tokenServices) : undefined;

  const destinations: Destination[] = [];
  const entries = o.upstreams.map((u) => {
    const parsed = u.port === undefined ? parseAuthority(u.host) : undefined;
    const host = parsed?.host ?? u.host.toLowerCase();
    const port = u.port !== undefined ? u.port : (parsed?.port ?? null);
    const name = formatAuthority({ host, port });
    if (u.address === null && transparent === undefined) {
      throw new TypeError(`outbound: upstream ${name} has no address, which only transparent mode allows`);
    }
    const dest = u.address === null ? null : destination(name, u.address, u.server, u.protocol, undefined);
    if (dest !== null) destinations.push(dest);
    const token = new OutboundTokenStep(name, u.token, tokenServices);
    const value: ConfiguredRoute = { address: u.address, server: u.server, protocol: u.protocol, webSocket: u.webSocket === true, dest, token };
    return { host, port, value };
  });
  const routes = new RouteTable(entries);
  const routeNames = entries.map(formatAuthority);

  // Transparent destinations by host:port, least recently used first. The
  // bound keeps an app that calls many names from holding a pool for each.
  const dialled = new Map<string, Destination>();
  const maxDialled = transparent?.maxDestinations ?? DEFAULT_MAX_DESTINATIONS;
  const dialledDestination = (t: TransparentOptions, host: string, port: number, pin: ConfiguredRoute | undefined): Destination => {
    const name = formatAddress({ host, port });
    const known = dialled.get(name);
    if (known !== undefined) {
      dialled.delete(name);
      dialled.set(name, known);
      return known;
    }
    const d = destination(name, { host, port }, pin?.server ?? t.server, pin?.protocol ?? t.protocol ?? 'http1', transparentLookup);
    dialled.set(name, d);
    if (dialled.size > maxDialled) {
      const [oldest, evicted] = dialled.entries().next().value as [string, Destination];
      dialled.delete(oldest);
      // Its in-flight requests finish; its idle connections close.
      Promise.all([evicted.h1.close(), evicted.h2.close()]).catch(noop);
    }
    return d;
  };

  // Classification of redirected connections (docs/decisions/014-outbound-classification.md).
  // Only with the original destination known: then an IP-literal Host inside the mesh is dialled too (routeOutbound).
  const mesh = transparent?.originalDestination !== undefined ? new CidrSet(transparent.meshCidrs ?? DEFAULT_MESH_CIDRS) : undefined;
  const tunnels = new TunnelSet(clock);
  /** The original destinations of HTTP connections headed outside the mesh, by their per-connection ConnInfo. */
  const egressConns = new WeakMap<ConnInfo, OriginalDestination>();
  const egress = new EgressPolicy(transparent?.egress ?? []);
  const egressHttp =
    transparent?.originalDestination === undefined
      ? undefined
      : new EgressHttp({
          policy: egress,
          lookup: transparentLookup!,
          limits: l,
          observer: transparent.observer ?? noopClassificationObserver,
          logger,
          maxDestinations: maxDialled,
          webSocket: transparent.webSocket === true,
        });
  const redirected =
    transparent?.originalDestination === undefined
      ? undefined
      : new RedirectedConnections({
          originalDestination: transparent.originalDestination,
          mesh: mesh!,
          opaquePorts: new Set(transparent.opaquePorts ?? DEFAULT_OPAQUE_PORTS),
          detectTimeoutMs: transparent.detectTimeoutMs ?? DEFAULT_DETECT_TIMEOUT_MS,
          egress,
          explicit: (socket) => acceptExplicit(socket),
          http: (socket, h2, egress) => acceptHttp(socket, h2, egress === undefined ? REDIRECTED_MESH_CONN : egressConn(egress)),
          meshDialer: (dst) => opaqueDialers!.get(dst),
          egressDialer: (host, port) => new EgressDialer({ host, port }, l.connectTimeoutMs, transparentLookup!),
          tunnels,
          observer: transparent.observer ?? noopClassificationObserver,
          logger,
          clock,
        });
  const opaqueDialers =
    transparent === undefined
      ? undefined
      : new OpaqueDialers({
          routes,
          server: transparent.server,
          max: maxDialled,
          svidSource: o.svidSource,
          bundleSource: o.bundleSource,
          credentials,
          store,
          connectTimeoutMs: l.connectTimeoutMs,
          metrics: o.metrics,
          clock,
        });
  const egressConn = (dst: OriginalDestination): ConnInfo => {
    // One object per egress connection, so each request finds its connection's destination.
    const conn: ConnInfo = { peer: undefined, peerId: '', caller: undefined };
    egressConns.set(conn, dst);
    return conn;
  };

  const route = (ex: Exchange): void => {
    if (ex.path.charCodeAt(0) !== 0x2f) {
      // Absolute-form (`GET http://elsewhere/`) is how an open forward proxy
      // is used; the app must address a configured host by Host instead.
      ex.answer(OUTBOUND_ANSWERS.absolute_form, `request target ${quoteUntrusted(ex.path, 100)} refused: only origin-form targets ("/path") are forwarded, this sidecar is not a forward proxy`);
      return;
    }
    if (ex.conn !== LOCAL_APP_CONN && ex.conn !== REDIRECTED_MESH_CONN) {
      const egress = egressConns.get(ex.conn);
      if (egress !== undefined) return egressHttp!.route(ex, egress);
    }
    // An IP-literal Host is dialled only when the kernel says the app
    // addressed a mesh IP (a redirected connection); on the explicit
    // listener an IP literal names no workload and stays refused.
    const r = routeOutbound(ex.authority, routes, transparent, ex.conn === REDIRECTED_MESH_CONN ? mesh : undefined);
    let d: Destination;
    let webSocket: boolean;
    let token: OutboundTokenStep;
    switch (r.kind) {
      case 'refuse':
        ex.answer(r.answer, r.message);
        return;
      case 'upstream':
        d = r.route.dest!;
        webSocket = r.route.webSocket;
        token = r.route.token;
        break;
      case 'dial':
        d = dialledDestination(transparent!, r.host, r.port, r.pin);
        webSocket = r.pin !== undefined ? r.pin.webSocket : transparent!.webSocket === true;
        token = r.pin !== undefined ? r.pin.token : transparentToken!;
        break;
    }
    if (ex.upgrade !== '' && !webSocket) {
      ex.answer(OUTBOUND_ANSWERS.upgrade_not_allowed, `WebSocket to ${d.name} is not permitted: the upstream does not set webSocket: true`);
      return;
    }
    // The token step reads the context handle header before the identity strip below removes it.
    const v = token.apply(ex);
    ex.headers = o.headers.outbound(ex.headers);
    // A promise only when a token must be fetched (an exchange or a JWT-SVID not cached).
    if (v instanceof Promise) void v.then((answer) => send(ex, d, answer));
    else send(ex, d, v);
  };

  /** Sends the request to `d`, or the token step's answer instead. */
  const send = (ex: Exchange, d: Destination, answer: OutboundAnswer | null): void => {
    if (ex.clientGone) return;
    if (answer !== null) {
      ex.answer(answer);
      return;
    }
    // Upgrades need HTTP/1.1; HTTP/2 requests (gRPC) keep HTTP/2 so trailers survive.
    const useH2 = ex.upgrade === '' && (d.protocol === 'h2' || ex instanceof H2Exchange);
    ex.forwardTo(useH2 ? d.h2 : d.h1);
  };

  const front = new HttpFront({
    direction: 'outbound',
    limits: l,
    metrics: o.metrics,
    logger,
    accessLog: o.accessLog ?? false,
    clock,
    route,
    tracer: o.tracer,
    audit: o.audit,
  });

  const server = net.createServer({ noDelay: true });
  server.maxConnections = l.maxConnections;
  server.on('drop', () => logger.warn({ max_connections: l.maxConnections }, 'connection refused: listener at maxConnections'));
  /** Hands an HTTP connection (paused, its first bytes pushed back) to the front. */
  const acceptHttp = (socket: Socket, h2: boolean, conn: ConnInfo): void => {
    if (h2) {
      front.acceptH2(socket, conn);
    } else {
      front.acceptH1(socket, conn);
      // The sniffer paused the socket; node:http reads the pushed-back bytes once it flows.
      socket.resume();
    }
  };
  /** A connection the app made to this listener itself: HTTP by Host, as without interception. */
  const acceptExplicit = (socket: Socket): void => {
    sniffProtocol(socket, l.headersTimeoutMs, (protocol) => acceptHttp(socket, protocol === 'h2', LOCAL_APP_CONN));
  };
  server.on('connection', (socket) => {
    socket.on('error', noop);
    if (redirected !== undefined) redirected.accept(socket);
    else acceptExplicit(socket);
  });

  const allDestinations = (): Destination[] => [...destinations, ...dialled.values()];
  const closeUpstreams = async (): Promise<void> => {
    await Promise.all([...allDestinations().flatMap((d) => [d.h1.close(), d.h2.close()]), egressHttp?.close()]);
  };

  const destroyUpstreams = (): void => {
    for (const d of allDestinations()) {
      d.h1.destroy();
      d.h2.destroy();
    }
    egressHttp?.destroy();
  };

  return {
    async start() {
      const r = await listenOn(server, o.listen);
      logger.info(
        {
          listen: formatAddress({ host: o.listen.host, port: r.port }),
          upstreams: routeNames,
          transparent: transparent !== undefined,
          ...(redirected !== undefined ? { mesh_cidrs: mesh!.cidrs, classify: true } : {}),
        },
        'outbound listening',
      );
      return r;
    },
    stopAccepting: () => stopListening(server),
    async drain(deadlineMs) {
      await stopListening(server);
      const [r, t] = await Promise.all([front.drain(deadlineMs), tunnels.drain(deadlineMs)]);
      // After a cut, a connection may still wait on a request nobody wants.
      if (r.abandoned > 0) destroyUpstreams();
      else await closeUpstreams();
      return { abandoned: r.abandoned + t.abandoned };
    },
    activeRequests: () => front.activeRequests() + tunnels.size,
    close() {
      if (server.listening) server.close();
      front.destroy();
      tunnels.destroy();
      destroyUpstreams();
    },
  };
}

function noop(): void {}
