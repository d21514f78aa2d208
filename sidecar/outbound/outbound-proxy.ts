import net from 'node:net';
import { silentLogger, systemClock, type Clock, type Logger } from '../core/index.ts';
import type { IdentityHeaders } from '../headers/index.ts';
import type { ProxyMetrics } from '../metrics/index.ts';
import { quoteUntrusted, type IdMatcher } from '../spiffe/index.ts';
import type { X509SvidSource } from '../svid/index.ts';
import { SecureContextStore, type X509BundleSetProvider } from '../tls/index.ts';
import {
  H1Pool,
  H2Exchange,
  H2Upstream,
  HttpFront,
  LOCAL_APP_CONN,
  MtlsDialer,
  formatHostPort,
  listenOn,
  sniffProtocol,
  stopListening,
  type Exchange,
  type HostPort,
  type ProxyLimits,
  type ProxyListener,
} from '../forward/index.ts';
import { RouteTable, parseAuthority } from './route-table.ts';

/** One destination the app may call through the outbound listener. */
export interface OutboundUpstreamOptions {
  /** The host the app addresses (Host / :authority), e.g. `backend` or `backend:8080`. */
  readonly host: string;
  /** Only this port matches when set; default: taken from `host` if it has one, else any port. */
  readonly port?: number | null;
  /** The peer sidecar's inbound listener. */
  readonly address: HostPort;
  /** Which server SPIFFE IDs are acceptable; anything else is 502 with both IDs named. */
  readonly server: IdMatcher;
  /**
   * What the sidecars speak inside mTLS. 'http1': HTTP/1.1 requests use a
   * keep-alive pool and HTTP/2 requests (gRPC) keep HTTP/2; 'h2': every
   * request but upgrades goes over one multiplexed HTTP/2 session.
   */
  readonly protocol: 'http1' | 'h2';
}

/** Options of {@link createOutbound}. */
export interface OutboundOptions {
  /** The local listener the app sends plain HTTP/1.1 or h2c to (keep it on loopback). */
  readonly listen: HostPort;
  readonly upstreams: readonly OutboundUpstreamOptions[];
  /** Our SVID, presented to peers; read for every new connection. */
  readonly svidSource: X509SvidSource;
  readonly bundleSource: X509BundleSetProvider;
  readonly headers: IdentityHeaders;
  readonly metrics: ProxyMetrics;
  readonly limits: ProxyLimits;
  readonly logger?: Logger;
  readonly accessLog?: boolean;
  readonly clock?: Clock;
}

/** The connections to one configured upstream. */
interface Destination {
  readonly name: string;
  readonly protocol: 'http1' | 'h2';
  readonly h1: H1Pool;
  readonly h2: H2Upstream;
}

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
 */
export function createOutbound(o: OutboundOptions): ProxyListener {
  const logger = (o.logger ?? silentLogger).child({ component: 'outbound' });
  const clock = o.clock ?? systemClock;
  const l = o.limits;
  // One store for every upstream: a rotation rebuilds one context, and every
  // pool sees the new generation at once.
  const store = new SecureContextStore({ svidSource: o.svidSource, bundleSource: o.bundleSource });
  const dial = (u: OutboundUpstreamOptions, alpn: 'h2' | 'http/1.1'): MtlsDialer =>
    new MtlsDialer({
      address: u.address,
      server: u.server,
      svidSource: o.svidSource,
      bundleSource: o.bundleSource,
      store,
      alpn,
      connectTimeoutMs: l.connectTimeoutMs,
      metrics: o.metrics,
      clock,
    });

  const destinations: Destination[] = [];
  const entries = o.upstreams.map((u) => {
    const parsed = u.port === undefined ? parseAuthority(u.host) : undefined;
    const host = parsed?.host ?? u.host.toLowerCase();
    const port = u.port !== undefined ? u.port : (parsed?.port ?? null);
    const name = port === null ? host : `${host}:${port}`;
    const d: Destination = {
      name,
      protocol: u.protocol,
      h1: new H1Pool({
        dialer: dial(u, 'http/1.1'),
        dst: name,
        maxConnections: l.maxConnections,
        idleTimeoutMs: l.idleTimeoutMs,
        requestTimeoutMs: l.requestTimeoutMs,
        maxHeaderBytes: l.maxHeaderBytes,
      }),
      h2: new H2Upstream({ dialer: dial(u, 'h2'), scheme: 'https', dst: name, maxHeaderBytes: l.maxHeaderBytes, logger }),
    };
    destinations.push(d);
    return { host, port, value: d };
  });
  const routes = new RouteTable(entries);

  const route = (ex: Exchange): void => {
    if (ex.path.charCodeAt(0) !== 0x2f) {
      // Absolute-form (`GET http://elsewhere/`) is how an open forward proxy
      // is used; the app must address a configured host by Host instead.
      ex.reject(400, `request target ${quoteUntrusted(ex.path, 100)} refused: only origin-form targets ("/path") are forwarded, this sidecar is not a forward proxy`, 'absolute_form');
      return;
    }
    const d = routes.lookup(ex.authority);
    if (d === undefined) {
      const host = ex.authority === '' ? 'no Host header' : `host ${quoteUntrusted(ex.authority, 100)}`;
      ex.reject(404, `${host}: not a configured upstream of this sidecar`, 'unknown_host');
      return;
    }
    ex.headers = o.headers.outbound(ex.headers);
    // Upgrades need HTTP/1.1; HTTP/2 requests (gRPC) keep HTTP/2 so trailers survive.
    const useH2 = ex.upgrade === '' && (d.protocol === 'h2' || ex instanceof H2Exchange);
    ex.forwardTo(useH2 ? d.h2 : d.h1);
  };

  const front = new HttpFront({ direction: 'outbound', limits: l, metrics: o.metrics, logger, accessLog: o.accessLog ?? false, clock, route });

  const server = net.createServer({ noDelay: true });
  server.maxConnections = l.maxConnections;
  server.on('drop', () => logger.warn({ max_connections: l.maxConnections }, 'connection refused: listener at maxConnections'));
  server.on('connection', (socket) => {
    socket.on('error', noop);
    sniffProtocol(socket, l.headersTimeoutMs, (protocol) => {
      if (protocol === 'h2') {
        front.acceptH2(socket, LOCAL_APP_CONN);
      } else {
        front.acceptH1(socket, LOCAL_APP_CONN);
        // The sniffer paused the socket; node:http reads the pushed-back bytes once it flows.
        socket.resume();
      }
    });
  });

  const closeUpstreams = async (): Promise<void> => {
    await Promise.all(destinations.flatMap((d) => [d.h1.close(), d.h2.close()]));
  };

  const destroyUpstreams = (): void => {
    for (const d of destinations) {
      d.h1.destroy();
      d.h2.destroy();
    }
  };

  return {
    async start() {
      const r = await listenOn(server, o.listen);
      logger.info({ listen: formatHostPort({ host: o.listen.host, port: r.port }), upstreams: destinations.map((d) => d.name) }, 'outbound listening');
      return r;
    },
    stopAccepting: () => stopListening(server),
    async drain(deadlineMs) {
      await stopListening(server);
      const r = await front.drain(deadlineMs);
      // After a cut, a connection may still wait on a request nobody wants.
      if (r.abandoned > 0) destroyUpstreams();
      else await closeUpstreams();
      return r;
    },
    activeRequests: () => front.activeRequests(),
    close() {
      if (server.listening) server.close();
      front.destroy();
      destroyUpstreams();
    },
  };
}

function noop(): void {}
