import type { TLSSocket } from 'node:tls';
import { describeError, silentLogger, systemClock, type Clock, type Logger } from '../core/index.ts';
import { callerIdentity, type IdentityHeaders } from '../headers/index.ts';
import type { ProxyMetrics } from '../metrics/index.ts';
import { evaluate, normalizePath, type Policy } from '../policy/index.ts';
import type { SpiffeId } from '../spiffe/index.ts';
import type { X509SvidSource } from '../svid/index.ts';
import type { PeerIdentity, X509BundleSetProvider } from '../tls/index.ts';
import {
  H1Pool,
  H2Upstream,
  HttpFront,
  TcpDialer,
  formatHostPort,
  listenOn,
  stopListening,
  type ConnInfo,
  type Exchange,
  type HostPort,
  type ProxyLimits,
  type ProxyListener,
  type Upstream,
} from '../forward/index.ts';
import { AppSelector } from './app-ports.ts';
import { createMtlsListener } from './mtls-listener.ts';

/** Options of {@link createInbound}. */
export interface InboundOptions {
  /** Where callers (peer sidecars) connect with mTLS. */
  readonly listen: HostPort;
  /** The local app. */
  readonly app: HostPort;
  /** How the app speaks: HTTP/1.1, or HTTP/2 without TLS (gRPC servers). */
  readonly appProtocol: 'http1' | 'h2c';
  /**
   * Further apps chosen by the port in the request's Host / :authority
   * (e.g. gRPC on 9090 beside HTTP on 8080); other requests go to `app`.
   * Chosen after authentication; the same policy applies to every port.
   */
  readonly appPorts?: readonly InboundAppPortOptions[] | undefined;
  /** Our SVID, presented to callers; read at every handshake. */
  readonly svidSource: X509SvidSource;
  /** Every trust domain we accept callers from. */
  readonly bundleSource: X509BundleSetProvider;
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
  readonly metrics: ProxyMetrics;
  readonly limits: ProxyLimits;
  readonly logger?: Logger;
  /** One info line per request (peer_id, dst, method, path, code, decision, reason, duration_ms). */
  readonly accessLog?: boolean;
  /** Time for certificate expiry checks and the drain deadline. */
  readonly clock?: Clock;
}

/** One entry of {@link InboundOptions.appPorts}. */
export interface InboundAppPortOptions {
  /** The port callers address. */
  readonly port: number;
  readonly app: HostPort;
  readonly appProtocol: 'http1' | 'h2c';
}

/** Human words for the policy's deny reasons, for the 403 body. */
const DENY_TEXT: Readonly<Record<string, string>> = {
  caller_not_listed: 'caller is not allowed by the inbound policy',
  no_matching_rule: 'no inbound policy rule allows this request',
};

/**
 * The inbound HTTP proxy: accepts mTLS from peer sidecars (h2 and
 * http/1.1 on one port by ALPN), authorizes each request with the policy on
 * the normalised path, replaces the caller-identity headers, and forwards
 * to the local app (keep-alive HTTP/1.1 pool or one h2c session).
 *
 * Denied requests never reach the app: 403 with a short reason (400 for a
 * path that cannot be normalised), counted with metrics.authzDecision and
 * logged with the peer ID. App down → 503, app too slow → 504.
 */
export function createInbound(o: InboundOptions): ProxyListener {
  const logger = (o.logger ?? silentLogger).child({ component: 'inbound' });
  const clock = o.clock ?? systemClock;
  const dst = formatHostPort(o.app);
  const upstreamFor = (address: HostPort, protocol: 'http1' | 'h2c'): Upstream => {
    const dialer = new TcpDialer(address, o.limits.connectTimeoutMs);
    const name = formatHostPort(address);
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
  const apps = new AppSelector(
    upstreamFor(o.app, o.appProtocol),
    new Map((o.appPorts ?? []).map((a) => [a.port, upstreamFor(a.app, a.appProtocol)] as const)),
  );

  const route = (ex: Exchange): void => {
    const conn = ex.conn;
    const d = evaluate(o.policy(), { peerId: conn.peer!, method: ex.method, path: ex.path });
    if (!d.allow) {
      ex.decision = 'deny';
      o.metrics.authzDecision('deny', conn.peerId);
      logger.info({ peer_id: conn.peerId, method: ex.method, decision: 'deny', reason: d.reason, detail: d.detail }, 'request denied');
      if (d.reason === 'bad_path') {
        const n = normalizePath(ex.path);
        ex.reject(400, `bad request path: ${n.ok ? 'refused' : n.reason}`, d.reason);
      } else {
        ex.reject(403, `forbidden: ${DENY_TEXT[d.reason] ?? d.reason}`, d.reason);
      }
      return;
    }
    if (ex.upgrade !== '' && o.webSocket !== true) {
      ex.decision = 'deny';
      o.metrics.authzDecision('deny', conn.peerId);
      ex.reject(403, 'forbidden: WebSocket is not permitted on this listener (inbound.webSocket)', 'upgrade_not_allowed');
      return;
    }
    ex.decision = 'allow';
    o.metrics.authzDecision('allow', conn.peerId);
    // The app gets exactly the path that was authorized (policy/normalize-path.ts).
    if (d.forwardTarget !== undefined) ex.target = d.forwardTarget;
    ex.headers = o.headers.inbound(ex.headers, conn.caller!);
    ex.forwardTo(apps.pick(ex.authority));
  };

  const front = new HttpFront({ direction: 'inbound', limits: o.limits, metrics: o.metrics, logger, accessLog: o.accessLog ?? false, clock, route });

  const onPeer = (socket: TLSSocket, peer: PeerIdentity): void => {
    let conn: ConnInfo;
    try {
      const r = callerIdentity({ id: peer.id, leafSha256Hex: peer.leafSha256Hex }, o.localId());
      if (!r.ok) throw r.error;
      conn = { peer: peer.id, peerId: peer.id.toString(), caller: r.identity };
    } catch (err) {
      logger.error({ peer_id: peer.id.toString(), err: describeError(err) }, 'cannot build caller identity; closing connection');
      socket.destroy();
      return;
    }
    socket.setNoDelay(true);
    o.metrics.connectionOpened('inbound');
    socket.once('close', () => o.metrics.connectionClosed('inbound'));
    if (socket.alpnProtocol === 'h2') front.acceptH2(socket, conn);
    else front.acceptH1(socket, conn);
  };

  const server = createMtlsListener({
    svidSource: o.svidSource,
    bundleSource: o.bundleSource,
    alpn: ['h2', 'http/1.1'],
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
          listen: formatHostPort({ host: o.listen.host, port: r.port }),
          app: dst,
          app_protocol: o.appProtocol,
          ...(o.appPorts?.length ? { app_ports: o.appPorts.map((a) => `${a.port}=${formatHostPort(a.app)}/${a.appProtocol}`) } : {}),
        },
        'inbound listening',
      );
      return r;
    },
    stopAccepting: () => stopListening(server),
    async drain(deadlineMs) {
      await stopListening(server);
      const r = await front.drain(deadlineMs);
      // After a cut, a connection may still wait on a request nobody wants.
      if (r.abandoned > 0) for (const a of apps.all()) a.destroy();
      else await Promise.all(apps.all().map((a) => a.close()));
      return r;
    },
    activeRequests: () => front.activeRequests(),
    close() {
      if (server.listening) server.close();
      front.destroy();
      for (const a of apps.all()) a.destroy();
    },
  };
}
