import http, { type IncomingMessage, type ServerResponse } from 'node:http';
import http2, { type IncomingHttpHeaders, type ServerHttp2Session, type ServerHttp2Stream } from 'node:http2';
import type { Socket } from 'node:net';
import type { Duplex } from 'node:stream';
import type { Clock, Logger, TimerHandle } from '../core/index.ts';
import type { Direction, ProxyMetrics } from '../metrics/index.ts';
import type { ConnInfo, Exchange } from './exchange.ts';
import { H1Exchange } from './h1-exchange.ts';
import { H2Exchange } from './h2-exchange.ts';
import { acceptsUpgrade } from './hop-by-hop.ts';
import type { ProxyLimits } from './proxy-limits.ts';
import { UpgradeExchange } from './upgrade-exchange.ts';

/** Options of {@link HttpFront}. */
export interface HttpFrontOptions {
  readonly direction: Direction;
  readonly limits: ProxyLimits;
  readonly metrics: ProxyMetrics;
  readonly logger: Logger;
  /** Log one JSON line per request at info. */
  readonly accessLog: boolean;
  readonly clock: Clock;
  /** Decides each request: `ex.reject(...)` or `ex.forwardTo(upstream)`. Must not throw. */
  readonly route: (ex: Exchange) => void;
}

/** Per-session bookkeeping for an HTTP/2 downstream connection. */
export interface H2SessionState {
  readonly conn: ConnInfo;
  /** Streams open on the session (an idle session is closed after idleTimeoutMs). */
  streams: number;
}

const kConn = Symbol('spiffe-sidecar.conn');
const kSession = Symbol('spiffe-sidecar.h2session');
type WithConn = { [kConn]?: ConnInfo };
type WithSession = { [kSession]?: H2SessionState };

/**
 * The HTTP side of a listener: an internal node:http server and an internal
 * node:http2 server that never listen themselves; the listener (TLS for
 * inbound, plain TCP for outbound) hands each accepted, already verified
 * socket to {@link acceptH1} or {@link acceptH2}. It applies the limits,
 * turns requests into Exchanges for the route, tracks connections and
 * in-flight requests, and drains.
 */
export class HttpFront {
  readonly direction: Direction;
  readonly limits: ProxyLimits;
  readonly metrics: ProxyMetrics;
  readonly logger: Logger;
  readonly accessLog: boolean;
  /** True once {@link drain} started: responses close their HTTP/1.1 connection. */
  draining = false;
  readonly #clock: Clock;
  readonly #route: (ex: Exchange) => void;
  readonly #h1: http.Server;
  readonly #h2: http2.Http2Server;
  readonly #sockets = new Set<Socket>();
  readonly #sessions = new Set<ServerHttp2Session>();
  #pendingConn: ConnInfo | undefined;
  #inflight = 0;
  #onSettled: (() => void) | null = null;
  #sweepScheduled = false;

