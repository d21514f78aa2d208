import type { Socket } from 'node:net';
import type { TLSSocket } from 'node:tls';
import { describeError, formatAddress, silentLogger, systemClock, type Address, type Clock, type Logger, type ProxyLimits } from '../core/index.ts';
import { InboundEnforcement, type EnforcementObserver, type InboundEnforcementOptions, type LocalAnswer, type RequestAuthenticator } from '../enforcement/index.ts';
import { callerIdentity, type IdentityHeaders } from '../headers/index.ts';
import type { ProxyMetrics } from '../metrics/index.ts';
import type { Policy } from '../policy/index.ts';
import type { SpiffeId } from '../spiffe/index.ts';
import type { X509SvidSource } from '../svid/index.ts';
import type { Credentials, PeerIdentity, X509BundleSetProvider } from '../tls/index.ts';
import {
  H1Pool,
  H2Upstream,
  HttpFront,
  TcpDialer,
  TunnelSet,
  listenOn,
  stopListening,
  type ConnInfo,
  type Exchange,
  type ProxyListener,
  type UpstreamPool,
} from '../forward/index.ts';
import type { ExchangeTracer, RequestAuditSink } from '../forward/index.ts';
import { AppSelector } from './app-ports.ts';
import { createMtlsListener } from './mtls-listener.ts';
import { OpaqueInbound, inboundAlpn } from './opaque-detect.ts';
import { OriginalPortApps } from './original-port-apps.ts';
import { acceptTunnel } from './tcp-inbound.ts';

/** Options of {@link createInbound}. */
export interface InboundOptions {
  /** Where callers (peer sidecars) connect with mTLS. */
  readonly listen: Address;
  /** The local app. */
  readonly app: Address;
  /** How the app speaks: HTTP/1.1, or HTTP/2 without TLS (gRPC servers). */
  readonly appProtocol: 'http1' | 'h2c';
  /**
   * Further apps chosen by the port in the request's Host / :authority
   * (e.g. gRPC on 9090 beside HTTP on 8080); other requests go to `app`.
   * Chosen after authentication; the same policy applies to every port.
   */
  readonly appPorts?: readonly InboundAppPortOptions[] | undefined;
  /** The process's credentials home: its SVID is presented, its bundles verify callers, its change event swaps the context. */
  readonly credentials?: Credentials | undefined;
  /** Without `credentials`: our SVID, presented to callers; read at every handshake. */
  readonly svidSource?: X509SvidSource | undefined;
  /** Without `credentials`: every trust domain we accept callers from. */
  readonly bundleSource?: X509BundleSetProvider | undefined;
  /** Our own SPIFFE ID (the XFCC `By=`). */
  readonly localId: () => SpiffeId;
  /**
   * Whether callers may open WebSockets to the app. Default false: after
   * the 101 the connection is an uninspected tunnel (docs/security.md).
   */
  readonly webSocket?: boolean | undefined;
  /** The current policy; called per request, so a reload applies to the next request. */
  readonly policy: () => Policy;
  readonly headers: IdentityHeaders;
  /** End-user token authentication; absent: tokens are neither checked nor stripped. */
  readonly authenticator?: RequestAuthenticator | undefined;
  /** Keep the end user's credential for the app (default false). */
  readonly forwardToken?: boolean | undefined;
  /** Context handles issued to the app (InboundEnforcementOptions.contextHandles); none when absent. */
  readonly contextHandles?: InboundEnforcementOptions['contextHandles'];
  /** Records connection decisions of opaque ports (the audit log). */
  readonly connectionSink?: InboundEnforcementOptions['connections'];
  /**
   * Request headers removed before the app besides the identity headers:
   * method-override and original-URL headers by default, so the app runs
   * the method and path that were authorized (docs/security.md).
   */
  readonly stripRequestHeaders?: readonly string[] | undefined;
  /** Token, dry-run and refusal counters. */
  readonly enforcementObserver?: EnforcementObserver | undefined;
  readonly metrics: ProxyMetrics;
  readonly limits: ProxyLimits;
  readonly logger?: Logger;
  /** One info line per request (peer_id, dst, method, path, code, decision, rule, reason, subject, client_id, duration_ms; never the query). */
  readonly accessLog?: boolean;
  /** A span per request (sidecar/tracing); absent or null when tracing is off. */
  readonly tracer?: ExchangeTracer | null | undefined;
  /** Where each decision's audit line goes (docs/audit-log.md); none when absent. */
  readonly audit?: RequestAuditSink | null | undefined;
  /** Time for certificate expiry checks and the drain deadline. */
  readonly clock?: Clock;
  /**
   * Transparent inbound: the port a redirected connection was originally
   * dialled on (sidecar/transparent), or undefined when it was not
   * redirected. When given, that port picks the app (see
   * OriginalPortApps); without it, apps are chosen by Host.
   */
  readonly originalPort?: ((socket: Socket) => number | undefined) | undefined;
  /** Original ports joined to the app as raw TCP after the connection check (with originalPort only). */
  readonly opaquePorts?: readonly number[] | undefined;
  /** The sidecar's own listener ports, refused as original ports. */
  readonly reservedPorts?: readonly number[] | undefined;
}

/** One entry of {@link InboundOptions.appPorts}. */
export interface InboundAppPortOptions {
  /** The port callers address. */
  readonly port: number;
  readonly app: Address;
  readonly appProtocol: 'http1' | 'h2c';
}

/**
 * The inbound HTTP proxy: accepts mTLS from peer sidecars (h2 and
 * http/1.1 on one port by ALPN), has each request decided by the
 * enforcement stage (token, policy on the normalised path, identity
 * headers), and forwards the allowed ones to the local app (keep-alive
 * HTTP/1.1 pool or one h2c session).
 *
 * Refused requests never reach the app: the stage's local answer
 * (sidecar/enforcement/local-answer.ts), counted with
 * metrics.authzDecision. App down → 503, app too slow → 504.
 */
export function createInbound(o: InboundOptions): ProxyListener {
  const logger = (o.logger ?? silentLogger).child({ component: 'inbound' });
  const clock = o.clock ?? systemClock;
  const dst = formatAddress(o.app);
  const upstreamFor = (address: Address, protocol: 'http1' | 'h2c'): UpstreamPool => {
    const dialer = new TcpDialer(address, o.limits.connectTimeoutMs);
    const name = formatAddress(address);
    return protocol === 'h2c'
      ? new H2Upstream({ dialer, scheme: 'http', dst: name, maxHeaderBytes: o.limits.maxHeaderBytes, logger })
      : new H1Pool({
          dialer,
          dst: name,
          maxConnections: o.limits.maxConnections,
          idleTimeoutMs: o.limits.idleTimeoutMs,
          requestTimeoutMs: o.limits.requestTimeoutMs,
          maxHeaderBytes: o.limits.maxHeaderBytes,
        });
  };
  const defaultUpstream = upstreamFor(o.app, o.appProtocol);
  const byPort = new Map((o.appPorts ?? []).map((a) => [a.port, upstreamFor(a.app, a.appProtocol)] as const));
  const apps = new AppSelector(defaultUpstream, byPort);

  const enforcement = new InboundEnforcement({
    policy: o.policy,
    headers: o.headers,
    authenticator: o.authenticator,
    forwardToken: o.forwardToken,
    webSocket: o.webSocket,
    contextHandles: o.contextHandles,
    connections: o.connectionSink,
    observer: o.enforcementObserver,
    logger,
  });

  // Transparent inbound: the app of each connection, by its original port.
  const tunnels = new TunnelSet(clock);
  const originalPorts =
    o.originalPort === undefined
      ? undefined
      : new OriginalPortApps({
          originalPort: o.originalPort,
          app: o.app,
          appProtocol: o.appProtocol,
          appPorts: byPort,
          defaultUpstream,
          opaquePorts: o.opaquePorts ?? [],
          reservedPorts: o.reservedPorts ?? [],
          upstreamFor,
          authorizeCaller: (peerId, peerAddress) => enforcement.decideConnection(peerId, peerAddress, 'opaque port'),
          connectTimeoutMs: o.limits.connectTimeoutMs,
          tunnels,
          metrics: o.metrics,
          logger,
        });
  // Opaque TCP streams from peer outbounds (ALPN spiffe-sidecar-opaque/1; docs/decisions/014-outbound-classification.md).
  const opaque =
    o.originalPort === undefined
      ? undefined
      : new OpaqueInbound({
          originalPort: o.originalPort,
          appHost: o.app.host,
          opaquePorts: o.opaquePorts ?? [],
          reservedPorts: o.reservedPorts ?? [],
          authorizeCaller: (peerId, peerAddress) => enforcement.decideConnection(peerId, peerAddress, 'opaque stream'),
          connectTimeoutMs: o.limits.connectTimeoutMs,
          firstBytesTimeoutMs: o.limits.headersTimeoutMs,
          tunnels,
          metrics: o.metrics,
          logger,
          clock,
        });
  const connApp = new WeakMap<ConnInfo, UpstreamPool>();
  const allApps = (): UpstreamPool[] => [...apps.all(), ...(originalPorts?.upstreams() ?? [])];

  /** Sends the stage's verdict: the local answer, or the request to the app with the rewritten head. */
  const apply = (ex: Exchange, answer: LocalAnswer | null): void => {
    if (ex.clientGone) return;
    if (answer !== null) {
      o.metrics.authzDecision('deny', ex.conn.peerId);
      ex.answer(answer);
      return;
    }
    o.metrics.authzDecision('allow', ex.conn.peerId);
    ex.forwardTo(connApp.get(ex.conn) ?? apps.pick(ex.authority));
  };

  const route = (ex: Exchange): void => {
    const v = enforcement.decide(ex);
    // A promise only when the token needed I/O (a key or introspection fetch).
    if (v instanceof Promise) void v.then((answer) => apply(ex, answer));
    else apply(ex, v);
  };

  const front = new HttpFront({
    direction: 'inbound',
    stripRequestHeaders: o.stripRequestHeaders,
    limits: o.limits,
    metrics: o.metrics,
    logger,
    accessLog: o.accessLog ?? false,
    clock,
    route,
    tracer: o.tracer,
    audit: o.audit,
  });

  const onPeer = (socket: TLSSocket, peer: PeerIdentity): void => {
    if (opaque?.claims(socket)) return opaque.accept(socket, peer, onPeer);
    const byOriginal = originalPorts?.route(socket);
    if (byOriginal?.kind === 'refuse') {
      logger.warn({ peer_id: peer.id.toString(), original_port: byOriginal.port, reason: byOriginal.reason }, 'redirected connection refused');
      socket.destroy();
      return;
    }
    if (byOriginal?.kind === 'opaque') return acceptTunnel(socket, peer, byOriginal.end);
    let conn: ConnInfo;
    try {
      const r = callerIdentity({ id: peer.id, leafSha256Hex: peer.leafSha256Hex }, o.localId());
      if (!r.ok) throw r.error;
      conn = { peer: peer.id, peerId: peer.id.toString(), caller: r.identity, peerCertSha256Hex: peer.leafSha256Hex, peerAddress: socket.remoteAddress };
    } catch (err) {
      logger.error({ peer_id: peer.id.toString(), err: describeError(err) }, 'cannot build caller identity; closing connection');
      socket.destroy();
      return;
    }
    if (byOriginal?.kind === 'http') connApp.set(conn, byOriginal.upstream);
    socket.setNoDelay(true);
    o.metrics.connectionOpened('inbound');
    socket.once('close', () => o.metrics.connectionClosed('inbound'));
    if (socket.alpnProtocol === 'h2') front.acceptH2(socket, conn);
    else front.acceptH1(socket, conn);
  };

  const server = createMtlsListener({
    credentials: o.credentials,
    svidSource: o.svidSource,
    bundleSource: o.bundleSource,
    alpn: inboundAlpn(o.originalPort !== undefined),
    limits: o.limits,
    metrics: o.metrics,
    logger,
    clock,
    onPeer,
  });

  return {
    async start() {
      const r = await listenOn(server, o.listen);
      logger.info(
        {
          listen: formatAddress({ host: o.listen.host, port: r.port }),
          app: dst,
          app_protocol: o.appProtocol,
          ...(o.appPorts?.length ? { app_ports: o.appPorts.map((a) => `${a.port}=${formatAddress(a.app)}/${a.appProtocol}`) } : {}),
        },
        'inbound listening',
      );
      return r;
    },
    stopAccepting: () => stopListening(server),
    async drain(deadlineMs) {
      await stopListening(server);
      const [r, t] = await Promise.all([front.drain(deadlineMs), tunnels.drain(deadlineMs)]);
      // After a cut, a connection may still wait on a request nobody wants.
      if (r.abandoned > 0) for (const a of allApps()) a.destroy();
      else await Promise.all(allApps().map((a) => a.close()));
      return { abandoned: r.abandoned + t.abandoned };
    },
    activeRequests: () => front.activeRequests() + tunnels.size,
    close() {
      if (server.listening) server.close();
      front.destroy();
      tunnels.destroy();
      for (const a of allApps()) a.destroy();
    },
  };
}