  constructor(o: HttpFrontOptions) {
    this.direction = o.direction;
    this.limits = o.limits;
    this.metrics = o.metrics;
    this.logger = o.logger;
    this.accessLog = o.accessLog;
    this.#clock = o.clock;
    this.#route = o.route;
    const l = o.limits;

    this.#h1 = http.createServer({
      maxHeaderSize: l.maxHeaderBytes,
      headersTimeout: l.headersTimeoutMs,
      // 0: a request body may stream for as long as it keeps moving (gRPC, uploads).
      requestTimeout: 0,
      keepAliveTimeout: l.idleTimeoutMs,
      connectionsCheckingInterval: Math.max(100, Math.min(1000, Math.floor(l.headersTimeoutMs / 4))),
      noDelay: true,
      // Only WebSocket takes the raw-socket path; h2c and any other upgrade
      // are served as ordinary requests (hop-by-hop.ts says why).
      shouldUpgradeCallback: acceptsUpgrade,
    });
    this.#h1.on('request', (req: IncomingMessage, res: ServerResponse) => this.#onRequest(req, res));
    this.#h1.on('upgrade', (req: IncomingMessage, socket: Duplex, head: Buffer) => this.#onUpgrade(req, socket, head));
    this.#h1.on('connect', (_req: IncomingMessage, socket: Duplex) => refuseConnect(socket));
    // Why: node:http tracks connections (and so enforces headersTimeout and
    // answers closeIdleConnections) only after 'listening'. This server never
    // listens (sockets arrive through 'connection'), so start tracking by hand.
    this.#h1.emit('listening');

    this.#h2 = http2.createServer({
      maxHeaderListPairs: 1024,
      settings: { enablePush: false, maxConcurrentStreams: 1000, maxHeaderListSize: l.maxHeaderBytes },
    });
    this.#h2.on('session', (session: ServerHttp2Session) => this.#onSession(session));
    this.#h2.on('stream', (stream: ServerHttp2Stream, headers: IncomingHttpHeaders, _flags: number, raw: string[]) =>
      this.#onStream(stream, headers, raw),
    );
    this.#h2.on('sessionError', (err: Error) => this.logger.debug({ err: err.message }, 'HTTP/2 session error'));
  }

  /** Serves HTTP/1.1 on an accepted socket. */
  acceptH1(socket: Socket, conn: ConnInfo): void {
    if (this.draining) {
      socket.destroy();
      return;
    }
    (socket as WithConn)[kConn] = conn;
    this.#sockets.add(socket);
    socket.once('close', () => {
      this.#sockets.delete(socket);
      this.#settle();
    });
    this.#h1.emit('connection', socket);
  }

  /** Serves HTTP/2 (h2 after ALPN, or h2c with prior knowledge) on an accepted socket. */
  acceptH2(socket: Socket, conn: ConnInfo): void {
    if (this.draining) {
      socket.destroy();
      return;
    }
    // node:http2 creates the session and emits 'session' synchronously
    // inside this emit, so the pending value reaches exactly this session.
    this.#pendingConn = conn;
    try {
      this.#h2.emit('connection', socket);
    } finally {
      this.#pendingConn = undefined;
    }
  }

  /** Requests started and not yet finished. */
  activeRequests(): number {
    return this.#inflight;
  }

  /** Open downstream connections (HTTP/1.1 sockets plus HTTP/2 sessions). */
  connections(): number {
    return this.#sockets.size + this.#sessions.size;
  }

  /**
   * Lets in-flight requests finish: HTTP/1.1 responses carry
   * `Connection: close` and idle connections are closed; HTTP/2 sessions get
   * GOAWAY and close after their last stream. At the deadline everything
   * left is destroyed; resolves with the number of requests cut off.
   */
  drain(deadlineMs: number): Promise<{ abandoned: number }> {
    this.draining = true;
    for (const s of this.#sessions) if (!s.closed) s.close();
    this.#h1.closeIdleConnections();
    return new Promise((resolve) => {
      let timer: TimerHandle | undefined;
      let done = false;
      const finish = (abandoned: number): void => {
        if (done) return;
        done = true;
        timer?.cancel();
        this.#onSettled = null;
        resolve({ abandoned });
      };
      this.#onSettled = () => {
        if (this.#inflight === 0 && this.connections() === 0) finish(0);
      };
      timer = this.#clock.setTimeout(() => {
        const abandoned = this.#inflight;
        this.destroy();
        finish(abandoned);
      }, deadlineMs);
      this.#onSettled();
    });
  }

  /** Destroys every connection now. */
  destroy(): void {
    this.draining = true;
    for (const s of this.#sockets) s.destroy();
    for (const s of this.#sessions) s.destroy();
    this.#h1.closeAllConnections();
    this.#h1.close();
  }

  /** @internal Counted by each Exchange on creation. */
  requestStarted(): void {
    this.#inflight++;
  }

  /** @internal Metrics, access log and drain accounting for a finished request. */
  requestDone(ex: Exchange, seconds: number): void {
    this.#inflight--;
    const peer = this.direction === 'inbound' ? ex.conn.peerId : ex.serverId;
    this.metrics.requestDone(this.direction, ex.method, ex.status, peer, seconds);
    if (this.accessLog) {
      const q = ex.path.indexOf('?');
      // The query is left out: it is where tokens and keys end up in URLs.
      this.logger.info(
        {
          peer_id: peer,
          dst: ex.dst,
          method: ex.method,
          path: q === -1 ? ex.path : ex.path.slice(0, q),
          code: ex.status,
          decision: ex.decision,
          reason: ex.reason,
          duration_ms: Math.round(seconds * 1e6) / 1e3,
        },
        'request',
      );
    }
    this.#settle();
  }

  /** @internal An upstream failure, logged once (security-relevant ones at warn). */
  upstreamError(ex: Exchange, reason: string, err: unknown): void {
    const fields = { dst: ex.dst, method: ex.method, reason, err: err instanceof Error ? err.message : String(err) };
    if (reason === 'identity_mismatch' || reason === 'upstream_tls') this.logger.warn(fields, 'upstream refused');
    else this.logger.debug(fields, 'upstream failed');
  }

  #settle(): void {
    if (!this.draining) return;
    // Let node:http finish its own bookkeeping for the response first, so the
    // connection counts as idle when swept.
    if (!this.#sweepScheduled) {
      this.#sweepScheduled = true;
      setImmediate(() => {
        this.#sweepScheduled = false;
        this.#h1.closeIdleConnections();
        this.#onSettled?.();
      });
    }
    this.#onSettled?.();
  }

  #onRequest(req: IncomingMessage, res: ServerResponse): void {
    const conn = (req.socket as WithConn)[kConn];
    if (conn === undefined) {
      res.destroy();
      return;
    }
    this.#dispatch(new H1Exchange(this, conn, req, res));
  }

  #onUpgrade(req: IncomingMessage, socket: Duplex, head: Buffer): void {
    const conn = (socket as WithConn)[kConn];
    if (conn === undefined) {
      socket.destroy();
      return;
    }
    this.#dispatch(new UpgradeExchange(this, conn, req, socket, head));
  }

  #onSession(session: ServerHttp2Session): void {
    const conn = this.#pendingConn;
    if (conn === undefined) {
      session.destroy();
      return;
    }
    const state: H2SessionState = { conn, streams: 0 };
    (session as WithSession)[kSession] = state;
    this.#sessions.add(session);
    session.on('error', (err) => this.logger.debug({ err: err.message }, 'HTTP/2 session error'));
    session.setTimeout(this.limits.idleTimeoutMs, () => {
      if (state.streams === 0) session.close();
    });
    session.once('close', () => {
      this.#sessions.delete(session);
      this.#settle();
    });
  }

  #onStream(stream: ServerHttp2Stream, headers: IncomingHttpHeaders, raw: string[]): void {
    const state = (stream.session as WithSession | undefined)?.[kSession];
    if (state === undefined) {
      stream.close(http2.constants.NGHTTP2_REFUSED_STREAM);
      return;
    }
    const ex = new H2Exchange(this, state.conn, state, stream, headers, raw);
    // node:http2 does not enforce its own header-list limit on what it
    // receives, so the listener's limit is checked here.
    if (ex.headerBytes > this.limits.maxHeaderBytes) {
      ex.reject(431, 'request header fields too large', 'header_too_large');
      return;
    }
    if (ex.method === 'CONNECT') {
      ex.reject(405, 'CONNECT is not supported: this sidecar forwards requests only to configured destinations', 'connect_refused');
      return;
    }
    this.#dispatch(ex);
  }

  #dispatch(ex: Exchange): void {
    try {
      this.#route(ex);
    } catch (err) {
      this.logger.error({ err: err instanceof Error ? err.message : String(err) }, 'route failed');
      ex.reject(500, 'internal error in the sidecar', 'internal');
    }
  }
}

/** Answers an HTTP/1.1 CONNECT: this is not a forward proxy (outbound) nor a tunnel endpoint (inbound). */
function refuseConnect(socket: Duplex): void {
  socket.on('error', () => {});
  const body = 'CONNECT is not supported: this sidecar forwards requests only to configured destinations\n';
  socket.end(
    `HTTP/1.1 405 Method Not Allowed\r\ncontent-type: text/plain; charset=utf-8\r\nconnection: close\r\ncontent-length: ${body.length}\r\n\r\n${body}`,
  );
}
